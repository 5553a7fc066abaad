"""Image data for the chapters: Fashion-MNIST (default, offline) or MNIST digits, as tensors.

Files live under one data root (``$BOOK_DATA``, default ``<project>/data``) in the layout
torchvision expects (``<root>/FashionMNIST/raw/*-ubyte.gz``). Where an archive comes from, in
order: the data root; Debian's package ``dataset-fashion-mnist`` (Fashion-MNIST only); a
download, only when downloads are switched on (``download=True`` or ``BOOK_DOWNLOAD=1``), so the
book is offline by default.

What is verified, and what is not:

- Every image and label ``load_images`` returns was decompressed, in the same call, from archive
  bytes whose MD5 is in the list below (torchvision's own, or Debian's re-packaging). Nothing
  else on disk is read: no unpacked file, no cache, no ``*.sha256`` stamp (older versions of
  this module trusted such a stamp; a stamp changed together with its file went unnoticed).
- ``prepare`` also unpacks the archives for code that reads the data root with torchvision
  itself (the DataLoader chapter); an unpacked file is compared byte for byte with its verified
  archive on every ``prepare`` and rewritten when it differs. Files changed after ``prepare``
  returns are not checked again (torchvision reads them unchecked).
- torchvision reads ``<root>/<Dataset>/processed/{training,test}.pt`` (an old layout) in
  preference to the raw files, unchecked: ``load_images`` and ``prepare`` refuse a data root
  that holds them, with the command that removes them.
- Not verified: the MD5 list itself (it is code, reviewed with the code). MD5 collisions can
  be made for a pair of files crafted together, but no known attack makes a new file that
  matches a given MD5, such as these of files published years ago.

Every file written here (a copy, a download, an unpacked file) goes to a unique temporary file
in the same folder first and is renamed into place only when complete, so an interrupted run,
a full disk or two processes preparing at once never leave a half-written file under a name a
later run reads. A download gives up after ``STALL_SECONDS`` without data (or after
``DOWNLOAD_DEADLINE_SECONDS`` in all) with an error that names the offline alternatives.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gzip
import hashlib
import http.client
import os
import struct
import sys
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from helpers import settings
from helpers.paths import PROJECT_ROOT, data_root  # noqa: F401 - data.data_root stays importable

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
STALL_SECONDS = 60.0  # a download that receives nothing for this long is abandoned
DOWNLOAD_DEADLINE_SECONDS = 30 * 60.0  # and one file that takes longer than this in all
LEGACY_FILES = ("training.pt", "test.pt")  # torchvision's old processed/ layout


class DataError(RuntimeError):
    """A data set is missing, corrupt or unknown; the message (one line) says how to fix it."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where one data set's files live and the checksums that vouch for them."""

    key: str
    title: str
    folder: str  # torchvision's folder under the data root (its class name)
    classes: tuple[str, ...]  # class names, as torchvision gives them
    archives: dict[str, frozenset[str]]  # archive file name -> accepted MD5s
    mirrors: tuple[str, ...]  # download URLs: mirror + archive name
    system_dir: Path | None = None  # a folder a system package installs the archives in
    system_package: str | None = None


# torchvision's own names, MD5s and mirrors for the two data sets, copied here because
# importing torchvision takes seconds (it imports torch._dynamo) in every chapter and script
# that loads images; tests/test_data.py checks the copy against torchvision's classes.
_TORCHVISION_MD5 = {
    "FashionMNIST": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "MNIST": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
}
_CLASSES = {
    "FashionMNIST": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"),
    "MNIST": ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
              "7 - seven", "8 - eight", "9 - nine"),
}
_MIRRORS = {
    "FashionMNIST": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    "MNIST": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
}


def _accept(folder: str, extra: dict[str, str] | None = None) -> dict[str, frozenset[str]]:
    """Accept torchvision's own MD5s, plus those of a known re-packaging of the same files."""
    extra = extra or {}
    return {name: frozenset({md5, *([extra[name]] if name in extra else [])})
            for name, md5 in _TORCHVISION_MD5[folder].items()}


