"""The fitted forecaster as one object, its model folder (JSON and ``.npz``, no pickle), and future dates.

The one-step map is a linear skip path beside the MLPs' hidden layers (see
:func:`~projects.catalog.p10_timeseries.forecasting.blend`): v_hat = (1 - a) [u, 1] beta + a mean_k mlp_k(u),
on standardized windows u; forecasts further ahead feed each forecast back. A run saves it in
``model/``:

* ``model.json``: the project, the window form and length, the season, the transform, the weight a of the
  hidden path, the MLPs' sizes and activation, the intervals' parameters, the labels (dates) of the saved
  history and whether they are dates;
* ``weights.npz``: the scalers' means and deviations, beta, every MLP's weights (``member0/net.0.weight``,
  ...) and the end of the series (``history``: the last window and the months before it, for the figure).

:func:`load` checks every field and every array's shape against the others (reading the ``.npy`` headers
before any array) and refuses anything else with one line: a folder from another project, a tampered file.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autograd import Tensor, no_grad
from autograd.errors import UsageError
from autograd.files import write_npz, write_text
from autograd.nn import ACTIVATIONS, MLP
from projects.catalog.p10_timeseries.forecasting import (
    Forecaster,
    Standardizer,
    Transform,
    blend,
    linear_map,
    window_forecaster,
)
from projects.catalog.p10_timeseries.intervals import LEVELS, Intervals
from projects.datasets.timeseries import _parse_date

PROJECT = "10-timeseries"
FORMAT = 1
MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
HISTORY_KEPT = 240  # values of the series saved with the model (the last window and context for the figure)
MAX_WINDOW = 1000
MAX_WIDTH = 4096
MAX_MEMBERS = 100


def as_predict(model: MLP) -> Callable[[np.ndarray], np.ndarray]:
    """The model as a function of a float64 matrix of standardized windows (no graph recorded)."""

    def predict(U: np.ndarray) -> np.ndarray:
        with no_grad():
            return model(Tensor(U.astype(np.float32))).data.astype(np.float64)

    return predict


def ensemble_predict(members: list[MLP]) -> Callable[[np.ndarray], np.ndarray]:
    """The mean of the members' predictions."""
    predictors = [as_predict(m) for m in members]
    return lambda U: np.mean([predict(U) for predict in predictors], axis=0)


