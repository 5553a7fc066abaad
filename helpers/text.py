"""Character corpora for the chapters: Debian's ``fortunes`` (quotations and
literature), as tensors.

Where the text comes from, in order: the ``folder`` a caller passes;
``<data root>/fortunes`` (``$BOOK_DATA/fortunes``, default ``<project>/data/fortunes``)
when it exists, for a machine without root where someone copied the files; Debian's
package ``fortunes``, read in place from ``/usr/share/games/fortunes`` (plain text:
nothing to unpack or copy). The package's text differs between distribution releases,
so no checksum is enforced; each corpus reports a short SHA-256 of its text instead, so
a run says which text it used.

A fortune file holds short texts separated by lines of ``%``. The loader keeps each
distinct fortune once, removes overstriking (``x\\b``) and every character outside
printable ASCII, newline and tab, and splits by whole fortunes, so no quotation is half
in training and half in validation. The split is deterministic: fortunes are ordered by
a keyed hash of their text, which depends neither on file order nor on library versions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from helpers.data import DataError, data_root

FORTUNES_DIR = Path("/usr/share/games/fortunes")
FORTUNES_PACKAGE = "fortunes"
# the fortune files' own separator, kept so a model learns where one ends
END_OF_FORTUNE = "%\n"

_OVERSTRIKE = re.compile(r".\x08")
_NOT_ALLOWED = re.compile(r"[^\t\n -~]")  # all but printable ASCII, newline and tab


class Vocab:
    """The characters of a corpus, each with an integer id (sorted, so ids are
    stable)."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        # a lookup table from code point to id (-1: unknown), so encoding is one
        # indexing
        self._table = np.full(max(map(ord, self.chars), default=0) + 2, -1,
                              dtype=np.int64)
        self._table[[ord(c) for c in self.chars]] = np.arange(len(self.chars))

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"Vocab({len(self)} characters: {''.join(self.chars)!r})"

    def encode(self, text: str) -> torch.Tensor:
        """Character ids of ``text`` as a 1-D long tensor; unknown characters raise
        ValueError."""
        codes = np.frombuffer(text.encode("utf-32-le"),
                              dtype=np.uint32).astype(np.int64)
        ids = self._table[np.minimum(codes, len(self._table) - 1)]
        if (ids < 0).any():
            unknown = sorted(set(text) - self.stoi.keys())
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return torch.from_numpy(ids)

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """The text that the character ids ``ids`` stand for."""
        if isinstance(ids, torch.Tensor):
            ids = ids.flatten().tolist()
        return "".join(self.chars[i] for i in ids)


@dataclass
class CharCorpus:
    """A character corpus split into training and validation text, both encoded."""

    train: torch.Tensor  # character ids, 1-D long
    val: torch.Tensor
    vocab: Vocab
    train_docs: list[str]
    val_docs: list[str]
    name: str
    sha256: str  # of the whole cleaned text, to tell releases of the corpus apart

    def __repr__(self) -> str:
        return (f"CharCorpus({self.name}: train {len(self.train):,} characters in "
                f"{len(self.train_docs):,} texts, validation {len(self.val):,} in "
                f"{len(self.val_docs):,}, {len(self.vocab)} distinct characters, "
                f"sha256 {self.sha256[:12]})")


def fortunes_folder(folder: Path | str | None = None) -> Path:
    """The folder to read fortunes from: ``folder``, else ``<data root>/fortunes``, else
    Debian's."""
    if folder is not None:
        return Path(folder).expanduser()
    local = data_root() / "fortunes"
    return local if local.is_dir() else FORTUNES_DIR


def _fix() -> str:
    return (f"install Debian's package: sudo apt-get install {FORTUNES_PACKAGE} "
            f"(puts the files in {FORTUNES_DIR}); or copy fortune files into "
            f"{data_root() / 'fortunes'}")


def clean(text: str) -> str:
    """``text`` without overstriking and without characters outside printable ASCII."""
    return _NOT_ALLOWED.sub("", _OVERSTRIKE.sub("", text.replace("\r\n", "\n")))


def read_fortunes(folder: Path | str | None = None,
                  files: Sequence[str] | None = None) -> list[str]:
    """Every distinct fortune in ``folder`` (default: see the module), cleaned, in file
    order."""
    root = fortunes_folder(folder)
    if not root.is_dir():
        raise DataError(f"The fortunes corpus is not on this machine: no folder "
                        f"{root}.\n"
                        f"To fix it, {_fix()}.")
    names = list(files) if files is not None else sorted(
        p.name for p in root.iterdir()
        if p.is_file() and not p.is_symlink() and "." not in p.name)  # skip .dat, .u8
    missing = [n for n in names if not (root / n).is_file()]
    if missing:
        raise DataError(f"No fortune file {', '.join(missing)} in {root}.\n"
                        f"To fix it, {_fix()}.")
    docs: dict[str, None] = {}
    for name in names:
        text = clean((root / name).read_bytes().decode("utf-8", errors="ignore"))
        for doc in re.split(r"^%[ \t]*$", text, flags=re.MULTILINE):
            doc = doc.strip("\n")
            if doc.strip():
                docs[doc] = None  # a dict keeps the first copy of a duplicate, in order
    if not docs:
        raise DataError(f"The fortunes corpus in {root} is empty (no fortunes in "
                        f"{len(names)} files).\nTo fix it, reinstall: "
                        f"sudo apt-get install --reinstall {FORTUNES_PACKAGE}; "
                        f"or copy fortune files into {data_root() / 'fortunes'}.")
    return list(docs)


def split_docs(docs: Sequence[str], val_fraction: float = 0.1,
               seed: int = 0) -> tuple[list[str], list[str]]:
    """Split texts into (train, validation): ``round(len * val_fraction)`` go to
    validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, not {val_fraction}")
    key = lambda d: hashlib.sha256(f"{seed}:{d}".encode()).digest()  # noqa: E731
    chosen = set(sorted(range(len(docs)), key=lambda i: key(docs[i]))
                 [:round(len(docs) * val_fraction)])
    train = [d for i, d in enumerate(docs) if i not in chosen]
    return train, [d for i, d in enumerate(docs) if i in chosen]


def join_docs(docs: Iterable[str]) -> str:
    """One text: each fortune followed by the ``%`` line that ends it in the fortune
    files."""
    return "".join(d + "\n" + END_OF_FORTUNE for d in docs)


def load_fortunes(folder: Path | str | None = None,
                  files: Sequence[str] | None = None,
                  val_fraction: float = 0.1, seed: int = 0) -> CharCorpus:
    """The fortunes as a character corpus with a deterministic train/validation
    split."""
    docs = read_fortunes(folder, files)
    train_docs, val_docs = split_docs(docs, val_fraction, seed)
    if not train_docs or not val_docs:
        raise DataError(f"{len(docs)} fortunes are too few to split with "
                        f"val_fraction={val_fraction}: use more files.")
    train_text, val_text = join_docs(train_docs), join_docs(val_docs)
    vocab = Vocab(train_text + val_text)
    sha = hashlib.sha256(join_docs(docs).encode()).hexdigest()
    name = f"fortunes ({fortunes_folder(folder)})"
    return CharCorpus(vocab.encode(train_text), vocab.encode(val_text), vocab,
                      train_docs, val_docs, name, sha)
