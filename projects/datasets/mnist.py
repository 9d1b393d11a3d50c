"""MNIST and Fashion-MNIST the way people get them: a download, a local folder, or the embedded sample.

Three sources, one result (:class:`ImageData`: uint8 images (N, 28, 28) and integer labels (N,)):

* **download** (:func:`fetch`): each of the four IDX files is fetched once from the standard mirrors into a
  cache folder (``$BACKPROP_LAB_CACHE``, else ``$XDG_CACHE_HOME/backprop-lab``, else
  ``~/.cache/backprop-lab``), streamed through SHA-256, compared with the published digest and only then
  renamed into place, so the cache never holds a partial or altered file. A file already cached with the
  right digest is not downloaded again.
* **a local folder** (:func:`load_folder`): any folder holding the four files under their usual names, raw or
  gzip (Debian's ``dataset-fashion-mnist`` package installs one in ``/usr/share/datasets/fashion-mnist``).
  Those files are checked for structure (IDX header, sizes, labels in range), not for a digest, because
  repackaged copies differ in their gzip headers while holding the same arrays.
* **the embedded sample** (:func:`load_embedded`): shipped inside the package so that everything works with no
  network: the original 10000-digit MNIST test set and 5000 training digits (500 per class, stored sorted by
  class: shuffle before training).
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from autograd.errors import UsageError
from autograd.files import atomic_open
from projects.datasets import EMBEDDED
from projects.datasets.idx import IdxError, read_idx

ROLES = ("train_images", "train_labels", "test_images", "test_labels")
EMBEDDED_DIR = EMBEDDED / "mnist"
EMBEDDED_FILES = {
    "train_images": "train-5k-images-idx3-ubyte.gz",
    "train_labels": "train-5k-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
DOWNLOAD_TIMEOUT_S = 30.0
MAX_SIDE = 64  # pixels per side of an image (MNIST: 28); a network's input grows with its square
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """One published file: its name on the mirrors, its SHA-256 and its size in bytes."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set lives and what its files must hash to."""

    name: str
    title: str
    mirrors: tuple[str, ...]
    files: dict[str, RemoteFile]
    classes: tuple[str, ...]
    system_dir: str | None = None  # where a distribution package installs it, if any


# SHA-256 of the original .gz files as published (the same digests TensorFlow Datasets and torchvision's
# mirrors serve; the MNIST t10k digests were also checked here against the byte-identical files in the
# embedded sample, whose MD5s are the ones LeCun's page and torchvision publish).
MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9912422,
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28881,
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1648877,
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4542,
        ),
    },
    classes=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            26421880,
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            29515,
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            4422102,
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            5148,
        ),
    },
    classes=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    system_dir="/usr/share/datasets/fashion-mnist",
)

DATASETS: dict[str, DatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}


@dataclass
class ImageData:
    """A train/test pair of image arrays (N, H, W) uint8 with integer labels (N,), and where it came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple[str, ...]
    source: str


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of ``mnist`` or ``fashion-mnist`` (a few spellings accepted)."""
    key = name.strip().lower().replace("_", "-")
    key = {"fashion": "fashion-mnist", "fashionmnist": "fashion-mnist"}.get(key, key)
    if key not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[key]


