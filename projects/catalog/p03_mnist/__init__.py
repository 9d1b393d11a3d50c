"""Project 03: handwritten digits (MNIST) with a multilayer perceptron or a LeNet-style convolutional network.

Each 28 x 28 image becomes a vector x of 784 pixel intensities in [0, 1]; the MLP 784-128-64-10 maps it to
10 scores (logits) z, and softmax turns them into class probabilities p_k = e^{z_k} / sum_j e^{z_j}.
Training minimizes the cross-entropy L = -log p_y of the true class y, averaged over a mini-batch of 128;
its gradient with respect to the logits is simply dL/dz_k = p_k - [k = y], which backpropagation carries
through the layers. Adam (lr 2e-3) follows a cosine schedule down to 0 over the epochs.

Data (see :mod:`projects.datasets.mnist`): by default the MNIST sample embedded in the package (5000 training
digits, the original 10000 test digits); ``--dataset fashion-mnist`` uses Fashion-MNIST; ``--data-dir DIR``
reads a local folder of IDX files; ``--download`` fetches the full set once into a verified cache.

``--model cnn`` trains a small LeNet-style convolutional network instead of the MLP: two 5x5 convolutions
(16 and 32 channels), each followed by 2x2 max pooling and ReLU (the same function as ReLU then pooling,
with a quarter of the ReLUs: see :class:`LeNet`), then two linear layers (512-128-10);
convolutions have PyTorch's weight layout and initialization (see :class:`autograd.nn.Conv2d`). It trains
with Adam 1e-3 (constant), batches of 64, 15 epochs; ``feature_maps.png`` shows what its first convolution
computes for one test digit.

``--engine scalar`` instead trains a small MLP (784-16-10 on 200 digits) twice from the same weights, on the
scalar ``Value`` engine and on the Tensor engine in float64, on the same batches, and reports how closely
their losses agree and how much slower the scalar engine is.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autograd import Tensor, Value, cross_entropy, no_grad
from autograd.errors import UsageError
from autograd.nn import MLP, Activation, Conv2d, Flatten, Linear, MaxPool2d, Module, Sequential, Unflatten
from autograd.optim import Adam, CosineLR
from projects.datasets.mnist import ImageData, dataset_spec, load_dataset
from projects.lab.config import RunConfig, check_bounds, check_layer_sizes, option, quick_values
from projects.lab.engines import train_side_by_side
from projects.lab.model_files import save_mlp, save_sequential
from projects.lab.training import Checkpoint, History, fit
from projects.plots.data import plot_class_bars, plot_image_grid
from viz.plots import confusion_matrix, plot_confusion_matrix, plt, save_figure


@dataclass
class Config(RunConfig):
    """Settings of project 03 (each field is a command-line flag: ``data_dir`` is ``--data-dir``)."""

    dataset: str = option("mnist", "Which data set: mnist or fashion-mnist.")
    data_dir: str | None = option(
        None,
        "A local folder holding the four IDX files (raw or .gz), e.g. /usr/share/datasets/fashion-mnist.",
    )
    download: bool = option(
        False,
        "Download the full data set once into the cache ($BACKPROP_LAB_CACHE or ~/.cache/backprop-lab).",
    )
    engine: str = option(
        "tensor", "tensor: train the network; scalar: the small Value-engine versus Tensor-engine comparison."
    )
    model: str = option("mlp", "mlp: the multilayer perceptron; cnn: the LeNet-style convolutional network.")
    hidden: tuple[int, ...] = option(
        (128, 64), "MLP hidden layer sizes, comma-separated.", low=1, high=2048, max_len=8
    )
    channels: tuple[int, ...] = option(
        (16, 32), "CNN: channels of its two 5x5 convolutions.", low=1, high=512, max_len=2
    )
    cnn_hidden: int = option(128, "CNN: width of its hidden linear layer.", low=1, high=4096)
    epochs: int | None = option(
        None, "Passes over the training images (default: 20 MLP, 15 CNN).", quick=3, low=1, high=1000
    )
    batch_size: int | None = option(
        None, "Images per Adam step (default: 128 MLP, 64 CNN).", quick=64, low=1, high=10000
    )
    lr: float | None = option(
        None,
        "Adam's learning rate (default: 2e-3 cosine-decayed to 0 for the MLP, a constant 1e-3 for the CNN).",
    )
    augment: str = option(
        "auto", "Random shifts of training images by up to 1 pixel: auto (on for MNIST only), on or off."
    )
    train_size: int | None = option(
        None,
        "Use a random subset of this many training images (default: all; no more than there are).",
        quick=2000,
        low=1,
    )
    test_size: int | None = option(
        None,
        "Use a random subset of this many test images (default: all; no more than there are).",
        quick=2000,
        low=1,
    )
    scalar_samples: int = option(
        200, "With --engine scalar: how many training digits.", quick=40, low=1, high=2000
    )
    scalar_hidden: int = option(16, "With --engine scalar: hidden units (784-H-10).", low=1, high=32)
    scalar_epochs: int = option(2, "With --engine scalar: epochs.", quick=1, low=1, high=100)
    scalar_batch_size: int = option(20, "With --engine scalar: batch size.", low=1, high=50)
    scalar_lr: float = option(
        0.01, "With --engine scalar: Adam's learning rate (constant; there are few steps)."
    )
    checkpoint: Path | None = option(
        None, "Checkpoint of the tensor run (the runner sets it to OUT/.checkpoints/03-mnist.npz)."
    )
    resume: bool = option(False, "Continue the tensor run from the checkpoint (the runner's --resume).")


EXPLANATION = """\
# 03 MNIST digits (Tensor engine)

