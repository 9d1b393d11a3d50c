"""Project 05: a classifier for any tabular CSV file, and ``backprop-lab predict`` for new rows.

``backprop-lab run tabular --csv FILE --target COLUMN`` reads the file, infers which columns are numeric and
which categorical, label-encodes the target, one-hot encodes the categorical features, imputes missing
values and standardizes the numeric features with statistics of the training rows only (see
:mod:`projects.datasets.tabular`), splits the rows in a stratified way and trains an MLP (Tensor engine) with
the softmax cross-entropy loss L = -log p_y. It reports the test accuracy, each class's precision
(of the rows predicted as c, the share that are c) and recall (of the rows that are c, the share predicted
as c), and the confusion matrix; it saves the model (weights ``.npz`` and preprocessing JSON, no pickle) in
``out_dir/model`` so that ``backprop-lab predict --model DIR --csv NEW.csv`` labels new rows.

Without ``--csv`` it runs on the Palmer penguins shipped in the package: species from island, bill, flipper,
body mass, sex and year.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd import Tensor, cross_entropy, no_grad
from autograd.errors import UsageError
from autograd.files import atomic_open, write_npz, write_text
from autograd.nn import MLP
from autograd.optim import Adam
from projects.datasets import EMBEDDED
from projects.datasets.csv_table import Table, read_csv, split_names
from projects.datasets.tabular import Preprocessor, encode_target, infer_kinds, stratified_split
from projects.lab.config import RunConfig, check_bounds, check_layer_sizes, option
from projects.lab.model_files import load_mlp, read_json
from projects.lab.training import History, fit
from projects.plots.data import plot_class_bars
from viz.plots import confusion_matrix, plot_confusion_matrix, plot_curves

PENGUINS = EMBEDDED / "penguins.csv"
PENGUINS_TARGET = "species"
WEIGHTS_FILE = "weights.npz"
PREPROCESSING_FILE = "preprocessing.json"
MODEL_FILE = "model.json"


@dataclass
class Config(RunConfig):
    """Settings of project 05 (each field is a flag: ``test_fraction`` is ``--test-fraction``)."""

    csv: str | None = option(None, "The CSV file (default: the Palmer penguins shipped in the package).")
    target: str | None = option(None, "The column to predict (default with the penguins: species).")
    categorical: str | None = option(
        None, "Comma-separated columns to treat as categorical even when their values are numbers (codes)."
    )
    test_fraction: float = option(0.25, "Share of each class held out for testing.")
    hidden: tuple[int, ...] = option(
        (16,), 'Hidden layer sizes, comma-separated ("" for a linear model).', low=1, high=1024, max_len=8
    )
    epochs: int = option(100, "Passes over the training rows.", quick=30, low=1, high=10_000)
    batch_size: int = option(32, "Rows per AdamW step.", low=1, high=100_000)
    lr: float = option(5e-3, "AdamW's learning rate (weight decay 1e-4).")
    max_categories: int = option(
        30,
        "Text columns with more distinct values than this are dropped (names, identifiers), and said.",
        low=1,
        high=1000,
    )
    run_dir: Path | None = option(
        None,
        "Where the runner puts this run's folder when it is done (filled in by the runner; None: out_dir).",
    )


EXPLANATION = """\
# 05 Any tabular CSV

A small MLP learns to predict one column of a table from the others. By default: the species of 344 Palmer
penguins from their island, bill length and depth, flipper length, body mass, sex and year.

How the table becomes numbers (all statistics come from the training rows only, so the test rows stay unseen):
columns whose values are all numbers are numeric: a missing value is replaced by the training median, then
each column is standardized, (x - mean) / std. Other columns are categorical: a missing value becomes the
most frequent training category, then each category gets its own 0/1 input (one-hot). A category that never
appeared in training (at prediction time, say) is encoded as none of the known categories, and the output
says so. The target's classes are numbered 0..K-1 (label encoding), and the rows are split *stratified*:
each class contributes the same share of its rows to the test set.

