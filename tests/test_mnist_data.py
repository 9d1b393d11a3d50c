"""MNIST loading: download into a verified cache (from a local HTTP server, never the internet), local
folders, and the embedded sample."""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from autograd.errors import UsageError
from projects.datasets import mnist as mnist_data
from projects.datasets.idx import IdxError, write_idx
from projects.datasets.mnist import (
    ROLES,
    DatasetSpec,
    DownloadError,
    RemoteFile,
    dataset_spec,
    fetch,
    find_files,
    load_dataset,
    load_embedded,
    load_folder,
)

NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def write_fixture(folder: Path, n_train: int = 30, n_test: int = 20, seed: int = 0, gz: bool = True) -> None:
    """Four small IDX files with MNIST's names: random 28x28 images, labels 0..9."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for role, name in NAMES.items():
        write_idx(folder / (name if gz else name.removesuffix(".gz")), arrays[role])


class Server:
    """An HTTP server on 127.0.0.1 serving a folder, counting the requests it gets."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):  # noqa: N802 - the http.server API
                outer.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def spec_for(folder: Path, digests: dict[str, str] | None = None) -> DatasetSpec:
    """A spec whose published digests are those of the fixture files (or the given wrong ones)."""
    files = {}
    for role, name in NAMES.items():
        data = (folder / name).read_bytes()
        digest = (digests or {}).get(role, hashlib.sha256(data).hexdigest())
        files[role] = RemoteFile(name, digest, len(data))
    return DatasetSpec("fixture", "Fixture", ("http://unused.invalid/",), files, tuple("0123456789"))


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "mirror"
    root.mkdir()
    write_fixture(root)
    with Server(root) as server:
        yield root, server


def test_download_verifies_caches_and_does_not_download_twice(served, tmp_path):
    root, server = served
    cache = tmp_path / "cache"
    folder = fetch(spec_for(root), cache, mirrors=(server.url,), log=lambda line: None)
    assert folder == cache / "fixture"
    for name in NAMES.values():
        assert (folder / name).read_bytes() == (root / name).read_bytes()
    assert len(server.requests) == 4
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files left

    fetch(spec_for(root), cache, mirrors=(server.url,), log=lambda line: None)
    assert len(server.requests) == 4  # everything was already cached and verified
    data = mnist_data.load_files(find_files(folder, spec_for(root)), tuple("0123456789"), "fixture")
    assert data.train_images.shape == (30, 28, 28) and data.test_labels.shape == (20,)


def test_wrong_digest_is_a_clear_error_and_nothing_is_cached(served, tmp_path):
    root, server = served
    cache = tmp_path / "cache"
    wrong = {"train_labels": "0" * 64}
    with pytest.raises(DownloadError) as info:
        fetch(spec_for(root, wrong), cache, mirrors=(server.url,), log=lambda line: None)
    message = str(info.value)
    assert "train-labels-idx1-ubyte.gz" in message and "SHA-256 mismatch" in message and "\n" not in message
    folder = cache / "fixture"
    assert not (folder / NAMES["train_labels"]).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def test_a_damaged_cached_file_is_downloaded_again(served, tmp_path):
    root, server = served
    cache = tmp_path / "cache"
    fetch(spec_for(root), cache, mirrors=(server.url,), log=lambda line: None)
    damaged = cache / "fixture" / NAMES["test_images"]
    damaged.write_bytes(damaged.read_bytes()[:100])
    lines: list[str] = []
    fetch(spec_for(root), cache, mirrors=(server.url,), log=lines.append)
    assert len(server.requests) == 5
    assert damaged.read_bytes() == (root / NAMES["test_images"]).read_bytes()
    assert any("does not match" in line for line in lines)


def test_a_failing_mirror_falls_back_to_the_next(served, tmp_path):
    root, server = served
    folder = fetch(
        spec_for(root), tmp_path / "cache", mirrors=(server.url + "missing/", server.url), log=print
    )
    assert all((folder / name).exists() for name in NAMES.values())
    assert sum("/missing/" in path for path in server.requests) == 1  # one 404; then the working mirror first


def test_every_mirror_failing_names_each_failure(served, tmp_path):
    root, server = served
    with pytest.raises(DownloadError) as info:
        fetch(spec_for(root), tmp_path / "cache", mirrors=(server.url + "a/", server.url + "b/"), log=print)
    message = str(info.value)
    assert message.count("HTTP 404") == 2 and "--data-dir" in message


