"""Shared plumbing for the project's scripts: parameters, logging, metrics files, checkpoints.

Only the standard library is imported at the top, so that the launcher scripts
(``search_hyperparams.py``, ``synthesize_results.py``) start in a fraction of a second;
``torch`` is imported inside the checkpoint functions that need it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
from pathlib import Path
from typing import Any

PARAMS_FILE = "params.json"

# Every experiment's params.json must set these keys, with values of these types.
PARAMS_SCHEMA: dict[str, type | tuple[type, ...]] = {
    "model": str,               # "cnn" (helpers.CNN) or "mlp"
    "learning_rate": (int, float),
    "batch_size": int,
    "num_epochs": int,
    "n_train": int,             # training images (the first ones of Fashion-MNIST's training set)
    "n_val": int,               # validation images (held out from the training set)
    "n_test": int,              # test images, used only by evaluate.py
    "seed": int,
}
MUST_BE_POSITIVE = {"learning_rate", "batch_size", "num_epochs", "n_train", "n_val", "n_test"}


class ParamsError(ValueError):
    """A params.json is missing, is not valid JSON, or lacks a setting; the message says which."""


class CheckpointError(ValueError):
    """A checkpoint is missing, is not one of this project's, or holds another network's weights."""


class Params(dict):
    """Hyperparameters read from a JSON file; ``params.learning_rate`` reads ``params["learning_rate"]``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"params has no setting {name!r}") from None

    def save(self, path: str | Path) -> None:
        """Write the parameters to ``path`` as indented JSON."""
        Path(path).write_text(json.dumps(self, indent=4, sort_keys=True) + "\n")


def load_params(path: str | Path, schema: dict | None = None) -> Params:
    """Read a params.json (or a folder holding one) and check it against ``schema``."""
    path = Path(path)
    if path.is_dir():
        path = path / PARAMS_FILE
    if not path.is_file():
        raise ParamsError(f"no parameter file at {path}: create it, for example by copying "
                          f"the project's {PARAMS_FILE} into that folder")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ParamsError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path} must hold a JSON object of settings, not {type(data).__name__}")
    check_params(data, schema if schema is not None else PARAMS_SCHEMA, source=str(path))
    return Params(data)


def check_params(data: dict, schema: dict, source: str = "params") -> None:
    """Raise ParamsError naming every missing key and every value of the wrong type."""
    missing = [k for k in schema if k not in data]
    wrong = [f"{k}={data[k]!r} (expected {_type_name(t)})" for k, t in schema.items()
             if k in data and (not isinstance(data[k], t) or isinstance(data[k], bool))]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + wrong
    if problems:
        raise ParamsError(f"{source}: " + "; ".join(problems))
    bad = [k for k in schema if k in MUST_BE_POSITIVE and not data[k] > 0]
    if bad:
        raise ParamsError(f"{source}: {', '.join(bad)} must be positive")


def experiment_parser(doc: str, model_dir_help: str) -> argparse.ArgumentParser:
    """A parser for a script that works on one experiment folder: its description is the first
    paragraph of the script's docstring ``doc`` as one line, and it has the required
    ``--model_dir`` option."""
    parser = argparse.ArgumentParser(description=" ".join(doc.split("\n\n")[0].split()))
    parser.add_argument("--model_dir", required=True, type=Path, help=model_dir_help)
    return parser


def load_params_or_exit(model_dir: str | Path) -> Params:
    """``load_params`` for a script's ``main``: a missing or malformed file ends the script with
    ``error: <what is wrong and how to fix it>`` on stderr and exit status 1, not a traceback."""
    if Path(model_dir).exists() and not Path(model_dir).is_dir():
        raise SystemExit(f"error: --model_dir {model_dir} is a file, not a folder: pass the "
                         f"experiment folder that holds {PARAMS_FILE}")
    with exit_on(ParamsError):
        return load_params(model_dir)


@contextlib.contextmanager
def exit_on(*errors: type[BaseException]):
    """In this block, one of ``errors`` ends the script with one line, ``error: <message>``, on
    stderr and exit status 1 instead of a traceback. Wrap only the steps whose failures have
    messages written for the user (bad settings, missing data), not the training itself."""
    try:
        yield
    except errors as exc:
        text = str(exc)
        if isinstance(exc, OSError) and exc.filename:  # a file the script could not write
            text = (f"could not write {exc.filename} ({exc.strerror}): check that the folder "
                    "is writable and the disk has space")
        raise SystemExit("error: " + " ".join(text.split())) from None