* `curves.png`: the training loss (mean over each epoch's batches) and the test loss by epoch.
* `confusion_matrix.png`: row = true class, column = predicted class, over the test rows.
* `precision_recall.png`: for each class, precision (of the rows predicted as this class, the share that
  really are) and recall (of the rows of this class, the share found).

The trained model and its preprocessing are saved in `model/` (weights as `.npz`, the rest as JSON); label
new rows with `backprop-lab predict --model runs/05-tabular/model --csv NEW.csv`.
"""


# ---- model files -------------------------------------------------------------------------------------------


def save_model(folder: Path, model: MLP, preprocessor: Preprocessor) -> Path:
    """Write ``weights.npz``, ``preprocessing.json`` and ``model.json`` (sizes, activation) in ``folder``."""
    write_npz(folder / WEIGHTS_FILE, model.state_dict())
    write_text(folder / PREPROCESSING_FILE, preprocessor.dumps())
    write_text(folder / MODEL_FILE, json.dumps({"sizes": model.sizes, "activation": model.activation}) + "\n")
    return folder


def load_model(folder: str | Path) -> tuple[MLP, Preprocessor]:
    """Read a model folder written by :func:`save_model` (arrays and JSON only: nothing is executed), every
    size checked before anything is allocated (:func:`projects.lab.model_files.load_mlp`), the
    preprocessing statistics finite (a standard deviation > 0) and fitting the model's inputs and classes."""
    folder = Path(folder).expanduser()
    what = f"--model {folder}"
    if not folder.is_dir():
        raise UsageError(f"{what}: no such folder")
    model, _ = load_mlp(folder, what)
    preprocessor = Preprocessor.from_json(
        read_json(folder / PREPROCESSING_FILE, what), str(folder / PREPROCESSING_FILE)
    )
    if model.sizes[0] != len(preprocessor.feature_names()) or model.sizes[-1] != len(preprocessor.classes):
        raise UsageError(f"{what}: the weights do not fit the preprocessing (different runs?)")
    return model, preprocessor


def probabilities(model: MLP, X: np.ndarray) -> np.ndarray:
    """softmax(z)_k = e^{z_k - m} / sum_j e^{z_j - m} (m = max_j z_j) for each row's logits z."""
    with no_grad():
        logits = model(Tensor(X)).data
        return Tensor(logits, dtype=np.float64).softmax(axis=1).data


# ---- metrics -----------------------------------------------------------------------------------------------


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """precision_c = M[c, c] / sum_i M[i, c] (its column), recall_c = M[c, c] / sum_j M[c, j] (its row);
    0 for an empty row or column."""
    diagonal = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(diagonal, predicted, out=np.zeros_like(diagonal), where=predicted > 0)
    recall = np.divide(diagonal, actual, out=np.zeros_like(diagonal), where=actual > 0)
    return precision, recall


# ---- run ---------------------------------------------------------------------------------------------------


def _check_config(config: Config) -> None:
    for name in ("epochs", "batch_size", "max_categories"):
        if getattr(config, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(config, name)})")
    if not (config.lr > 0 and math.isfinite(config.lr)):
        raise UsageError(f"--lr must be a positive number (got {config.lr})")
    check_layer_sizes(config.hidden, allow_empty=True)
    check_bounds(config)


def read_table(config: Config) -> tuple[str, str, Table]:
    """The CSV (the penguins by default), its target column (checked) and its rows."""
    path = config.csv or str(PENGUINS)
    target = config.target or (PENGUINS_TARGET if config.csv is None else None)
    table = read_csv(path)
    if target is None:
        raise UsageError(
            f"--target COLUMN is required with --csv; the columns are: {', '.join(table.columns)}"
        )
    if target not in table.columns:
        raise UsageError(
            f"{path}: no target column {target!r}; the columns are: {', '.join(map(repr, table.columns))}"
        )
    return path, target, table


