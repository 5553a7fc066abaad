"""Image data for the chapters: Fashion-MNIST (default, offline) or MNIST digits, as tensors.

Files live under one data root (``$BOOK_DATA``, default ``<project>/data``) in the layout
torchvision expects (``<root>/FashionMNIST/raw/*-ubyte``). Each raw file is unpacked from a
``.gz`` archive whose MD5 is checked against a known list before every use, and the unpacked
file is checked against the SHA-256 recorded when it was unpacked.

Where the archives come from, in order: already in the data root; Debian's package
``dataset-fashion-mnist`` (Fashion-MNIST only); torchvision's download, only when downloads are
switched on (``download=True`` or ``BOOK_DOWNLOAD=1``), so the book is offline by default.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torchvision import datasets

from helpers.paths import PROJECT_ROOT, data_root  # noqa: F401 - data.data_root stays importable

DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


class DataError(RuntimeError):
    """A data set is missing, corrupt or unknown; the message says how to fix it."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where one data set's files live and the checksums that vouch for them."""

    key: str
    title: str
    tv_class: type  # torchvision class that reads the IDX files
    archives: dict[str, frozenset[str]]  # archive file name -> accepted MD5s
    system_dir: Path | None = None  # a folder a system package installs the archives in
    system_package: str | None = None


def _torchvision_md5s(cls: type) -> dict[str, str]:
    return {url.rsplit("/", 1)[-1]: md5 for url, md5 in cls.resources}


def _accept(cls: type, extra: dict[str, str] | None = None) -> dict[str, frozenset[str]]:
    """Accept torchvision's own MD5s, plus those of a known re-packaging of the same files."""
    extra = extra or {}
    return {name: frozenset({md5, *([extra[name]] if name in extra else [])})
            for name, md5 in _torchvision_md5s(cls).items()}


# Debian re-compressed the archives (same IDX content, different gzip bytes): its MD5s.
_DEBIAN_FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "cf8536b0aa1a6ac5fa3f23001093305c",
    "train-labels-idx1-ubyte.gz": "10bea18fdb374794d4bb42e356e600c9",
    "t10k-images-idx3-ubyte.gz": "f78720b4224f21cce2f2ccf2d7a94c9a",
    "t10k-labels-idx1-ubyte.gz": "0d30e22e447f3c33dab9ed536400ac01",
}

DATASETS: dict[str, DatasetSpec] = {
    "fashion": DatasetSpec(
        "fashion", "Fashion-MNIST", datasets.FashionMNIST,
        _accept(datasets.FashionMNIST, _DEBIAN_FASHION_MD5),
        system_dir=DEBIAN_FASHION_DIR, system_package="dataset-fashion-mnist",
    ),
    "digits": DatasetSpec("digits", "MNIST digits", datasets.MNIST, _accept(datasets.MNIST)),
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
    return os.environ.get("BOOK_DOWNLOAD", "0").strip().lower() in {"1", "true", "yes"}


def get_spec(name: str) -> DatasetSpec:
    """Look a data set up by its short name; an unknown name lists the valid ones."""
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in DATASETS)
        raise DataError(f"Unknown data set {name!r}. Choose one of: {valid}.") from None


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _missing_message(spec: DatasetSpec, raw: Path, missing: list[str]) -> str:
    fixes = []
    if spec.system_package:
        fixes.append(f"install Debian's package: sudo apt-get install {spec.system_package}"
                     f" (puts the files in {spec.system_dir})")
    fixes.append(f"or copy the files into {raw}")
    fixes.append("or, with internet access, allow the download: export BOOK_DOWNLOAD=1")
    if spec.key != "fashion":
        fixes.append("or switch back to the offline default: use 'fashion'")
    return (f"{spec.title} is not on this machine: missing {', '.join(missing)} in {raw}.\n"
            "To fix it, " + ";\n  ".join(fixes) + ".")


def _download(spec: DatasetSpec, root: Path) -> None:
    try:
        spec.tv_class(str(root), train=True, download=True)
    except Exception as exc:  # torchvision raises RuntimeError / URLError on no network
        raise DataError(
            f"Downloading {spec.title} failed ({type(exc).__name__}: {exc}).\n"
            "Is this machine offline? Without internet, "
            + ("install Debian's package dataset-fashion-mnist, or " if spec.system_package else "")
            + f"copy the .gz files into {root / spec.tv_class.__name__ / 'raw'}."
        ) from exc


def prepare(name: str = "fashion", root: Path | None = None, download: bool | None = None) -> Path:
    """Make sure data set ``name`` is under ``root``, verified and unpacked; return its raw folder."""
    spec = get_spec(name)
    root = Path(root) if root is not None else data_root()
    download = downloads_allowed() if download is None else download
    raw = root / spec.tv_class.__name__ / "raw"

    missing = [a for a in spec.archives if not (raw / a).exists()]
    if missing and spec.system_dir and all((spec.system_dir / a).exists() for a in missing):
        raw.mkdir(parents=True, exist_ok=True)
        for a in missing:
            shutil.copyfile(spec.system_dir / a, raw / a)
        missing = []
    if missing and download:
        _download(spec, root)
        missing = [a for a in spec.archives if not (raw / a).exists()]
    if missing:
        raise DataError(_missing_message(spec, raw, missing))

    for archive, accepted in spec.archives.items():
        _verify_and_unpack(raw / archive, accepted)
    return raw


def _verify_and_unpack(archive: Path, accepted: frozenset[str]) -> None:
    md5 = _digest(archive, "md5")
    if md5 not in accepted:
        raise DataError(
            f"{archive} is corrupt or incomplete (MD5 {md5}, expected {' or '.join(sorted(accepted))}).\n"
            f"Delete it and run again, so that it is copied or downloaded afresh: rm {archive}"
        )
    target = archive.with_suffix("")  # foo-ubyte.gz -> foo-ubyte
    stamp = target.with_name(target.name + ".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == _digest(target, "sha256"):
        return
    try:
        with gzip.open(archive, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    except (OSError, EOFError) as exc:
        raise DataError(f"{archive} could not be unpacked ({exc}). Delete it and run again.") from exc
    stamp.write_text(_digest(target, "sha256") + "\n")


def load_images(name: str = "fashion", n_train: int | None = None, n_test: int | None = None,
                root: Path | None = None, download: bool | None = None) -> ImageData:
    """Load a whole image data set as tensors, optionally only its first ``n_train``/``n_test``."""
    spec = get_spec(name)
    root = Path(root) if root is not None else data_root()
    prepare(name, root, download)
    parts = []
    for train in (True, False):
        ds = spec.tv_class(str(root), train=train, download=False)
        n = n_train if train else n_test
        X = ds.data[:n].unsqueeze(1).float().div_(255)  # (N, 1, 28, 28) in [0, 1]
        parts += [X, ds.targets[:n].clone()]
    return ImageData(*parts, classes=list(ds.classes), name=spec.title)


def batches(X: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = True,
            generator: torch.Generator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(X, y)`` mini-batches of in-memory tensors, shuffled by index when asked."""
    n = len(X)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fetch and verify the book's image data sets.")
    parser.add_argument("names", nargs="*", default=["fashion"], help=f"any of {list(DATASETS)}")
    parser.add_argument("--download", action="store_true", help="allow torchvision to download")
    args = parser.parse_args(argv)
    for name in args.names:
        try:
            raw = prepare(name, download=args.download or None)
        except DataError as exc:
            raise SystemExit(f"error: {exc}") from None
        print(f"{get_spec(name).title}: verified in {raw}")