def test_download_refuses_other_schemes(tmp_path):
    with pytest.raises(DownloadError, match="only http"):
        mnist_data.download_file("file:///etc/passwd", tmp_path / "x", "0" * 64)


def test_unreachable_server_is_a_clear_error(tmp_path):
    with Server(tmp_path) as server:
        url = server.url
    with pytest.raises(DownloadError, match="127.0.0.1"):
        mnist_data.download_file(url + "x.gz", tmp_path / "x.gz", "0" * 64, timeout=2)
    assert not (tmp_path / "x.gz").exists()


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROP_LAB_CACHE", str(tmp_path / "mine"))
    assert mnist_data.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("BACKPROP_LAB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_data.cache_dir() == tmp_path / "xdg" / "backprop-lab"


def test_published_digests_match_the_embedded_originals():
    # the embedded t10k files are the published ones: their SHA-256 must be the ones the downloader expects
    for role in ("test_images", "test_labels"):
        remote = mnist_data.MNIST.files[role]
        path = mnist_data.EMBEDDED_DIR / remote.name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == remote.sha256
        assert path.stat().st_size == remote.size


# ---- local folders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_local_folder_raw_or_gzip(tmp_path, gz):
    write_fixture(tmp_path, gz=gz)
    data = load_folder(tmp_path)
    assert data.train_images.shape == (30, 28, 28) and data.test_images.shape == (20, 28, 28)
    assert data.train_labels.dtype == np.int64 and data.classes == mnist_data.MNIST.classes
    assert str(tmp_path) in data.source


def test_local_folder_with_dotted_names(tmp_path):
    write_fixture(tmp_path, gz=False)
    for name in NAMES.values():
        raw = name.removesuffix(".gz")
        (tmp_path / raw).rename(tmp_path / raw.replace("-idx", ".idx"))
    assert load_folder(tmp_path).train_images.shape == (30, 28, 28)


def test_local_folder_missing_file(tmp_path):
    write_fixture(tmp_path)
    (tmp_path / NAMES["test_labels"]).unlink()
    with pytest.raises(UsageError, match="t10k-labels-idx1-ubyte"):
        load_folder(tmp_path)
    with pytest.raises(UsageError, match="no such folder"):
        load_folder(tmp_path / "nowhere")


def test_local_folder_inconsistent_files(tmp_path):
    write_fixture(tmp_path)
    write_idx(tmp_path / NAMES["train_labels"], np.zeros(29, dtype=np.uint8))
    with pytest.raises(IdxError, match="29 labels for the 30 images"):
        load_folder(tmp_path)
    write_idx(tmp_path / NAMES["train_labels"], np.full(30, 10, dtype=np.uint8))
    with pytest.raises(IdxError, match="label 10 outside 0..9"):
        load_folder(tmp_path)


def test_load_dataset_prefers_the_data_dir(tmp_path):
    write_fixture(tmp_path)
    assert load_dataset("fashion-mnist", data_dir=str(tmp_path)).classes[0] == "T-shirt/top"


def test_fashion_without_a_folder_says_what_to_do(monkeypatch):
    elsewhere = dataclasses.replace(mnist_data.FASHION_MNIST, system_dir="/nonexistent/fashion")
    monkeypatch.setitem(mnist_data.DATASETS, "fashion-mnist", elsewhere)
    with pytest.raises(UsageError, match="--data-dir DIR .* or --download"):
        load_dataset("fashion-mnist")


def test_dataset_names():
    assert dataset_spec("Fashion_MNIST").name == "fashion-mnist"
    assert dataset_spec("mnist") is mnist_data.MNIST
    with pytest.raises(UsageError, match="unknown dataset"):
        dataset_spec("cifar10")


# ---- the embedded sample --------------------------------------------------------------------------------


def test_embedded_sample():
    data = load_embedded()
    assert data.train_images.shape == (5000, 28, 28) and data.test_images.shape == (10000, 28, 28)
    assert np.bincount(data.train_labels).tolist() == [500] * 10
    assert np.all(np.diff(data.train_labels) >= 0)  # stored sorted by class: the loaders must shuffle
    assert (
        sum((mnist_data.EMBEDDED_DIR / name).stat().st_size for name in mnist_data.EMBEDDED_FILES.values())
        < 3e6
    )
    assert set(mnist_data.EMBEDDED_FILES) == set(ROLES)