@dataclass
class Prepared:
    """The table turned into standardized, one-hot features, split by class into train and test."""

    rows: np.ndarray
    classes: list[str]
    dropped: dict[str, str]
    preprocessor: Preprocessor
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    imputed: dict[str, int]
    unseen: dict[str, Any]


def prepare(config: Config, path: str, target: str, table: Table, rng: np.random.Generator) -> Prepared:
    """Encode the target, infer column kinds, split stratified, fit the preprocessing on the train rows."""
    rows, classes, labels = encode_target(table, target)
    kinds, dropped = infer_kinds(table, {target}, set(split_names(config.categorical)), config.max_categories)
    train_pos, test_pos = stratified_split(labels, config.test_fraction, rng)
    if len(test_pos) == 0:
        raise UsageError(f"{path}: too few rows to hold any out for testing ({len(rows)} with a target)")
    preprocessor = Preprocessor.fit(table, rows[train_pos], target, classes, kinds, dropped)
    X_train, train_report = preprocessor.transform(table, rows[train_pos])
    X_test, test_report = preprocessor.transform(table, rows[test_pos])
    imputed = {
        name: train_report.imputed.get(name, 0) + test_report.imputed.get(name, 0)
        for name in set(train_report.imputed) | set(test_report.imputed)
    }
    return Prepared(
        rows,
        classes,
        dropped,
        preprocessor,
        X_train,
        X_test,
        labels[train_pos],
        labels[test_pos],
        imputed,
        test_report.unseen,
    )


def train(config: Config, data: Prepared, rng: np.random.Generator) -> tuple[MLP, History]:
    """An MLP (ReLU, AdamW with weight decay 1e-4) on the training rows, the test loss after each epoch."""
    sizes = [data.X_train.shape[1], *config.hidden, len(data.classes)]
    model = MLP(sizes, activation="relu", engine="tensor", seed=int(rng.integers(2**31)))
    optimizer = Adam(model.parameters(), lr=config.lr, weight_decay=1e-4, decoupled=True)

    def evaluate() -> dict[str, float]:
        with no_grad():
            loss = cross_entropy(model(Tensor(data.X_test)), data.y_test).item()
        return {"test_loss": loss}

    history = fit(
        model,
        optimizer,
        lambda net, xb, yb: cross_entropy(net(Tensor(xb)), yb),
        (data.X_train, data.y_train),
        epochs=config.epochs,
        batch_size=config.batch_size,
        rng=rng,
        evaluate=evaluate,
        desc="tabular",
        progress=config.progress,
    )
    return model, history


