"""Run settings shared by every chapter: the run budget, seeds and the device."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from helpers import settings

QUICK_ENV = "BOOK_QUICK"


def is_quick() -> bool:
    """True when ``BOOK_QUICK=1``: chapters then run their small, test-sized budget.

    ``0``, empty or unset mean the full budget; any other value is an error
    (helpers.settings).
    """
    return settings.switch(QUICK_ENV)


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA); return a seeded
    ``torch.Generator``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def pick_device() -> torch.device:
    """Any accelerator PyTorch finds (CUDA, Apple's MPS, Intel's XPU), else the CPU."""
    accelerator = getattr(torch, "accelerator", None)  # torch.accelerator: torch >= 2.6
    if accelerator is not None:
        if accelerator.is_available():
            return torch.device(accelerator.current_accelerator().type)
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe_run(device: torch.device) -> str:
    """One line for the top of a chapter: budget, device and versions."""
    budget = f"quick ({QUICK_ENV}=1)" if is_quick() else "full"
    name = ""
    # torch.cuda and torch.xpu name their devices; MPS does not
    if device.type != "cpu":
        get_name = getattr(getattr(torch, device.type, None), "get_device_name", None)
        label = get_name(device) if get_name else device.type.upper() + " accelerator"
        name = f" ({label})"
    return f"budget: {budget} | device: {device}{name} | torch {torch.__version__}"


def plain_number(value: Any) -> int | float:
    """``value`` as a plain Python number: a one-element tensor or NumPy scalar becomes
    an ``int`` (whole-number types) or a ``float``; anything else is a ``TypeError``."""
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        size = value.numel() if isinstance(value, torch.Tensor) else value.size
        if size != 1:
            raise TypeError(f"a checked number is one value, not {value!r}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"a checked number is an int or a float, not "
                        f"{type(value).__name__}: {value!r}")
    return value


def record(key: str, value: Any) -> int | float:
    """Publish a chapter's checked number under ``key`` for the status page (MyST-NB
    glue).

    The value is stored as a plain ``float`` (or ``int``), whatever it came as (a
    tensor, a NumPy scalar), so the page shows ``0.91`` rather than ``tensor(0.9100)``;
    it is stored in the executed notebook without being displayed; outside a notebook
    build (no ``myst_nb``) nothing is stored. Returns the plain value so it can be used
    inline.
    """
    value = plain_number(value)
    try:
        from myst_nb import glue
    except ImportError:
        return value
    glue(key, value, display=False)
    return value


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """``with helpers.torch_threads(1):`` runs the block on ``n`` CPU threads, then
    restores torch's thread count, also when the block raises."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