An MLP 784-128-64-10 (ReLU, Adam with a cosine learning-rate decay, batches of 128) reads each 28x28 image as
784 numbers in [0, 1] and outputs 10 class scores; softmax and cross-entropy turn them into a loss.
By default it trains on the 5000-digit MNIST sample embedded in the package and is tested on the original
10000 test digits, which it never trains on (test curves are shown, never used to pick a model).
MNIST training digits are randomly shifted by up to one pixel each time they are seen: an MLP has no notion
that a digit moved by a pixel is the same digit, so it is shown. This lifts the 5000-digit result from about
94% to about 96%; it is off for Fashion-MNIST, where it did not help within 20 epochs.

* `curves.png`: left, the training loss (mean over each epoch's batches) and the test loss; right, the
  accuracy on the training images (unshifted) and on the test images, epoch by epoch. A widening gap between
  the two is overfitting.
* `confusion_matrix.png`: row = true class, column = predicted class, over the test set. The diagonal is
  what went right; the largest off-diagonal cells are the classic confusions (4 and 9, 3 and 5, 7 and 2).
* `misclassified.png`: test images the network got wrong, captioned with its prediction and the truth.
  Many are ambiguous even to a person.
* `per_class_accuracy.png`: the share of each class's test images classified correctly.
* `model/`: the trained MLP or CNN (`weights.npz`, `model.json`); `backprop-lab export RUN_DIR --to onnx -o
  mnist.onnx` (or `--to torch`) carries it to ONNX or PyTorch. With the export extra installed
  (`pip install 'backprop-lab[export]'`), the run exports it to ONNX itself and reports the accuracy of the
  ONNX model under onnxruntime on the same test images (`onnx_test_accuracy`, next to `test_accuracy`: they
  must be equal), whether every prediction is the same, and the largest difference of a logit.
* With `--model cnn` (two 5x5 convolutions with ReLU and 2x2 max pooling, then two linear layers; Adam 1e-3,
  batches of 64), `feature_maps.png`: one test digit and what each channel of the first convolution makes of
  it after ReLU (dark: strong response), with the 5x5 kernel that produced it. Each kernel is a small
  pattern detector slid over the image: strokes of one orientation light up one map and not another.
* With `--engine scalar`, `engine_comparison.png`: the loss of every training step of a small MLP
  (784-16-10 on 200 digits) trained from the same weights on the same batches by the scalar `Value` engine
  and by the Tensor engine (float64); the curves coincide, the bottom panel shows their difference, and the
  metrics give the largest difference (`loss_agreement`) and how much slower the scalar engine is
  (`time_ratio`).
"""

Preprocess = Callable[[np.ndarray, np.random.Generator], np.ndarray]

# epochs, batch size, learning rate and learning-rate schedule of each model, where the options are unset
MODEL_DEFAULTS = {"mlp": (20, 128, 2e-3, "cosine"), "cnn": (15, 64, 1e-3, "constant")}


def training_settings(config: Config) -> tuple[int, int, float, str]:
    """(epochs, batch size, learning rate, schedule) for the chosen model, options overriding its defaults."""
    epochs, batch_size, lr, schedule = MODEL_DEFAULTS[config.model]
    return (
        epochs if config.epochs is None else config.epochs,
        batch_size if config.batch_size is None else config.batch_size,
        lr if config.lr is None else config.lr,
        schedule,
    )


# ---- the convolutional network --------------------------------------------------------------------------


class LeNet(Module):
    """A LeNet-style network for (N, side*side) rows of pixels: reshaped to images (N, 1, side, side), then
    conv 5x5 (c1) -> max-pool 2x2 -> ReLU -> conv 5x5 (c2) -> max-pool 2x2 -> ReLU -> flatten ->
    linear (hidden) -> ReLU -> linear (classes). Convolutions: PyTorch's layout and default initialization;
    linear layers: He (hidden) and Xavier (output) initialization, as the MLP's.

    Pooling comes before the ReLU: max(relu(a), relu(b)) = relu(max(a, b)) because ReLU never changes the
    order of two numbers, so the network computes exactly the function of conv -> ReLU -> pool, with ReLU on
    a quarter of the entries. The gradients agree too: both orders send a window's gradient to the entry that
    was largest, and ReLU lets it through only when that entry is positive."""

    def __init__(
        self, side: int, classes: int, channels: tuple[int, int] = (16, 32), hidden: int = 128, seed: int = 0
    ) -> None:
        rng = np.random.default_rng(seed)
        c1, c2 = channels
        reduced = ((side - 4) // 2 - 4) // 2  # two valid 5x5 convolutions, each followed by a 2x2 pool
        if reduced < 1:
            raise UsageError(f"--model cnn needs images of at least 16 x 16 pixels, got {side} x {side}")
        self.side = side
        self.features = Sequential(
            Conv2d(1, c1, 5, rng=rng),
            MaxPool2d(2),  # before ReLU: the same function (see the docstring), a quarter of the ReLUs
            Activation("relu"),
            Conv2d(c1, c2, 5, rng=rng),
            MaxPool2d(2),
            Activation("relu"),
            Flatten(),
        )
        self.classifier = Sequential(
            Linear(c2 * reduced * reduced, hidden, rng=rng, init="he"),
            Activation("relu"),
            Linear(hidden, classes, rng=rng, init="xavier"),
        )
        self.architecture = f"conv5x5x{c1}-pool-conv5x5x{c2}-pool-{c2 * reduced * reduced}-{hidden}-{classes}"

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x.reshape(-1, 1, self.side, self.side)))

    def sequential(self) -> Sequential:
        """The same network (the same layer objects) as one Sequential that takes the flat rows:
        Unflatten(1, (1, side, side)), the features, the classifier. What the run saves and exports."""
        return Sequential(Unflatten(1, (1, self.side, self.side)), *self.features, *self.classifier)

    def first_feature_maps(self, image: np.ndarray) -> np.ndarray:
        """ReLU(conv1(image)) for one (side*side) image: (c1, side - 4, side - 4)."""
        with no_grad():
            conv = self.features.layers[0]
            return conv(Tensor(image.reshape(1, 1, self.side, self.side))).relu().data[0]


# ---- data --------------------------------------------------------------------------------------------------


def flatten(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) as float32 rows (N, H*W) in [0, 1]: x = pixel / 255."""
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)