@dataclass
class ForecastModel:
    """Everything a forecast needs (see the module docstring)."""

    kind: str
    window: int
    season: int
    transform: Transform
    x_scale: Standardizer
    v_scale: Standardizer
    linear: np.ndarray
    members: list[MLP]
    weight: float
    intervals: Intervals
    history: np.ndarray
    labels: list[str]
    dated: bool
    name: str
    validated_steps: int

    def forecaster(self) -> Forecaster:
        """The one-step forecaster on the transformed scale."""
        hidden = ensemble_predict(self.members)
        predict = blend(linear_map(self.linear), hidden, self.weight)
        return window_forecaster(self.kind, predict, self.window, self.x_scale, self.v_scale)

    def future(self, steps: int) -> tuple[list[str], np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
        """The next ``steps`` labels, forecasts and intervals (original scale) after the saved history."""
        z = self.transform.forward(self.history)
        forecast, path = self.forecaster(), np.empty(steps)
        recent = z[None, -self.window :]
        for h in range(steps):
            path[h] = forecast(recent)[0]
            recent = np.c_[recent[:, 1:], path[h]]
        bands = {
            p: (self.transform.inverse(lo), self.transform.inverse(hi))
            for p, (lo, hi) in self.intervals.bands(path).items()
        }
        return next_labels(self.labels, self.dated, steps), self.transform.inverse(path), bands


# ---- future dates ------------------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def next_labels(labels: list[str], dated: bool, steps: int) -> list[str]:
    """The labels of the ``steps`` periods after ``labels``: dates one step (the gap between the last two
    dates: years, months, or days) apart, written like the last one (``1961``, ``1961-01``,
    ``1961-01-31``); step numbers when the series has no dates."""
    parsed = [_parse_date(x) for x in labels[-2:]] if dated and len(labels) >= 2 else [None]
    if any(p is None for p in parsed):
        last = int(labels[-1]) if labels and labels[-1].lstrip("-").isdigit() else len(labels) - 1
        return [str(last + k) for k in range(1, steps + 1)]
    (y0, m0, d0), (y1, m1, d1) = parsed  # type: ignore[misc]
    if m1 == 0:  # years
        return [str(y1 + k * (y1 - y0)) for k in range(1, steps + 1)]
    month_end = d1 > 0 and d1 == _month_end(y1, m1) and d0 == _month_end(y0, m0)
    if d1 == 0 or d0 == d1 or month_end:  # months, quarters
        step = 12 * (y1 - y0) + (m1 - m0)
        out = []
        for k in range(1, steps + 1):
            index = 12 * y1 + (m1 - 1) + k * step
            year, month = divmod(index, 12)
            if d1 == 0:
                out.append(f"{year:04d}-{month + 1:02d}")
            else:
                day = _month_end(year, month + 1) if month_end else min(d1, _month_end(year, month + 1))
                out.append(f"{year:04d}-{month + 1:02d}-{day:02d}")
        return out
    start, gap = date(y1, m1, d1), (date(y1, m1, d1) - date(y0, m0, d0)).days
    return [(start + timedelta(days=k * gap)).isoformat() for k in range(1, steps + 1)]


# ---- the model folder --------------------------------------------------------------------------------------


def save(folder: Path, model: ForecastModel) -> Path:
    """Write ``model.json`` and ``weights.npz`` in ``folder``."""
    arrays: dict[str, np.ndarray] = {
        "x_mean": model.x_scale.mean,
        "x_std": model.x_scale.std,
        "v_mean": model.v_scale.mean,
        "v_std": model.v_scale.std,
        "linear": model.linear,
        "history": model.history[-HISTORY_KEPT:],
    }
    for k, member in enumerate(model.members):
        arrays.update({f"member{k}/{name}": w for name, w in member.state_dict().items()})
    meta = {
        "project": PROJECT,
        "format": FORMAT,
        "name": model.name,
        "kind": model.kind,
        "window": model.window,
        "season": model.season,
        "transform": model.transform.kind,
        "weight": model.weight,
        "hidden": model.members[0].sizes[1:-1] if model.members else [],
        "activation": model.members[0].activation if model.members else "relu",
        "members": len(model.members),
        "intervals": {
            "a": model.intervals.a,
            "b": model.intervals.b,
            "multipliers": {str(p): q for p, q in model.intervals.multipliers.items()},
        },
        "validated_steps": model.validated_steps,
        "dated": model.dated,
        "labels": model.labels[-HISTORY_KEPT:],
    }
    write_npz(folder / WEIGHTS_FILE, arrays)
    write_text(folder / MODEL_FILE, json.dumps(meta, indent=1) + "\n")
    return folder


def _require(ok: bool, folder: Path, what: str) -> None:
    if not ok:
        raise UsageError(f"--model {folder}: {what} (a tampered or foreign model folder?)")


def _integer(meta: dict[str, Any], key: str, low: int, high: int, folder: Path) -> int:
    value = meta.get(key)
    _require(
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
        folder,
        f"{MODEL_FILE}: {key} must be an integer from {low} to {high}, got {value!r}",
    )
    return value  # type: ignore[return-value]


def _number(value: Any, folder: Path, what: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    _require(ok and value >= 0, folder, f"{MODEL_FILE}: {what} must be a non-negative number, got {value!r}")
    return float(value)


def _npz_headers(path: Path, folder: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each array's shape and dtype from its ``.npy`` header, without reading the data."""
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    read = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read(f)
                headers[info.filename.removesuffix(".npy")] = (tuple(shape), dtype)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise UsageError(f"--model {folder}: unreadable {WEIGHTS_FILE} ({e})") from None
    return headers


def _expected_shapes(meta: dict[str, Any], n_in: int) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {
        "x_mean": (n_in,),
        "x_std": (n_in,),
        "v_mean": (1,),
        "v_std": (1,),
        "linear": (n_in + 1,),
    }
    sizes = [n_in, *meta["hidden"], 1]
    for k in range(meta["members"]):
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            shapes[f"member{k}/net.{2 * i}.weight"] = (fan_in, fan_out)
            shapes[f"member{k}/net.{2 * i}.bias"] = (fan_out,)
    return shapes


def _check_meta(meta: Any, folder: Path) -> None:
    if not isinstance(meta, dict) or meta.get("project") != PROJECT:
        raise UsageError(
            f"--model {folder}: not a model saved by the time-series project (`backprop-lab run 10`)"
            + (
                "; models of the tabular project go to `backprop-lab predict`"
                if isinstance(meta, dict)
                else ""
            )
        )
    _require(meta.get("format") == FORMAT, folder, f"{MODEL_FILE}: unknown format {meta.get('format')!r}")
    _require(
        meta.get("kind") in ("relative", "plain"), folder, f"{MODEL_FILE}: bad kind {meta.get('kind')!r}"
    )
    _require(meta.get("transform") in ("log", "none"), folder, f"{MODEL_FILE}: bad transform")
    _require(meta.get("activation") in ACTIVATIONS, folder, f"{MODEL_FILE}: unknown activation")
    _integer(meta, "window", 2, MAX_WINDOW, folder)
    _integer(meta, "season", 0, MAX_WINDOW, folder)
    _integer(meta, "members", 1, MAX_MEMBERS, folder)
    _integer(meta, "validated_steps", 1, 100_000, folder)
    hidden = meta.get("hidden")
    _require(
        isinstance(hidden, list)
        and 1 <= len(hidden) <= 8
        and all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_WIDTH for n in hidden),
        folder,
        f"{MODEL_FILE}: hidden must be 1 to 8 layer sizes from 1 to {MAX_WIDTH}",
    )
    weight = _number(meta.get("weight"), folder, "weight")
    _require(weight <= 1, folder, f"{MODEL_FILE}: weight must be in [0, 1]")
    intervals = meta.get("intervals")
    _require(isinstance(intervals, dict), folder, f"{MODEL_FILE}: intervals missing")
    _number(intervals.get("a"), folder, "intervals.a")
    _number(intervals.get("b"), folder, "intervals.b")
    multipliers = intervals.get("multipliers")
    _require(
        isinstance(multipliers, dict) and sorted(multipliers) == sorted(str(p) for p in LEVELS),
        folder,
        f"{MODEL_FILE}: intervals.multipliers must give levels {', '.join(map(str, LEVELS))}",
    )
    for level, q in multipliers.items():
        _number(q, folder, f"the {level}% multiplier")
    labels = meta.get("labels")
    _require(
        isinstance(labels, list) and all(isinstance(x, str) for x in labels),
        folder,
        f"{MODEL_FILE}: labels must be a list of strings",
    )
    _require(isinstance(meta.get("dated"), bool), folder, f"{MODEL_FILE}: dated must be true or false")
    _require(isinstance(meta.get("name"), str), folder, f"{MODEL_FILE}: name must be text")


def load(folder: str | Path) -> ForecastModel:
    """Read and check a model folder written by :func:`save` (arrays and JSON only: nothing is executed)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"--model {folder}: no such folder")
    try:
        meta = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--model {folder}: no {MODEL_FILE}; is it a model folder?") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"--model {folder}: unreadable {MODEL_FILE} ({e})") from None
    _check_meta(meta, folder)
    if not (folder / WEIGHTS_FILE).is_file():
        raise UsageError(f"--model {folder}: no {WEIGHTS_FILE}; is it a model folder?")
    window, kind = meta["window"], meta["kind"]
    n_in = window - 1 if kind == "relative" else window
    expected = _expected_shapes(meta, n_in)
    headers = _npz_headers(folder / WEIGHTS_FILE, folder)
    history_shape = headers.pop("history", ((0,), None))[0]
    _require(
        len(history_shape) == 1 and window <= history_shape[0] <= HISTORY_KEPT,
        folder,
        f"{WEIGHTS_FILE}: history must hold {window} to {HISTORY_KEPT} values, has shape {history_shape}",
    )
    _require(
        len(meta["labels"]) == history_shape[0],
        folder,
        f"{MODEL_FILE} has {len(meta['labels'])} labels for {history_shape[0]} values of history",
    )
    _require(
        set(headers) == set(expected),
        folder,
        f"{WEIGHTS_FILE} holds other arrays than the model description needs",
    )
    for name, shape in expected.items():
        found, dtype = headers[name]
        _require(
            found == shape and dtype.kind == "f",
            folder,
            f"{WEIGHTS_FILE}: {name} is {dtype} {found}, expected floats {shape}",
        )
    try:
        with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
            arrays = {k: data[k].astype(np.float64) for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise UsageError(f"--model {folder}: unreadable {WEIGHTS_FILE} ({e})") from None
    _require(
        all(np.all(np.isfinite(a)) for a in arrays.values()), folder, "non-finite numbers in the weights"
    )
    _require(
        bool(np.all(arrays["x_std"] > 0) and np.all(arrays["v_std"] > 0)),
        folder,
        f"{WEIGHTS_FILE}: scaler deviations must be positive",
    )
    transform = Transform(meta["transform"])
    _require(
        transform.kind == "none" or bool(np.all(arrays["history"] > 0)),
        folder,
        "a log transform with a history that is not positive",
    )
    sizes = [n_in, *meta["hidden"], 1]
    members = []
    for k in range(meta["members"]):
        member = MLP(sizes, activation=meta["activation"], engine="tensor")
        member.load_state_dict(
            {name[len(f"member{k}/") :]: a for name, a in arrays.items() if name.startswith(f"member{k}/")}
        )
        members.append(member.eval())
    intervals = meta["intervals"]
    return ForecastModel(
        kind=kind,
        window=window,
        season=meta["season"],
        transform=transform,
        x_scale=Standardizer(arrays["x_mean"], arrays["x_std"]),
        v_scale=Standardizer(arrays["v_mean"], arrays["v_std"]),
        linear=arrays["linear"],
        members=members,
        weight=float(meta["weight"]),
        intervals=Intervals(
            float(intervals["a"]),
            float(intervals["b"]),
            {int(p): float(q) for p, q in intervals["multipliers"].items()},
        ),
        history=arrays["history"],
        labels=meta["labels"],
        dated=meta["dated"],
        name=meta["name"],
        validated_steps=meta["validated_steps"],
    )