def cache_dir() -> Path:
    """``$BACKPROP_LAB_CACHE``, else ``$XDG_CACHE_HOME/backprop-lab``, else ``~/.cache/backprop-lab``."""
    explicit = os.environ.get("BACKPROP_LAB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "backprop-lab"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---- download ----------------------------------------------------------------------------------------------


class DownloadError(UsageError):
    """A file could not be downloaded or did not match its published digest."""


def download_file(url: str, destination: Path, sha256: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetch ``url`` into ``destination`` if and only if its SHA-256 is ``sha256``.

    The body is streamed into a temporary file beside ``destination`` while being hashed; on a match the
    temporary file is renamed over ``destination`` (atomic), on a mismatch or any error it is deleted, so
    nothing partial is ever left under the final name.
    """
    if not url.startswith(("http://", "https://")):
        raise DownloadError(f"{url}: only http and https downloads are supported")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_open(destination, "wb") as out:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != sha256:
                raise DownloadError(
                    f"{url}: SHA-256 mismatch (expected {sha256}, got {digest.hexdigest()}); "
                    "nothing was saved"
                )
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{url}: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise DownloadError(f"{url}: {e.reason}") from None
    except (TimeoutError, OSError) as e:
        raise DownloadError(f"{url}: {e}") from None
    return destination


def fetch(
    spec: DatasetSpec,
    cache_root: Path | None = None,
    mirrors: tuple[str, ...] | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Make sure the four files of ``spec`` are in ``cache_root/spec.name`` with their published digests,
    downloading what is missing or damaged (each mirror in turn), and return that folder."""
    say = log if log is not None else (lambda line: print(line, file=sys.stderr))
    folder = (cache_root if cache_root is not None else cache_dir()) / spec.name
    order = list(mirrors if mirrors is not None else spec.mirrors)
    for role in ROLES:
        remote = spec.files[role]
        target = folder / remote.name
        if target.exists():
            if sha256_file(target) == remote.sha256:
                continue
            say(f"{target}: cached copy does not match its SHA-256; downloading it again")
        failures = []
        for mirror in list(order):
            url = mirror.rstrip("/") + "/" + remote.name
            say(f"downloading {url} ({remote.size / 1e6:.1f} MB)")
            try:
                download_file(url, target, remote.sha256, timeout)
            except DownloadError as e:
                failures.append(str(e))
                continue
            order.remove(mirror)
            order.insert(0, mirror)  # the next files try the mirror that worked first
            break
        else:
            raise DownloadError(
                f"cannot download {spec.title} {remote.name}: {'; '.join(failures)}. "
                f"Pass --data-dir DIR with the IDX files instead"
            )
    return folder


# ---- reading -----------------------------------------------------------------------------------------------


def _candidate_names(remote_name: str) -> list[str]:
    """Names a file goes by in the wild: ``train-images-idx3-ubyte[.gz]`` and ``train-images.idx3-ubyte``."""
    base = remote_name.removesuffix(".gz")
    dotted = base.replace("-idx", ".idx")
    return [base + ".gz", base, dotted + ".gz", dotted]


def find_files(folder: Path, spec: DatasetSpec) -> dict[str, Path]:
    """The path of each of the four files in ``folder`` (UsageError naming the first one missing)."""
    if not folder.is_dir():
        raise UsageError(f"--data-dir {folder}: no such folder")
    found = {}
    for role in ROLES:
        names = _candidate_names(spec.files[role].name)
        path = next((folder / n for n in names if (folder / n).is_file()), None)
        if path is None:
            raise UsageError(f"--data-dir {folder}: no {names[1]} (or {names[0]}) in it")
        found[role] = path
    return found


def _check_pair(
    images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path, n_classes: int
) -> None:
    if images.ndim != 3 or images.dtype != np.uint8:
        raise IdxError(
            f"{image_path}: expected uint8 images (N, rows, cols), got {images.dtype} {images.shape}"
        )
    if len(images) == 0 or not (1 <= images.shape[1] <= MAX_SIDE and 1 <= images.shape[2] <= MAX_SIDE):
        raise IdxError(
            f"{image_path}: {images.shape[0]} images of {images.shape[1]}x{images.shape[2]} pixels; "
            f"expected at least one image, each side 1 to {MAX_SIDE} pixels (MNIST: 28x28)"
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IdxError(f"{label_path}: expected uint8 labels (N,), got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise IdxError(
            f"{label_path}: {len(labels)} labels for the {len(images)} images of {image_path.name}"
        )
    if labels.size and labels.max() >= n_classes:
        raise IdxError(f"{label_path}: label {int(labels.max())} outside 0..{n_classes - 1}")


def load_files(paths: dict[str, Path], classes: tuple[str, ...], source: str) -> ImageData:
    """Read and cross-check the four IDX files named in ``paths``."""
    arrays = {role: read_idx(paths[role]) for role in ROLES}
    for split in ("train", "test"):
        _check_pair(
            arrays[f"{split}_images"],
            arrays[f"{split}_labels"],
            paths[f"{split}_images"],
            paths[f"{split}_labels"],
            len(classes),
        )
    if arrays["train_images"].shape[1:] != arrays["test_images"].shape[1:]:
        raise IdxError(
            f"{paths['test_images']}: images of {arrays['test_images'].shape[1:]} pixels, "
            f"but the training images have {arrays['train_images'].shape[1:]}"
        )
    return ImageData(
        arrays["train_images"],
        arrays["train_labels"].astype(np.int64),
        arrays["test_images"],
        arrays["test_labels"].astype(np.int64),
        classes,
        source,
    )


def load_folder(folder: str | os.PathLike[str], spec: DatasetSpec = MNIST) -> ImageData:
    """The four IDX files of a local folder (names as published, raw or gzip)."""
    folder = Path(folder).expanduser()
    return load_files(find_files(folder, spec), spec.classes, f"{spec.title} from {folder}")


def load_embedded() -> ImageData:
    """The MNIST sample shipped in the package: 5000 training digits (sorted by class), 10000 test digits."""
    paths = {role: EMBEDDED_DIR / name for role, name in EMBEDDED_FILES.items()}
    return load_files(paths, MNIST.classes, "MNIST embedded sample (5000 train digits, 10000 test digits)")


def load_dataset(
    name: str = "mnist",
    data_dir: str | None = None,
    download: bool = False,
    cache_root: Path | None = None,
    mirrors: tuple[str, ...] | None = None,
) -> ImageData:
    """Choose the source: ``data_dir`` if given; else the verified cache (downloading with ``download``);
    else the embedded sample (MNIST) or the distribution's folder (Fashion-MNIST, when installed)."""
    spec = dataset_spec(name)
    if data_dir:
        return load_folder(data_dir, spec)
    if download:
        folder = fetch(spec, cache_root, mirrors)
        return load_files(
            find_files(folder, spec), spec.classes, f"{spec.title} (downloaded, cached in {folder})"
        )
    if spec is MNIST:
        return load_embedded()
    if spec.system_dir and Path(spec.system_dir).is_dir():
        return load_folder(spec.system_dir, spec)
    raise UsageError(
        f"{spec.title} is not embedded: pass --data-dir DIR (a folder of its IDX files) or --download"
    )
