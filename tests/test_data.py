"""The data loader: real files, verified; every kind of bad input gets an error that says the fix."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import gzip
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision import datasets

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


def _listing(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its content: to show that nothing was written."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


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
    with pytest.raises(DataError, match="MNIST digits is not on this machine.*use the offline default 'fashion'"):
        data.prepare("digits", root=tmp_path, download=False)


def test_no_network_is_a_clear_error(tmp_path, no_system_copy, monkeypatch):
    spec = dataclasses.replace(data.DATASETS["fashion"], mirrors=("http://127.0.0.1:1/",))
    monkeypatch.setitem(data.DATASETS, "fashion", spec)  # port 1: connection refused
    with pytest.raises(DataError) as err:
        data.prepare("fashion", root=tmp_path, download=True)
    msg = str(err.value)
    assert msg.startswith("Downloading Fashion-MNIST failed (http://127.0.0.1:1/train-images")
    assert "Connection refused" in msg and "\n" not in msg
    assert msg.endswith("Without internet, install Debian's package (sudo apt-get install "
                        f"dataset-fashion-mnist) or copy the 4 .gz files into {tmp_path}/FashionMNIST/raw.")
    assert list(tmp_path.rglob("*")) == []


def test_download_switch_reads_the_environment(monkeypatch):
    monkeypatch.setenv("BOOK_DOWNLOAD", "1")
    assert data.downloads_allowed()
    monkeypatch.setenv("BOOK_DOWNLOAD", "0")
    assert not data.downloads_allowed()


def test_corrupt_archive_is_refused_with_the_fix(tiny_digits):
    root, _ = tiny_digits
    archive = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    archive.write_bytes(archive.read_bytes()[:100])  # a truncated download or copy
    before = _listing(root)
    for load in (data.load_images, data.prepare):
        with pytest.raises(DataError, match=f"corrupt or incomplete.*To fix it, delete it and run "
                                            f"again, so that it is fetched afresh: rm {archive}.$"):
            load("digits", root=root)
    assert _listing(root) == before  # nothing unpacked from the bad archive, nothing else written


def test_a_changed_unpacked_file_is_never_used_and_prepare_restores_it(tiny_digits):
    root, arrays = tiny_digits
    data.prepare("digits", root=root)
    unpacked = root / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    good = unpacked.read_bytes()
    unpacked.write_bytes(good[:-3] + b"\x09\x09\x09")  # changed labels, same size
    (unpacked.parent / (unpacked.name + ".sha256")).write_text("anything\n")  # a forged stamp
    assert data.load_images("digits", root=root).y_train.tolist() == list(np.arange(20) % 10)
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
    assert list(tmp_path.iterdir()) == []  # read in place: a read-only data root works
    data.prepare("fashion", root=tmp_path)  # copies and unpacks, for torchvision's own reader
    tv = datasets.FashionMNIST(str(tmp_path), train=False)
    full = data.load_images("fashion", root=tmp_path)  # now from the copy under tmp_path
    assert torch.equal(tv.data[:5].unsqueeze(1).float() / 255, full.X_test[:5])
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


# --------------------------------------------------------------- files nothing has verified


def test_stale_processed_files_are_refused(tiny_digits):
    """torchvision reads <root>/MNIST/processed/{training,test}.pt before the raw files, unchecked."""
    root, _ = tiny_digits
    processed = root / "MNIST" / "processed"
    processed.mkdir()
    planted = (torch.zeros(3, 28, 28, dtype=torch.uint8), torch.full((3,), 7))
    for name in ("training.pt", "test.pt"):
        torch.save(planted, processed / name)
    assert datasets.MNIST(str(root)).targets.tolist() == [7, 7, 7]  # the threat is real
    before = _listing(root)
    for load in (data.load_images, data.prepare):
        with pytest.raises(DataError) as err:
            load("digits", root=root)
        assert str(err.value) == (
            f"{processed} holds training.pt and test.pt from an older torchvision, which "
            "torchvision reads instead of the checked archives and nothing verifies. To fix it, "
            f"delete that folder and run again: rm -r {processed}")
    assert _listing(root) == before
    (processed / "training.pt").unlink()  # one of the two is refused as well
    with pytest.raises(DataError, match="holds test.pt from an older torchvision"):
        data.load_images("digits", root=root)


def test_damaged_system_copy_says_reinstall(tmp_path, tiny_digits, monkeypatch):
    root, _ = tiny_digits
    system = tmp_path / "usr-share"
    system.mkdir()
    archive = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    (system / archive.name).write_bytes(archive.read_bytes()[:-4])  # a half-written package file
    archive.unlink()
    spec = dataclasses.replace(data.DATASETS["digits"], system_dir=system, system_package="pkg")
    monkeypatch.setitem(data.DATASETS, "digits", spec)
    before = _listing(root)
    with pytest.raises(DataError, match=f"^{system / archive.name} is corrupt or incomplete.*"
                                        "To fix it, reinstall Debian's package: sudo apt-get "
                                        "install --reinstall pkg.$"):
        data.prepare("digits", root=root)
    assert _listing(root) == before  # no copy of the damaged file, nothing unpacked


def test_not_an_idx_file_is_refused():
    with pytest.raises(DataError, match="not an IDX file"):
        data._parse_idx(b"<html>", 3, "x")
    with pytest.raises(DataError, match="header says"):
        data._parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), 1, "x")


# ------------------------------------------------------------------- writing and downloading


def test_a_full_disk_leaves_no_partial_file(tiny_digits, monkeypatch):
    root, _ = tiny_digits
    before = _listing(root)
    real_fdopen = os.fdopen

    class FullDisk:
        def __init__(self, fd, mode):
            self.f = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, content):
            self.f.write(content[:100])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(data.os, "fdopen", FullDisk)
    with pytest.raises(DataError) as err:
        data.prepare("digits", root=root)
    target = root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    assert str(err.value) == (f"could not write {target} (No space left on device). To fix it, "
                              "free some space, or point BOOK_DATA at another folder.")
    assert _listing(root) == before


@pytest.fixture
def digits_mirror(tmp_path, monkeypatch):
    """A tiny digits set, its archives only on a local mirror; the data root is still empty."""
    files = tmp_path / "mirror"
    files.mkdir()
    rng = np.random.default_rng(1)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28)),
              "train-labels-idx1-ubyte.gz": np.arange(6),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (2, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": np.arange(2)}
    md5s = {name: frozenset({_write_idx_gz(files / name, a)}) for name, a in arrays.items()}
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setattr(data, "STALL_SECONDS", 0.5)
    root = tmp_path / "root"
    root.mkdir()

    def use(url: str) -> None:
        spec = dataclasses.replace(data.DATASETS["digits"], archives=md5s, mirrors=(url,))
        monkeypatch.setitem(data.DATASETS, "digits", spec)

    return root, files, use


@contextlib.contextmanager
def _http_server(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_from_a_mirror_writes_only_complete_files(digits_mirror):
    root, files, use = digits_mirror
    with _http_server(functools.partial(_Quiet, directory=str(files))) as url:
        use(url)
        d = data.load_images("digits", root=root, download=True)
    assert d.y_train.tolist() == list(range(6))
    raw = root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(p.name for p in files.iterdir())


def test_a_stalled_download_ends_in_bounded_time_and_writes_nothing(digits_mirror):
    """A server that accepts the connection and never answers (the kernel accepts for it)."""
    root, _, use = digits_mirror
    with socket.create_server(("127.0.0.1", 0)) as silent:
        use(f"http://127.0.0.1:{silent.getsockname()[1]}/")
        start = time.monotonic()
        with pytest.raises(DataError) as err:
            data.load_images("digits", root=root, download=True)
        seconds = time.monotonic() - start
    assert seconds < 5
    msg = str(err.value)
    assert msg.startswith("Downloading MNIST digits failed (http://127.0.0.1:")
    assert "train-images-idx3-ubyte.gz: no answer for 0.5 s). Is this machine offline?" in msg
    assert msg.endswith(f"Without internet, copy the 4 .gz files into {root}/MNIST/raw or use "
                        "the offline default 'fashion' instead.")
    assert _listing(root) == {}


class _Partial(_Quiet):
    """Sends the headers and the first bytes of a file, then nothing more."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + bytes(998))
        self.wfile.flush()
        time.sleep(3)


