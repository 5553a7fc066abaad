"""The data loader: real files, verified; every kind of bad input gets an error that says the fix."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import shutil
import struct
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

from helpers import data
from helpers.data import DataError


def _write_idx_gz(path: Path, array: np.ndarray) -> str:
    """Write ``array`` (uint8) as a gzipped IDX file, the MNIST format; return its MD5."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def tiny_digits(tmp_path, monkeypatch):
    """A tiny MNIST-digits set in IDX format, with the spec's checksums pointed at it."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (20, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(20) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (8, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(8) % 10,
    }
    md5s = {name: frozenset({_write_idx_gz(raw / name, a)}) for name, a in arrays.items()}
    spec = dataclasses.replace(data.DATASETS["digits"], archives=md5s)
    monkeypatch.setitem(data.DATASETS, "digits", spec)
    return tmp_path, arrays


@pytest.fixture
def no_system_copy(tmp_path, monkeypatch):
    """Pretend Debian's Fashion-MNIST package is not installed."""
    spec = dataclasses.replace(data.DATASETS["fashion"], system_dir=tmp_path / "not-installed")
    monkeypatch.setitem(data.DATASETS, "fashion", spec)


def test_digits_load_from_idx_files(tiny_digits):
    root, arrays = tiny_digits
    d = data.load_images("digits", root=root)
    assert d.X_train.shape == (20, 1, 28, 28) and d.X_test.shape == (8, 1, 28, 28)
    assert d.X_train.dtype == torch.float32 and 0 <= d.X_train.min() and d.X_train.max() <= 1
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte.gz"].astype(np.float32) / 255)
    assert torch.allclose(d.X_train[:, 0], expected)
    assert d.y_test.tolist() == list(np.arange(8) % 10)
    assert len(d.classes) == 10 and "digits" in repr(d).lower()


def test_subset_sizes(tiny_digits):
    root, _ = tiny_digits
    d = data.load_images("digits", n_train=5, n_test=3, root=root)
    assert len(d.X_train) == len(d.y_train) == 5 and len(d.X_test) == 3


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(DataError, match="Unknown data set 'cifar'.*'fashion', 'digits'"):
        data.load_images("cifar")


def test_missing_data_offline_names_the_package_and_the_switch(tmp_path, no_system_copy):
    with pytest.raises(DataError) as err:
        data.prepare("fashion", root=tmp_path, download=False)
    msg = str(err.value)
    assert "not on this machine" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "BOOK_DOWNLOAD=1" in msg


def test_missing_digits_offline_suggests_fashion(tmp_path):
    with pytest.raises(DataError, match="(?s)MNIST digits is not on this machine.*use 'fashion'"):
        data.prepare("digits", root=tmp_path, download=False)


def test_no_network_is_a_clear_error(tmp_path, no_system_copy, monkeypatch):
    class Offline:
        resources = data.datasets.FashionMNIST.resources
        __name__ = "FashionMNIST"

        def __init__(self, *args, **kwargs):
            raise URLError("[Errno -3] Temporary failure in name resolution")

    spec = dataclasses.replace(data.DATASETS["fashion"], tv_class=Offline)
    monkeypatch.setitem(data.DATASETS, "fashion", spec)
    with pytest.raises(DataError, match="(?s)Downloading Fashion-MNIST failed.*offline.*dataset-fashion-mnist"):
        data.prepare("fashion", root=tmp_path, download=True)


def test_download_switch_reads_the_environment(monkeypatch):
    monkeypatch.setenv("BOOK_DOWNLOAD", "1")
    assert data.downloads_allowed()
    monkeypatch.setenv("BOOK_DOWNLOAD", "0")
    assert not data.downloads_allowed()


def test_corrupt_archive_is_refused_with_the_fix(tiny_digits):
    root, _ = tiny_digits
    archive = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:100])  # a truncated download
    with pytest.raises(DataError, match=f"(?s)corrupt or incomplete.*rm {archive}"):
        data.load_images("digits", root=root)


def test_corrupt_unpacked_file_is_unpacked_again(tiny_digits):
    root, _ = tiny_digits
    data.prepare("digits", root=root)
    unpacked = root / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    good = unpacked.read_bytes()
    unpacked.write_bytes(good[:-3] + b"zzz")
    data.prepare("digits", root=root)
    assert unpacked.read_bytes() == good


def test_data_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    assert data.data_root() == tmp_path.resolve()
    monkeypatch.delenv("BOOK_DATA")
    assert data.data_root() == data.PROJECT_ROOT / "data"


def test_fashion_from_the_system_package(tmp_path):
    if not data.DEBIAN_FASHION_DIR.exists():
        pytest.fail("Debian's dataset-fashion-mnist is not installed: `make test` installs it as root")
    d = data.load_images("fashion", n_train=64, n_test=32, root=tmp_path)
    assert d.X_train.shape == (64, 1, 28, 28) and d.y_train.max() <= 9
    assert d.classes[0] == "T-shirt/top" and len(d.classes) == 10
    full = data.load_images("fashion", root=tmp_path)  # now from the copy under tmp_path
    assert len(full.X_train) == 60_000 and len(full.X_test) == 10_000
    assert torch.bincount(full.y_test).tolist() == [1000] * 10


def test_batches_cover_every_sample_once():
    X, y = torch.arange(10).float().unsqueeze(1), torch.arange(10)
    seen = [b for _, yb in data.batches(X, y, 4, generator=torch.Generator().manual_seed(0)) for b in yb.tolist()]
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    sizes = [len(yb) for _, yb in data.batches(X, y, 4, shuffle=False)]
    assert sizes == [4, 4, 2]


def test_cli_reports_errors_without_a_traceback(capsys):
    with pytest.raises(SystemExit, match="error: Unknown data set 'nope'"):
        data.main(["nope"])
