"""The character-corpus loader, on small fortune files the tests write: errors, split, vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from helpers import text
from helpers.data import DataError


def _write_fortunes(folder: Path, name: str, docs: list[str]) -> None:
    """A fortune file in the package's format: texts separated by lines holding only ``%``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(d + "\n%\n" for d in docs))


@pytest.fixture
def fortunes(tmp_path) -> Path:
    """Two fortune files of 20 texts in all, with an index file and a link the loader skips."""
    folder = tmp_path / "fortunes"
    _write_fortunes(folder, "wisdom", [f"Wise saying number {i}.\n\t\t-- Someone" for i in range(12)])
    _write_fortunes(folder, "jokes", [f"Joke {i}: a {'b' * i}!" for i in range(8)])
    (folder / "wisdom.dat").write_bytes(b"\x00\x02\xff binary index")
    (folder / "wisdom.u8").symlink_to(folder / "wisdom")
    return folder


def test_missing_folder_names_the_package_and_the_fix(tmp_path):
    with pytest.raises(DataError) as err:
        text.load_fortunes(tmp_path / "nowhere")
    msg = str(err.value)
    assert "not on this machine" in msg and str(tmp_path / "nowhere") in msg
    assert "apt-get install fortunes" in msg and "/usr/share/games/fortunes" in msg


def test_missing_named_file_is_a_data_error(fortunes):
    with pytest.raises(DataError, match="No fortune file literature"):
        text.load_fortunes(fortunes, files=["literature"])


@pytest.mark.parametrize("content", ["", "%\n%\n\n%\n", "\x07\x08\n%\n"])
def test_empty_corpus_says_so(tmp_path, content):
    folder = tmp_path / "fortunes"
    folder.mkdir()
    (folder / "empty").write_text(content)
    with pytest.raises(DataError, match="(?s)is empty.*reinstall.*fortunes"):
        text.load_fortunes(folder)


def test_empty_folder_says_so(tmp_path):
    (tmp_path / "fortunes").mkdir()
    with pytest.raises(DataError, match="is empty"):
        text.load_fortunes(tmp_path / "fortunes")


def test_reads_every_fortune_once_and_skips_index_files(fortunes):
    _write_fortunes(fortunes, "again", ["Joke 3: a bbb!"])  # a duplicate, kept once
    docs = text.read_fortunes(fortunes)
    assert len(docs) == 20 and "Joke 3: a bbb!" in docs
    assert not any("binary" in d for d in docs)


def test_clean_removes_overstriking_and_non_ascii():
    assert text.clean("_\x08b_\x08o_\x08ld caf\u00e9\r\n\tok\x07") == "bold caf\n\tok"


@pytest.mark.parametrize("val_fraction, n_val", [(0.1, 2), (0.25, 5), (0.5, 10)])
def test_split_sizes(fortunes, val_fraction, n_val):
    corpus = text.load_fortunes(fortunes, val_fraction=val_fraction)
    assert len(corpus.val_docs) == n_val and len(corpus.train_docs) == 20 - n_val
    assert not set(corpus.val_docs) & set(corpus.train_docs)
    assert len(corpus.train) == len(text.join_docs(corpus.train_docs))
    assert len(corpus.val) == len(text.join_docs(corpus.val_docs))


def test_split_is_deterministic_and_ignores_file_order(fortunes):
    a = text.load_fortunes(fortunes, files=["wisdom", "jokes"], seed=3)
    b = text.load_fortunes(fortunes, files=["jokes", "wisdom"], seed=3)
    assert set(a.val_docs) == set(b.val_docs)
    c = text.load_fortunes(fortunes, seed=4)
    assert len(c.val_docs) == len(a.val_docs)


def test_bad_val_fraction(fortunes):
    with pytest.raises(ValueError, match="val_fraction"):
        text.load_fortunes(fortunes, val_fraction=1.0)


def test_too_few_fortunes_to_split(tmp_path):
    _write_fortunes(tmp_path / "f", "one", ["Only one."])
    with pytest.raises(DataError, match="too few"):
        text.load_fortunes(tmp_path / "f")


def test_encode_decode_round_trip(fortunes):
    corpus = text.load_fortunes(fortunes)
    vocab = corpus.vocab
    assert vocab.chars == sorted(vocab.chars) and len(vocab) == len(set(vocab.chars))
    assert vocab.decode(corpus.train) == text.join_docs(corpus.train_docs)
    sample = "Joke 7: a bb!\n\t\t-- Someone"
    ids = vocab.encode(sample)
    assert ids.dtype == torch.long and ids.shape == (len(sample),)
    assert vocab.decode(ids) == sample and vocab.decode(ids.tolist()) == sample
    assert "%" in vocab.chars and "\n" in vocab.chars  # the separator is part of the text


def test_encode_unknown_character(fortunes):
    vocab = text.load_fortunes(fortunes).vocab
    with pytest.raises(ValueError, match="not in the vocabulary: 'Zz'"):
        vocab.encode("zZ")


def test_data_root_copy_comes_first(tmp_path, monkeypatch):
    _write_fortunes(tmp_path / "fortunes", "mine", [f"Local {i}" for i in range(10)])
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))
    assert text.fortunes_folder() == tmp_path / "fortunes"
    corpus = text.load_fortunes()
    assert str(tmp_path / "fortunes") in corpus.name
    assert all(d.startswith("Local") for d in corpus.train_docs + corpus.val_docs)


def test_debian_folder_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOK_DATA", str(tmp_path))  # no fortunes/ there
    assert text.fortunes_folder() == text.FORTUNES_DIR