def draw_figures(
    title: str, history: History, matrix: np.ndarray, classes: list[str], out_dir: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Loss curves, the confusion matrix and precision/recall per class; returns precision and recall."""
    precision, recall = precision_recall(matrix)
    plot_curves(
        {"train (batches)": history["train_loss"], "test": history["test_loss"]},
        out_dir / "curves.png",
        f"{title}: cross-entropy loss",
    )
    plot_confusion_matrix(
        matrix, classes, out_dir / "confusion_matrix.png", f"{title}: confusion matrix (test)"
    )
    plot_class_bars(
        {"precision": precision, "recall": recall},
        classes,
        out_dir / "precision_recall.png",
        f"{title}: precision and recall per class (test)",
    )
    return precision, recall


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Read, preprocess, split, train, evaluate, draw the figures, save the model; return the metrics."""
    out_dir = Path(out_dir)
    _check_config(config)
    path, target, table = read_table(config)
    rng = np.random.default_rng(config.seed)
    data = prepare(config, path, target, table, rng)
    model, history = train(config, data, rng)
    classes = data.classes
    predicted = probabilities(model, data.X_test).argmax(axis=1)
    matrix = confusion_matrix(data.y_test, predicted, len(classes))
    precision, recall = draw_figures(f"{Path(path).name}: {target}", history, matrix, classes, out_dir)
    save_model(out_dir / "model", model, data.preprocessor)
    shown = (config.run_dir or out_dir) / "model"
    print(f"model saved in {shown}; label new rows with:")
    print(f"  backprop-lab predict --model {shown} --csv NEW.csv")

    preprocessor = data.preprocessor
    summary = preprocessor.imputation_summary()
    return {
        "test_accuracy": round(float((predicted == data.y_test).mean()), 4),
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "classes": classes,
        "precision": {c: round(float(p), 4) for c, p in zip(classes, precision)},
        "recall": {c: round(float(r), 4) for c, r in zip(classes, recall)},
        "confusion_matrix": matrix.tolist(),
        "csv": Path(path).name,
        "target": target,
        "rows_without_target": len(table.rows) - len(data.rows),
        "numeric_columns": [s.name for s in preprocessor.columns if s.kind == "numeric"],
        "categorical_columns": [s.name for s in preprocessor.columns if s.kind == "categorical"],
        "dropped_columns": data.dropped,
        "imputation": {
            name: f"{n} missing value(s): {summary[name]}" for name, n in sorted(data.imputed.items())
        },
        "unseen_categories_in_test": data.unseen,
        "features": len(preprocessor.feature_names()),
        "architecture": "-".join(map(str, [data.X_train.shape[1], *config.hidden, len(classes)])),
        "final_train_loss": round(history["train_loss"][-1], 4),
        "model_dir": "model",
    }


# ---- predict -----------------------------------------------------------------------------------------------


def predict_table(
    model: MLP, preprocessor: Preprocessor, table: Table
) -> tuple[list[str], np.ndarray, list[str]]:
    """Predicted class names and their probabilities for every row of ``table``, and notes for the user."""
    X, report = preprocessor.transform(table)
    p = probabilities(model, X)
    best = p.argmax(axis=1)
    notes = report.notes()
    if report.imputed:
        shown = ", ".join(f"{name} ({n})" for name, n in report.imputed.items())
        notes.append(f"missing values imputed as in training: {shown}")
    return [preprocessor.classes[k] for k in best], p[np.arange(len(best)), best], notes


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    """Arguments of ``backprop-lab predict``."""
    parser.add_argument("--model", required=True, metavar="DIR", help="a model folder saved by `run tabular`")
    parser.add_argument("--csv", required=True, metavar="FILE", help="rows to label (the same columns)")
    parser.add_argument(
        "--out", metavar="FILE", help="write the labelled rows here (CSV) instead of printing"
    )


def main(name: str, args: argparse.Namespace) -> int:
    """Label every row of ``--csv`` with the model in ``--model``; print the CSV or write it to ``--out``."""
    model, preprocessor = load_model(args.model)
    table = read_csv(args.csv)
    labels, confidence, notes = predict_table(model, preprocessor, table)
    column = f"predicted_{preprocessor.target}"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*table.columns, column, "probability"])
    for row, label, p in zip(table.rows, labels, confidence):
        writer.writerow([*row, label, f"{p:.4f}"])
    if preprocessor.target in table.columns:
        truth = table.column(preprocessor.target)
        known = [(t, p) for t, p in zip(truth, labels) if t in preprocessor.classes]
        if known:
            right = sum(t == p for t, p in known)
            notes.append(
                f"{right} of {len(known)} rows with a known {preprocessor.target!r} "
                f"predicted correctly ({right / len(known):.1%})"
            )
    if args.out:  # written first, so that a file that cannot be written is the only thing said
        with atomic_open(args.out, "w", encoding="utf-8", newline="") as f:
            f.write(buffer.getvalue())
    else:
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
    for note in notes:
        print(f"backprop-lab: note: {note}", file=sys.stderr)
    if args.out:
        print(f"{len(labels)} rows labelled; written to {args.out}", file=sys.stderr)
    return 0
