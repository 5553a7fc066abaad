"""Every ``BOOK_*`` environment variable the book reads, read here and nowhere else.

One rule for all of them:

- a **switch** is ``1`` (on) or ``0`` (off); unset or empty means its default; any other value
  (``2``, ``on``, ``true``, ``yes``) is an error that names the accepted ones, never a silent
  "off";
- a **path** is used as given, ``~`` expanded; unset or empty means its default.

Standard library only: the Sphinx extensions in ``book/_ext`` load this file without importing
the ``helpers`` package (and with it PyTorch). ``README.md``'s settings table lists the same
variables (a unit test keeps the two in step).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ON, OFF = "1", "0"


class SettingError(ValueError):
    """A ``BOOK_*`` variable holds a value the book does not accept; the message says which."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: a switch (``default`` is a bool) or a path."""

    name: str
    default: bool | Path | None
    effect: str

    @property
    def is_switch(self) -> bool:
        return isinstance(self.default, bool)


SETTINGS: dict[str, Setting] = {s.name: s for s in [
    Setting("BOOK_QUICK", False, "every chapter runs its small test budget"),
    Setting("BOOK_DOWNLOAD", False, "torchvision may download data sets"),
    Setting("BOOK_SCREENSHOTS", False, "the browser test saves screenshots (make check-site: on)"),
    Setting("BOOK_DATA", PROJECT_ROOT / "data", "where data sets live"),
    Setting("BOOK_OUTPUT", PROJECT_ROOT / "outputs", "where chapters write their files"),
    Setting("BOOK_SITE", None, "an already-built site for the browser test"),
    Setting("BOOK_CHROMIUM", Path("/usr/bin/chromium"), "the browser the browser test drives"),
]}


def _lookup(name: str, switch: bool) -> Setting:
    setting = SETTINGS.get(name)
    if setting is None or setting.is_switch != switch:
        kind = "switches" if switch else "path settings"
        known = ", ".join(n for n, s in SETTINGS.items() if s.is_switch == switch)
        raise KeyError(f"{name} is not one of the book's {kind}: {known}")
    return setting


def switch(name: str) -> bool:
    """The switch ``name``: True for ``1``, False for ``0``, its default when unset or empty."""
    setting = _lookup(name, switch=True)
    value = os.environ.get(name, "").strip()
    if not value:
        return bool(setting.default)
    if value not in (ON, OFF):
        default = ON if setting.default else OFF
        raise SettingError(f"{name}={value!r} is not a value the book accepts: set {name}=1 "
                           f"(on) or {name}=0 (off), or unset it for the default ({default})")
    return value == ON


def path(name: str) -> Path | None:
    """The path setting ``name`` with ``~`` expanded, or its default when unset or empty."""
    setting = _lookup(name, switch=False)
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else setting.default


def check() -> None:
    """Read every setting; raise one SettingError naming each variable with a bad value."""
    problems = []
    for name, setting in SETTINGS.items():
        try:
            switch(name) if setting.is_switch else path(name)
        except SettingError as exc:
            problems.append(str(exc))
    if problems:
        raise SettingError("; ".join(problems))


# The settings by what they mean (the rest of the book calls these).

def quick() -> bool:
    """``BOOK_QUICK=1``: chapters run their small, test-sized budget."""
    return switch("BOOK_QUICK")


def download() -> bool:
    """``BOOK_DOWNLOAD=1``: a data loader may reach the internet (offline otherwise)."""
    return switch("BOOK_DOWNLOAD")


def data_root() -> Path:
    """``$BOOK_DATA`` (absolute) or ``<project>/data``: the folder that holds every data set."""
    return path("BOOK_DATA").resolve()