class _WrongFile(_Quiet):
    """Sends a whole file, but not the one asked for (a captive portal's page)."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "6")
        self.end_headers()
        self.wfile.write(b"<html>")


@pytest.mark.parametrize("handler, reason", [
    (_Partial, "no answer for 0.5 s"),
    (_WrongFile, "received 6 bytes with MD5 .*, not the expected file"),
])
def test_a_broken_download_leaves_no_file_behind(digits_mirror, handler, reason):
    root, _, use = digits_mirror
    with _http_server(handler) as url:
        use(url)
        with pytest.raises(DataError, match=f"Downloading MNIST digits failed .*{reason}"):
            data.load_images("digits", root=root, download=True)
        assert _listing(root) == {}  # no half-written archive that a later run could trust


# ------------------------------------------------------------------------------ command line


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_every_missing_data_message_is_one_english_line(tmp_path, no_system_copy, name):
    with pytest.raises(DataError) as err:
        data.prepare(name, root=tmp_path, download=False)
    msg = str(err.value)
    assert "\n" not in msg and "To fix it, or" not in msg
    expected = {
        "fashion": "To fix it, install Debian's package (sudo apt-get install dataset-fashion-mnist), "
                   f"copy the 4 .gz files into {tmp_path}/FashionMNIST/raw, or allow the download "
                   "where there is internet (export BOOK_DOWNLOAD=1).",
        "digits": f"To fix it, copy the 4 .gz files into {tmp_path}/MNIST/raw, allow the download "
                  "where there is internet (export BOOK_DOWNLOAD=1), or use the offline default "
                  "'fashion' instead.",
    }[name]
    assert msg.endswith(expected)


@pytest.mark.parametrize("args, env, start", [
    (["digits"], {}, "error: MNIST digits is not on this machine (missing train-images-idx3-ubyte.gz"),
    (["nope"], {}, "error: Unknown data set 'nope'. Choose one of: 'fashion', 'digits'."),
    (["digits"], {"BOOK_DOWNLOAD": "on"}, "error: BOOK_DOWNLOAD='on' is not a value the book accepts"),
])
def test_cli_ends_each_failure_with_one_line(tmp_path, monkeypatch, args, env, start):
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exit_:
        data.main(args)
    assert str(exit_.value.code).startswith(start) and "\n" not in str(exit_.value.code)
    assert list(tmp_path.iterdir()) == []


def test_python_m_helpers_prints_the_error_line_and_exits_1(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BOOK_")}
    result = subprocess.run([sys.executable, "-m", "helpers", "digits"], capture_output=True,
                            text=True, env={**clean, "BOOK_DATA": str(tmp_path)}, timeout=300)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: MNIST digits is not on this machine")
    assert result.stderr.count("\n") == 1 and list(tmp_path.iterdir()) == []


def test_two_preparations_at_once_leave_complete_files(tiny_digits):
    """Two runs preparing one data root at the same time (threads here; processes in the notes)."""
    root, arrays = tiny_digits
    errors = []

    def work():
        try:
            for _ in range(5):
                data.prepare("digits", root=root)
                for f in (root / "MNIST" / "raw").glob("*-ubyte"):
                    f.unlink(missing_ok=True)  # so that every round unpacks again
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    data.prepare("digits", root=root)
    raw = root / "MNIST" / "raw"
    assert not list(raw.glob("*.part"))
    for name in arrays:
        assert (raw / name.removesuffix(".gz")).read_bytes() == gzip.decompress((raw / name).read_bytes())


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_the_copied_metadata_is_torchvisions(name):
    """helpers.data keeps its own copy of torchvision's folder names, class names, MD5s and
    mirrors (importing torchvision costs seconds); a torchvision update that changes them
    shows here."""
    spec = data.DATASETS[name]
    tv = getattr(datasets, spec.folder)
    assert spec.classes == tuple(tv.classes)
    assert spec.mirrors == tuple(tv.mirrors)
    assert {n: md5 for n, md5 in tv.resources} == {
        n: md5 for n, md5s in spec.archives.items() for md5 in md5s
        if md5 not in data._DEBIAN_FASHION_MD5.values()}


def test_importing_helpers_leaves_torchvision_out():
    import subprocess
    import sys

    code = "import sys, helpers; helpers.load_images; print('torchvision' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "importing helpers imports torchvision (seconds)"