# Debian re-compressed the archives (same IDX content, different gzip bytes): its MD5s.
_DEBIAN_FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "cf8536b0aa1a6ac5fa3f23001093305c",
    "train-labels-idx1-ubyte.gz": "10bea18fdb374794d4bb42e356e600c9",
    "t10k-images-idx3-ubyte.gz": "f78720b4224f21cce2f2ccf2d7a94c9a",
    "t10k-labels-idx1-ubyte.gz": "0d30e22e447f3c33dab9ed536400ac01",
}

DATASETS: dict[str, DatasetSpec] = {
    "fashion": DatasetSpec(
        "fashion", "Fashion-MNIST", "FashionMNIST", _CLASSES["FashionMNIST"],
        _accept("FashionMNIST", _DEBIAN_FASHION_MD5), _MIRRORS["FashionMNIST"],
        system_dir=DEBIAN_FASHION_DIR, system_package="dataset-fashion-mnist",
    ),
    "digits": DatasetSpec("digits", "MNIST digits", "MNIST", _CLASSES["MNIST"],
                          _accept("MNIST"), _MIRRORS["MNIST"]),
}


@dataclass
class ImageData:
    """A whole data set in memory: images as float tensors in [0, 1], shape (N, 1, 28, 28)."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]
    name: str

    def __repr__(self) -> str:
        return (f"ImageData({self.name}: train {tuple(self.X_train.shape)}, "
                f"test {tuple(self.X_test.shape)}, {len(self.classes)} classes)")



def downloads_allowed() -> bool:
    """True when ``BOOK_DOWNLOAD=1``: only then may a loader reach the internet."""
    return settings.download()


def get_spec(name: str) -> DatasetSpec:
    """Look a data set up by its short name; an unknown name lists the valid ones."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in DATASETS)
        raise DataError(f"Unknown data set {name!r}. Choose one of: {valid}.") from None


def _english_list(items: list[str]) -> str:
    """``a``; ``a or b``; ``a, b, or c``."""
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


def _offline_fixes(spec: DatasetSpec, raw: Path) -> list[str]:
    fixes = []
    if spec.system_package:
        fixes.append(f"install Debian's package (sudo apt-get install {spec.system_package})")
    fixes.append(f"copy the {len(spec.archives)} .gz files into {raw}")
    return fixes


def _fallback(spec: DatasetSpec) -> list[str]:
    return [] if spec.key == "fashion" else ["use the offline default 'fashion' instead"]


def _missing_message(spec: DatasetSpec, raw: Path, missing: list[str]) -> str:
    fixes = [*_offline_fixes(spec, raw),
             "allow the download where there is internet (export BOOK_DOWNLOAD=1)", *_fallback(spec)]
    return (f"{spec.title} is not on this machine (missing {', '.join(missing)} in {raw}). "
            f"To fix it, {_english_list(fixes)}.")


def _cannot_write(path: Path, exc: OSError) -> DataError:
    fix = {errno.ENOSPC: "free some space", errno.EDQUOT: "free some space",
           errno.EROFS: "make the folder writable", errno.EACCES: "make the folder writable",
           errno.EPERM: "make the folder writable"}.get(exc.errno, "check that folder")
    return DataError(f"could not write {path} ({exc.strerror or exc}). To fix it, {fix}, or "
                     "point BOOK_DATA at another folder.")


def _write_atomically(target: Path, content: bytes) -> None:
    """Write ``target`` so that its name only ever holds the complete ``content``.

    The bytes go to a unique ``<target>.<random>.part`` beside it, renamed into place when
    complete and removed on any failure (a full disk, an interrupt).
    """
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, target)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _cannot_write(target, exc) from None
        raise


class _BadDownload(Exception):
    """A download that ended, but not with the file we asked for."""