def random_shift(batch: np.ndarray, rng: np.random.Generator, side: int, max_shift: int = 1) -> np.ndarray:
    """Each flattened (side x side) image moved by a random whole number of pixels in [-max_shift, max_shift]
    along each axis, the uncovered border filled with 0 (background). Shapes and labels are unchanged."""
    n = len(batch)
    padded = np.pad(batch.reshape(n, side, side), ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (side, side), axis=(1, 2))
    offsets = rng.integers(0, 2 * max_shift + 1, size=(n, 2))
    return windows[np.arange(n), offsets[:, 0], offsets[:, 1]].reshape(n, side * side)


def subset(
    images: np.ndarray, labels: np.ndarray, size: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A random subset of ``size`` examples (all of them, in their order, when size is None or too large)."""
    if size is None or size >= len(images):
        return images, labels
    pick = np.sort(rng.choice(len(images), size=size, replace=False))
    return images[pick], labels[pick]


def check_subset_sizes(config: Config, data: ImageData) -> None:
    """``--train-size`` and ``--test-size`` may not ask for more images than the data has (a quick run's
    own cap simply takes them all)."""
    quick = quick_values(Config) if config.quick else {}
    for name, images in (("train_size", data.train_images), ("test_size", data.test_images)):
        size = getattr(config, name)
        if size is not None and size > len(images) and size != quick.get(name):
            kind = name.split("_")[0]
            raise UsageError(
                f"--{name.replace('_', '-')} {size}: the data has only {len(images)} {kind} images "
                f"({data.source}); ask for at most {len(images)}, or leave it out for all"
            )


def use_augmentation(setting: str, dataset: str) -> bool:
    setting = setting.strip().lower()
    if setting not in ("auto", "on", "off", "true", "false"):
        raise UsageError(f"--augment {setting!r}: choose auto, on or off")
    if setting == "auto":
        return dataset_spec(dataset).name == "mnist"
    return setting in ("on", "true")


# ---- evaluation --------------------------------------------------------------------------------------------


def predict_logits(model: Module, X: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    """The model's logits for every row of X, in batches, recording no graph."""
    with no_grad():
        return np.concatenate(
            [
                model(Tensor(X[i : i + batch_size], dtype=model_dtype(model))).data
                for i in range(0, len(X), batch_size)
            ]
        )


def model_dtype(model: Module) -> Any:
    return model.parameters()[0].data.dtype


def loss_and_accuracy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy -log p_y and the share of argmax predictions equal to the label."""
    log_p = Tensor(logits, dtype=np.float64).log_softmax(axis=1).data  # the engine's stable log-softmax
    loss = -log_p[np.arange(len(labels)), labels].mean()
    return float(loss), float((logits.argmax(axis=1) == labels).mean())


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Diagonal over row sums of a confusion matrix (the recall of each class); NaN for an empty row."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


# ---- the tensor run ----------------------------------------------------------------------------------------


def build_model(config: Config, data: ImageData, seed: int) -> Module:
    """The MLP (784-hidden-10) or the LeNet-style CNN, as ``--model`` asks."""
    side = data.train_images.shape[1]
    if config.model == "cnn":
        return LeNet(side, len(data.classes), tuple(config.channels), config.cnn_hidden, seed)
    sizes = [side * data.train_images.shape[2], *config.hidden, len(data.classes)]
    return MLP(sizes, activation="relu", engine="tensor", seed=seed)


def architecture(model: Module) -> str:
    return model.architecture if isinstance(model, LeNet) else "-".join(map(str, model.sizes))


def train_tensor(
    data: ImageData, config: Config, rng: np.random.Generator, augment: bool
) -> tuple[Module, History, float, np.ndarray, np.ndarray, np.ndarray]:
    """Train the network; return it, its history, the training seconds per epoch, and the test
    arrays/logits."""
    X_train, X_test = flatten(data.train_images), flatten(data.test_images)
    y_train, y_test = data.train_labels, data.test_labels
    side = data.train_images.shape[1]
    epochs, batch_size, lr, schedule_name = training_settings(config)
    model = build_model(config, data, int(rng.integers(2**31)))
    optimizer = Adam(model.parameters(), lr=lr)
    schedule = CosineLR(optimizer, total=epochs) if schedule_name == "cosine" else None
    shift_rng = np.random.default_rng(rng.integers(2**63))
    callbacks = []
    if config.checkpoint is not None:
        callbacks.append(
            Checkpoint(config.checkpoint, config.resume, checkpoint_settings(config), [shift_rng])
        )
    elif config.resume:
        raise UsageError("--resume: no checkpoint was given to resume from")

    def loss_fn(net: Module, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        if augment and xb.shape[1] == side * side:
            xb = random_shift(xb, shift_rng, side)
        return cross_entropy(net(Tensor(xb)), yb)

    eval_seconds = 0.0

    def evaluate() -> dict[str, float]:
        nonlocal eval_seconds
        start = time.perf_counter()
        test_loss, test_acc = loss_and_accuracy(predict_logits(model, X_test), y_test)
        _, train_acc = loss_and_accuracy(predict_logits(model, X_train), y_train)
        eval_seconds += time.perf_counter() - start
        return {"test_loss": test_loss, "test_accuracy": test_acc, "train_accuracy": train_acc}

    start = time.perf_counter()
    history = fit(
        model,
        optimizer,
        loss_fn,
        (X_train, y_train),
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        evaluate=evaluate,
        on_epoch_end=lambda epoch, hist: None if schedule is None else schedule_to(schedule, epoch) and None,
        progress=config.progress,
        desc=dataset_spec(config.dataset).name,
        callbacks=callbacks,
    )
    seconds_per_epoch = (time.perf_counter() - start - eval_seconds) / max(1, len(history.epochs))
    return model, history, seconds_per_epoch, X_test, y_test, predict_logits(model, X_test)


def schedule_to(schedule: CosineLR, epoch: int) -> float:
    """Set the learning rate for the epoch after ``epoch`` (so a resumed run continues the same decay)."""
    schedule.t = epoch - 1
    return schedule.step()


CHECKPOINT_FIELDS = (
    "seed",
    "dataset",
    "data_dir",
    "download",
    "model",
    "hidden",
    "channels",
    "cnn_hidden",
    "epochs",
    "batch_size",
    "lr",
    "augment",
    "train_size",
    "test_size",
)


def checkpoint_settings(config: Config) -> dict[str, Any]:
    """The options a tensor run depends on, unset ones as the model's defaults make them: a checkpoint from a
    run with other ones is refused."""
    settings = {name: getattr(config, name) for name in CHECKPOINT_FIELDS}
    settings["epochs"], settings["batch_size"], settings["lr"], _ = training_settings(config)
    return settings


def plot_training_curves(history: History, path: Path, title: str) -> Path:
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    epochs = history.epochs
    left.plot(epochs, history["train_loss"], label="train (batches)")
    left.plot(epochs, history["test_loss"], label="test")
    left.set(title="cross-entropy loss", xlabel="epoch", ylabel="loss")
    right.plot(epochs, history["train_accuracy"], label="train")
    right.plot(epochs, history["test_accuracy"], label="test")
    right.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return save_figure(fig, path)


def report_predictions(
    images: np.ndarray,
    labels: np.ndarray,
    logits: np.ndarray,
    classes: tuple[str, ...],
    out_dir: Path,
    title: str,
) -> dict[str, Any]:
    """Confusion matrix, misclassified grid and per-class accuracy figures; their numbers for the metrics."""
    predicted = logits.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, len(classes))
    plot_confusion_matrix(
        matrix, list(classes), out_dir / "confusion_matrix.png", f"{title}: confusion matrix"
    )
    wrong = np.flatnonzero(predicted != labels)[:40]
    plot_image_grid(
        images[wrong],
        [f"pred {classes[predicted[i]]}\ntrue {classes[labels[i]]}" for i in wrong],
        out_dir / "misclassified.png",
        f"{title}: misclassified test images ({int((predicted != labels).sum())} in all; first {len(wrong)})",
    )
    accuracy = per_class_accuracy(matrix)
    plot_class_bars(
        {"accuracy": np.nan_to_num(accuracy)},
        list(classes),
        out_dir / "per_class_accuracy.png",
        f"{title}: test accuracy per class",
        ylabel="accuracy",
    )
    return {
        "per_class_accuracy": {c: round(float(a), 4) for c, a in zip(classes, accuracy)},
        "misclassified": int((predicted != labels).sum()),
    }


MODEL_INPUT = "the flattened 28x28 image: 784 pixel intensities scaled to [0, 1], row by row"


def onnx_check(
    model: MLP | Sequential, X_test: np.ndarray, y_test: np.ndarray, logits: np.ndarray
) -> dict[str, Any]:
    """The model exported to ONNX and run by onnxruntime on the test set: its accuracy and how far its logits
    are from ours. Empty when the export extra (onnx, onnxruntime) is not installed."""
    from autograd.export import MissingExtraError, run_onnx, to_onnx

    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.onnx"
            to_onnx(model, path, input_shape=(1, X_test.shape[1]))
            onnx_logits = run_onnx(path, X_test)
    except MissingExtraError:
        return {}
    return {
        "onnx_test_accuracy": round(float((onnx_logits.argmax(axis=1) == y_test).mean()), 4),
        "onnx_same_predictions": bool(np.array_equal(onnx_logits.argmax(axis=1), logits.argmax(axis=1))),
        "onnx_max_logit_difference": float(np.abs(onnx_logits - logits).max()),
    }


def run_tensor(config: Config, out_dir: Path, data: ImageData, rng: np.random.Generator) -> dict[str, Any]:
    augment = use_augmentation(config.augment, config.dataset)
    model, history, seconds_per_epoch, X_test, y_test, logits = train_tensor(data, config, rng, augment)
    name = dataset_spec(config.dataset).title
    plot_training_curves(
        history, out_dir / "curves.png", f"{name}: {config.model.upper()} {architecture(model)}"
    )
    epochs, batch_size, lr, schedule = training_settings(config)
    model.eval()
    about = {"input": MODEL_INPUT, "classes": list(data.classes)}
    if isinstance(model, MLP):
        saved: MLP | Sequential = model
        save_mlp(out_dir / "model", model, **about)
    else:  # the CNN as one Sequential of standard layers, taking the same flat rows
        saved = model.sequential()
        save_sequential(out_dir / "model", saved, **about)
    metrics: dict[str, Any] = {
        "test_accuracy": round(history["test_accuracy"][-1], 4),
        **onnx_check(saved, X_test, y_test, logits),
        "epochs": len(history.epochs),
        "seconds_per_epoch": round(seconds_per_epoch, 3),
        "train_accuracy": round(history["train_accuracy"][-1], 4),
        "final_train_loss": round(history["train_loss"][-1], 4),
        "test_loss": round(history["test_loss"][-1], 4),
        "architecture": architecture(model),
        "model": config.model,
        "batch_size": batch_size,
        "lr": lr,
        "lr_schedule": schedule,
        "augment": augment,
    }
    metrics.update(report_predictions(data.test_images, y_test, logits, data.classes, out_dir, name))
    if isinstance(model, LeNet):
        plot_feature_maps(
            model, data.test_images[0], int(y_test[0]), data.classes, out_dir / "feature_maps.png"
        )
    return metrics


def plot_feature_maps(
    model: LeNet, image: np.ndarray, label: int, classes: tuple[str, ...], path: Path
) -> Path:
    """One digit, then for each channel of the first convolution its 5x5 kernel and its feature map
    ReLU(conv1(x)) (dark: strong response)."""
    maps = model.first_feature_maps(flatten(image[None])[0])
    kernels = model.features.layers[0].weight.data[:, 0]
    per_row = min(8, len(maps))
    bands = math.ceil(len(maps) / per_row)
    fig, axes = plt.subplots(2 * bands, per_row + 1, figsize=(1.3 * (per_row + 1), 2.6 * bands + 0.5))
    axes = np.asarray(axes).reshape(2 * bands, per_row + 1)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(image, cmap="gray_r", interpolation="nearest")
    axes[0, 0].set_title(f"input: {classes[label]}", fontsize=8)
    for k, (kernel, feature_map) in enumerate(zip(kernels, maps)):
        row, column = 2 * (k // per_row), k % per_row + 1
        limit = float(np.abs(kernel).max()) or 1.0
        axes[row, column].imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        axes[row, column].set_title(f"kernel {k}", fontsize=7)
        axes[row + 1, column].imshow(feature_map, cmap="gray_r", interpolation="nearest")
        axes[row + 1, column].set_title(f"map {k} (max {feature_map.max():.1f})", fontsize=6)
    fig.suptitle(
        "first convolution: each 5x5 kernel (red +, blue -) and its feature map after ReLU", fontsize=9
    )
    return save_figure(fig, path)


# ---- the scalar-versus-tensor comparison -------------------------------------------------------------------


def scalar_cross_entropy(logits: list[Value], label: int) -> Value:
    """L = log sum_j e^{z_j} - z_y, computed as m + log sum_j e^{z_j - m} - z_y with m = max_j z_j.

    m is a constant (a float, not a node): the result does not depend on it, and subtracting it keeps every
    exponent <= 0 so nothing overflows. dL/dz_k = softmax(z)_k - [k = y].
    """
    m = max(z.data for z in logits)
    log_sum_exp = Value.sum([(z - m).exp() for z in logits]).log() + m
    return log_sum_exp - logits[label]


def run_scalar(config: Config, out_dir: Path, data: ImageData, rng: np.random.Generator) -> dict[str, Any]:
    """Train 784-H-10 on the scalar engine and on the Tensor engine (float64) from the same weights, on the
    same batches; compare every step's loss and the time taken."""
    n = config.scalar_samples
    epochs = config.scalar_epochs
    images, labels = subset(data.train_images, data.train_labels, n, rng)
    X = flatten(images).astype(np.float64)
    sizes = [X.shape[1], config.scalar_hidden, len(data.classes)]
    init_seed = int(rng.integers(2**31))
    order_seed = int(rng.integers(2**31))
    scalar = MLP(sizes, activation="relu", engine="scalar", seed=init_seed)
    tensor = MLP(sizes, activation="relu", engine="tensor", seed=init_seed, dtype=np.float64)

    def scalar_loss(net: MLP, xb: np.ndarray, yb: np.ndarray) -> Value:
        losses = [scalar_cross_entropy(net(row.tolist()), int(y)) for row, y in zip(xb, yb)]
        return Value.sum(losses) * (1.0 / len(losses))

    def tensor_loss(net: MLP, xb: np.ndarray, yb: np.ndarray) -> Tensor:
        return cross_entropy(net(Tensor(xb, dtype=np.float64)), yb)

    result = train_side_by_side(
        scalar,
        tensor,
        (scalar_loss, tensor_loss),
        (X, labels),
        lambda parameters: Adam(parameters, lr=config.scalar_lr),
        epochs=epochs,
        batch_size=config.scalar_batch_size,
        order_seed=order_seed,
        progress=config.progress,
    )
    s, t = result.scalar_losses, result.tensor_losses
    # the scalar-trained weights, evaluated on the test set by a Tensor copy (same numbers, much faster)
    evaluator = MLP(sizes, activation="relu", engine="tensor", seed=init_seed, dtype=np.float64)
    evaluator.load_state_dict(scalar.state_dict())
    X_test = flatten(data.test_images).astype(np.float64)
    test_loss, test_accuracy = loss_and_accuracy(predict_logits(evaluator, X_test), data.test_labels)
    plot_engine_comparison(s, t, out_dir / "engine_comparison.png", "-".join(map(str, sizes)), n)
    report_predictions(
        data.test_images,
        data.test_labels,
        predict_logits(evaluator, X_test),
        data.classes,
        out_dir,
        f"scalar engine, {'-'.join(map(str, sizes))} on {n} digits",
    )
    return {
        "test_accuracy": round(test_accuracy, 4),
        "epochs": epochs,
        "seconds_per_epoch": round(result.scalar_seconds / epochs, 3),
        "tensor_seconds_per_epoch": round(result.tensor_seconds / epochs, 4),
        "time_ratio": round(result.time_ratio, 1),
        "loss_agreement": result.loss_agreement,
        "weights_agreement": result.weights_agreement,
        "steps": len(s),
        "architecture": "-".join(map(str, sizes)),
        "n_train": n,
        "test_loss": round(test_loss, 4),
    }


def plot_engine_comparison(scalar: np.ndarray, tensor: np.ndarray, path: Path, arch: str, n: int) -> Path:
    steps = np.arange(1, len(scalar) + 1)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7.0, 5.0), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    top.plot(steps, scalar, lw=3, alpha=0.5, label="scalar Value engine")
    top.plot(steps, tensor, lw=1.2, ls="--", label="Tensor engine (float64)")
    top.set(title=f"MLP {arch} on {n} digits: loss of each training step", ylabel="cross-entropy")
    top.legend()
    difference = np.abs(scalar - tensor)
    bottom.semilogy(steps, np.maximum(difference, 1e-18), marker="o", ms=3)
    bottom.set(xlabel="step", ylabel="|scalar - tensor|\n(0 drawn at 1e-18)")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


