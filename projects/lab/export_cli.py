"""``backprop-lab export RUN_DIR --to torch|onnx -o FILE``: the model a run saved, as a PyTorch module file
(``torch.save`` of a plain ``nn.Sequential``: ``torch.load(FILE, weights_only=False)`` needs no backprop-lab)
or as an ONNX model (opset 17, standard operators). The conversion itself is :mod:`autograd.export`.

Which runs can be exported: those of the projects in :data:`EXPORTABLE`, which save their trained model (an
MLP, or 03's CNN as a Sequential that starts with an Unflatten of the 784 pixels) in ``RUN_DIR/model/``
(:mod:`projects.lab.model_files`). The others say why they cannot (:data:`NOT_EXPORTABLE`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from autograd.errors import UsageError
from autograd.nn import MLP
from projects.lab.model_files import MODEL_FILE, describe, input_features, load_model

# project slug -> what the exported model takes as input and gives as output
EXPORTABLE = {
    "03-mnist": (
        "input: 784 pixel intensities in [0, 1] (the flattened 28x28 image, for the CNN too: its first "
        "layer reshapes it to (1, 28, 28)); output: 10 class logits"
    ),
    "05-tabular": (
        "input: the preprocessed features (standardized numbers, one-hot categories, as listed in "
        "model/preprocessing.json; the preprocessing itself is not part of the exported model); "
        "output: class logits"
    ),
}
NOT_EXPORTABLE = {
    "10-timeseries": (
        "project 10's model is an ensemble of MLPs mixed with a linear path on a scaled window: it has no "
        "single network to export; use `backprop-lab forecast --model RUN_DIR/model` instead"
    ),
}


def configure(name: str, parser: argparse.ArgumentParser) -> None:
    parser.epilog = "exportable runs: " + ", ".join(EXPORTABLE) + " (with the export extra installed)"
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path, help="a run folder, e.g. runs/03-mnist")
    parser.add_argument("--to", required=True, choices=("torch", "onnx"), help="the format to write")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", type=Path, help="the file to write")


def run_project(run_dir: Path) -> str:
    """The slug of the project that made the run folder ``run_dir`` (from its metrics.json)."""
    if not run_dir.is_dir():
        raise UsageError(f"{run_dir}: no such run folder")
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        return str(metrics["project"])
    except FileNotFoundError:
        raise UsageError(f"{run_dir}: not a run folder (no metrics.json)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f"{run_dir}: unreadable metrics.json ({e})") from None


def main(name: str, args: argparse.Namespace) -> int:
    from autograd.export import ExportError, MissingExtraError, save_torch, to_onnx

    run_dir: Path = args.run_dir.expanduser()
    project = run_project(run_dir)
    if project in NOT_EXPORTABLE:
        raise UsageError(f"{run_dir}: {NOT_EXPORTABLE[project]}")
    if project not in EXPORTABLE:
        raise UsageError(
            f"{run_dir}: project {project} saves no model to export; exportable: {', '.join(EXPORTABLE)}"
        )
    if not (run_dir / "model" / MODEL_FILE).exists():
        raise UsageError(f"{run_dir}: this run saved no model (model/{MODEL_FILE} is missing)")
    model, meta = load_model(run_dir / "model", str(run_dir / "model"))
    try:
        if args.to == "torch":
            save_torch(model, args.output)
        else:
            to_onnx(model, args.output, input_shape=(1, input_features(model)))
    except (ExportError, MissingExtraError) as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"-o {args.output}: cannot write ({e.strerror or e})") from None
    kind = "MLP" if isinstance(model, MLP) else "network"
    form = "a PyTorch nn.Sequential" if args.to == "torch" else "an ONNX model"
    print(f"wrote {args.output}: the {project} {kind} {describe(model)} as {form}")
    print(f"  {EXPORTABLE[project]}")
    if args.to == "torch":
        print(f"  load it with torch.load({str(args.output)!r}, weights_only=False); no backprop-lab needed")
    else:
        print(f"  open it in Netron (pip install netron; netron {args.output}) or run it with onnxruntime")
    return 0