def _fetch(url: str, accepted: frozenset[str]) -> bytes:
    """Download ``url`` into memory; a stall, a slow link or the wrong bytes raise."""
    request = urllib.request.Request(url, headers={"User-Agent": "pytorch/vision"})
    deadline = time.monotonic() + DOWNLOAD_DEADLINE_SECONDS
    content = bytearray()
    with urllib.request.urlopen(request, timeout=STALL_SECONDS) as response:
        while chunk := response.read1(1 << 16):  # read1: returns as soon as any data arrive
            if time.monotonic() > deadline:
                raise _BadDownload(f"not complete after {DOWNLOAD_DEADLINE_SECONDS:.0f} s")
            content += chunk
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    if md5 not in accepted:
        raise _BadDownload(f"received {len(content)} bytes with MD5 {md5}, not the expected file")
    return bytes(content)


def _why(exc: BaseException) -> str:
    """A failed download's cause in a few words (urllib wraps some causes in URLError)."""
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError):
        return f"no answer for {STALL_SECONDS:g} s"
    return f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__


def _download(spec: DatasetSpec, raw: Path, names: list[str]) -> None:
    """Fetch each archive in ``names`` from the first mirror that delivers it intact."""
    for name in names:
        errors = []
        for mirror in spec.mirrors:
            print(f"downloading {mirror}{name}", file=sys.stderr)
            try:
                content = _fetch(mirror + name, spec.archives[name])
            except (OSError, http.client.HTTPException, _BadDownload) as exc:
                errors.append(f"{mirror}{name}: {_why(exc)}")
            else:
                _write_atomically(raw / name, content)  # only a complete, verified file
                break
        else:
            fixes = _offline_fixes(spec, raw) + _fallback(spec)
            raise DataError(f"Downloading {spec.title} failed ({'; '.join(errors)}). Is this "
                            f"machine offline? Without internet, {_english_list(fixes)}.")


def _refuse_legacy(spec: DatasetSpec, root: Path) -> None:
    processed = root / spec.folder / "processed"
    stale = [name for name in LEGACY_FILES if (processed / name).exists()]
    if stale:
        raise DataError(
            f"{processed} holds {' and '.join(stale)} from an older torchvision, which torchvision "
            "reads instead of the checked archives and nothing verifies. To fix it, delete that "
            f"folder and run again: rm -r {processed}")


def _read_verified(path: Path, spec: DatasetSpec, name: str) -> bytes:
    """The bytes of archive ``path``, once their MD5 is found in the spec's list."""
    in_system = spec.system_dir is not None and path.parent == spec.system_dir
    fix = (f"reinstall Debian's package: sudo apt-get install --reinstall {spec.system_package}"
           if in_system else f"delete it and run again, so that it is fetched afresh: rm {path}")
    try:
        packed = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path} could not be read ({exc.strerror or exc}). To fix it, {fix}.") from None
    md5 = hashlib.md5(packed, usedforsecurity=False).hexdigest()
    accepted = spec.archives[name]
    if md5 not in accepted:
        raise DataError(f"{path} is corrupt or incomplete (MD5 {md5}, expected "
                        f"{' or '.join(sorted(accepted))}). To fix it, {fix}.")
    return packed


def _verified_contents(spec: DatasetSpec, root: Path, download: bool,
                       copy_system: bool) -> dict[str, bytes]:
    """Each archive's content, decompressed from checked bytes; fetch what is missing if allowed.

    Archives in Debian's folder are read in place, and also copied into the data root when
    ``copy_system`` (``prepare``: a data root that torchvision can read on its own).
    """
    _refuse_legacy(spec, root)
    raw = root / spec.folder / "raw"
    sources, missing = {}, []
    for name in spec.archives:
        system = spec.system_dir / name if spec.system_dir else None
        if (raw / name).exists():
            sources[name] = raw / name
        elif system is not None and system.exists():
            sources[name] = system
        else:
            missing.append(name)
    if missing and not download:
        raise DataError(_missing_message(spec, raw, missing))
    if missing:
        _download(spec, raw, missing)
        sources.update({name: raw / name for name in missing})
    packed = {name: _read_verified(path, spec, name) for name, path in sources.items()}
    contents = {}
    for name, path in sources.items():
        try:
            contents[name] = gzip.decompress(packed[name])
        except (OSError, EOFError, zlib.error) as exc:  # not for a listed MD5, but say so if so
            raise DataError(f"{path} could not be unpacked ({exc}).") from None
    if copy_system:  # only once every archive has passed: a failure writes nothing
        for name, path in sources.items():
            if path != raw / name:
                _write_atomically(raw / name, packed[name])
    return contents