# ---- entry point -------------------------------------------------------------------------------------------


def run(config: Config, out_dir: Path) -> dict[str, Any]:
    """Load the data, train, draw the figures into ``out_dir`` and return the metrics."""
    out_dir = Path(out_dir)
    if config.engine not in ("tensor", "scalar"):
        raise UsageError(f"--engine {config.engine!r}: choose tensor or scalar")
    if config.model not in MODEL_DEFAULTS:
        raise UsageError(f"--model {config.model!r}: choose mlp or cnn")
    if config.model == "cnn" and config.engine == "scalar":
        raise UsageError("--model cnn runs on the tensor engine only (leave out --engine scalar)")
    if len(config.channels) != 2:
        raise UsageError(f"--channels {config.channels}: give the two convolutions' channels, e.g. 16,32")
    check_layer_sizes(config.channels, "--channels")
    check_layer_sizes((config.cnn_hidden,), "--cnn-hidden")
    for name in ("epochs", "batch_size"):
        value = getattr(config, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {value})")
    if config.lr is not None and not (config.lr > 0 and math.isfinite(config.lr)):
        raise UsageError(f"--lr must be a positive number (got {config.lr})")
    for name in (
        "scalar_samples",
        "scalar_hidden",
        "scalar_epochs",
        "scalar_batch_size",
    ):
        if getattr(config, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1 (got {getattr(config, name)})")
    for name in ("scalar_lr",):
        if not (getattr(config, name) > 0 and math.isfinite(getattr(config, name))):
            raise UsageError(
                f"--{name.replace('_', '-')} must be a positive number (got {getattr(config, name)})"
            )
    for name in ("train_size", "test_size"):
        size = getattr(config, name)
        if size is not None and size < 1:
            raise UsageError(
                f"--{name.replace('_', '-')} must be at least 1 (got {size}); leave it out for all"
            )
    check_layer_sizes(config.hidden)
    check_bounds(config)
    use_augmentation(config.augment, config.dataset)
    rng = np.random.default_rng(config.seed)
    data = load_dataset(config.dataset, config.data_dir, config.download)
    check_subset_sizes(config, data)
    data.train_images, data.train_labels = subset(
        data.train_images, data.train_labels, config.train_size, rng
    )
    data.test_images, data.test_labels = subset(data.test_images, data.test_labels, config.test_size, rng)
    if config.engine == "scalar":
        metrics = run_scalar(config, out_dir, data, rng)
    else:
        metrics = run_tensor(config, out_dir, data, rng)
    return {
        **metrics,
        "dataset": dataset_spec(config.dataset).name,
        "data_source": data.source,
        "engine": config.engine,
        "n_train": metrics.get("n_train", len(data.train_images)),
        "n_test": len(data.test_images),
    }