def _type_name(t: type | tuple[type, ...]) -> str:
    return " or ".join(x.__name__ for x in t) if isinstance(t, tuple) else t.__name__


def set_logger(log_path: str | Path) -> logging.Logger:
    """Log to the terminal and to ``log_path`` (appending); a second call switches the file."""
    logger = logging.getLogger("project")
    logger.setLevel(logging.INFO)
    for handler in list(logger.handlers):  # called again in one process: don't log twice
        logger.removeHandler(handler)
        handler.close()
    file_handler = logging.FileHandler(log_path)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    stream_handler = logging.StreamHandler()
    stream_handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(file_handler)
    logger.addHandler(stream_handler)
    return logger


class RunningAverage:
    """The mean of the values seen so far, e.g. of the batch losses in one epoch."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, value: float, n: int = 1) -> None:
        self.total += value * n
        self.count += n

    def __call__(self) -> float:
        return self.total / self.count if self.count else math.nan


def save_dict_to_json(d: dict[str, float], path: str | Path) -> None:
    """Write a dict of metrics (numbers) to ``path`` as JSON."""
    Path(path).write_text(json.dumps({k: float(v) for k, v in d.items()}, indent=4) + "\n")


def save_checkpoint(state: dict, model_dir: str | Path, is_best: bool) -> None:
    """Save ``state`` (state_dicts, epoch) as ``last.pt``, and also as ``best.pt`` when ``is_best``.

    Each file is written under a temporary name and renamed when complete, so a full disk or an
    interrupt never leaves a half-written checkpoint under the name evaluate.py reads.
    """
    import torch

    model_dir = Path(model_dir)
    for name in ["last.pt", "best.pt"] if is_best else ["last.pt"]:
        partial = model_dir / f"{name}.part"
        try:
            torch.save(state, partial)
            os.replace(partial, model_dir / name)
        finally:
            partial.unlink(missing_ok=True)


def load_checkpoint(path: str | Path, model, optimizer=None) -> dict:
    """Load a checkpoint into ``model`` (and ``optimizer``); tensors only, so weights_only=True.

    Every way this can fail raises CheckpointError with a one-line message; none of them passes
    on torch.load's advice to retry with weights_only=False, which would run any code the file
    carries.
    """
    import torch

    path = Path(path)
    retrain = f"train again with train.py --model_dir {path.parent}"
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: train first with train.py --model_dir {path.parent}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (torch raises many kinds; its message is not shown)
        if "Unsupported global" in str(exc):
            raise CheckpointError(f"{path} holds Python objects besides tensors, which this project "
                                  f"never saves, so it was not loaded (unpickling them can run "
                                  f"code): {retrain}") from None
        raise CheckpointError(f"{path} is not a checkpoint torch.load can read "
                              f"({type(exc).__name__}): {retrain}") from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path} is not one of this project's checkpoints (it has no "
                              f"'model' state_dict): {retrain}")
    _check_fits(path, model.state_dict(), state["model"])
    model.load_state_dict(state["model"])
    if optimizer is not None:
        try:
            optimizer.load_state_dict(state["optimizer"])
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{path} holds no optimizer state for this model "
                                  f"({type(exc).__name__}): {retrain}") from None
    return state


def _check_fits(path: Path, expected: dict, found: dict) -> None:
    """CheckpointError unless ``found`` has exactly the tensor names and shapes of ``expected``."""
    missing = expected.keys() - found.keys()
    unexpected = found.keys() - expected.keys()
    reshaped = [k for k in expected.keys() & found.keys()
                if getattr(found[k], "shape", None) != expected[k].shape]
    if missing or unexpected or reshaped:
        raise CheckpointError(
            f"{path} holds the weights of another network than the one params.json names "
            f"({len(missing)} tensors missing, {len(unexpected)} unexpected, {len(reshaped)} of "
            f"another shape): evaluate it with the params.json it was trained with, or train again")