def prepare(name: str = "fashion", root: Path | None = None, download: bool | None = None) -> Path:
    """Put data set ``name`` under ``root``, verified and unpacked for torchvision; return its raw folder."""
    spec = get_spec(name)
    root = Path(root) if root is not None else data_root()
    download = downloads_allowed() if download is None else download
    raw = root / spec.folder / "raw"
    contents = _verified_contents(spec, root, download, copy_system=True)
    for archive, content in contents.items():
        target = raw / archive.removesuffix(".gz")  # foo-ubyte.gz -> foo-ubyte
        if not _holds(target, content):
            _write_atomically(target, content)
    return raw


def _holds(target: Path, content: bytes) -> bool:
    """Whether ``target`` holds exactly ``content``; a file that is missing, or that another
    process removes while we read it, does not."""
    try:
        return target.stat().st_size == len(content) and target.read_bytes() == content
    except FileNotFoundError:
        return False


def _parse_idx(content: bytes, ndim: int, where: str) -> np.ndarray:
    """An IDX array of unsigned bytes (the MNIST format) as a read-only NumPy view."""
    if len(content) < 4 + 4 * ndim or content[:4] != bytes([0, 0, 0x08, ndim]):
        raise DataError(f"{where} is not an IDX file of {ndim}-D unsigned bytes")
    shape = struct.unpack(f">{ndim}I", content[4:4 + 4 * ndim])
    array = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != np.prod(shape):
        raise DataError(f"{where}: header says {shape}, file holds {array.size} values")
    return array.reshape(shape)


def load_images(name: str = "fashion", n_train: int | None = None, n_test: int | None = None,
                root: Path | None = None, download: bool | None = None) -> ImageData:
    """Load a whole image data set as tensors, optionally only its first ``n_train``/``n_test``.

    Reads only archives whose MD5 it has checked (see the module's notes); writes nothing unless
    a download is needed and allowed.
    """
    spec = get_spec(name)
    root = Path(root) if root is not None else data_root()
    download = downloads_allowed() if download is None else download
    contents = _verified_contents(spec, root, download, copy_system=False)
    parts = []
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = _parse_idx(contents[f"{split}-images-idx3-ubyte.gz"], 3, f"{spec.title} {split} images")
        labels = _parse_idx(contents[f"{split}-labels-idx1-ubyte.gz"], 1, f"{spec.title} {split} labels")
        X = torch.from_numpy(images[:n].copy()).unsqueeze(1).float().div_(255)  # (N, 1, 28, 28)
        parts += [X, torch.from_numpy(labels[:n].astype(np.int64))]
    return ImageData(*parts, classes=list(spec.classes), name=spec.title)


def batches(X: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = True,
            generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(X, y)`` mini-batches of in-memory tensors, shuffled by index when asked."""
    n = len(X)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def main(argv: list[str] | None = None) -> None:
    """``python -m helpers [names] [--download]``; every failure ends as one ``error:`` line."""
    parser = argparse.ArgumentParser(description="Fetch and verify the book's image data sets.")
    parser.add_argument("names", nargs="*", default=["fashion"], help=f"any of {list(DATASETS)}")
    parser.add_argument("--download", action="store_true", help="allow the download")
    args = parser.parse_args(argv)
    for name in args.names:
        try:
            raw = prepare(name, download=args.download or None)
        except (DataError, settings.SettingError) as exc:
            raise SystemExit(f"error: {exc}") from None
        print(f"{get_spec(name).title}: verified in {raw}")
