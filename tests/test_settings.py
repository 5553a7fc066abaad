"""helpers.settings: every BOOK_* variable read in one place, with one rule, and a bad value refused."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import types
import sys
from pathlib import Path

import pytest

import helpers
from helpers import settings
from helpers.settings import SettingError

ROOT = Path(__file__).resolve().parents[1]
SWITCHES = [name for name, s in settings.SETTINGS.items() if s.is_switch]
PATHS = [name for name, s in settings.SETTINGS.items() if not s.is_switch]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Each test starts with no BOOK_* variable set."""
    for name in list(os.environ):
        if name.startswith("BOOK_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), (" 1 ", True)])
def test_a_switch_is_1_or_0(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert settings.switch(name) is expected


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("value", [None, "", "  "])
def test_unset_or_empty_is_the_default(monkeypatch, name, value):
    if value is not None:
        monkeypatch.setenv(name, value)
    assert settings.switch(name) is settings.SETTINGS[name].default


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("value", ["2", "on", "off", "true", "yes", "quick", "-1"])
def test_any_other_value_is_an_error_naming_the_accepted_ones(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as err:
        settings.switch(name)
    assert str(err.value).startswith(f"{name}={value!r} is not a value the book accepts")
    assert f"{name}=1 (on)" in str(err.value) and f"{name}=0 (off)" in str(err.value)
    assert "\n" not in str(err.value)


def test_the_chapters_budget_switch_refuses_a_bad_value(monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "on")
    with pytest.raises(SettingError, match="BOOK_QUICK='on'"):
        helpers.is_quick()
    monkeypatch.setenv("BOOK_QUICK", "2")
    with pytest.raises(SettingError, match="BOOK_QUICK='2'"):
        helpers.is_quick()
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert helpers.is_quick()


def test_the_download_switch_refuses_a_bad_value(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_DOWNLOAD", "yes")
    with pytest.raises(SettingError, match="BOOK_DOWNLOAD='yes'"):
        helpers.load_images("digits", root=tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", PATHS)
def test_a_path_is_expanded_and_unset_is_the_default(monkeypatch, name):
    assert settings.path(name) == settings.SETTINGS[name].default
    monkeypatch.setenv(name, "")
    assert settings.path(name) == settings.SETTINGS[name].default
    monkeypatch.setenv(name, "~/somewhere")
    assert settings.path(name) == Path.home() / "somewhere"


def test_folders_follow_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOK_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("BOOK_OUTPUT", str(tmp_path / "o"))
    assert helpers.data_root() == (tmp_path / "d").resolve()
    monkeypatch.setenv("BOOK_QUICK", "0")
    assert helpers.output_dir("ch") == tmp_path / "o" / "full" / "ch"  # one folder per budget
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert helpers.output_dir("ch") == tmp_path / "o" / "quick" / "ch"
    monkeypatch.delenv("BOOK_DATA")
    assert helpers.data_root() == ROOT / "data"


def test_check_names_every_bad_variable(monkeypatch):
    settings.check()
    monkeypatch.setenv("BOOK_QUICK", "on")
    monkeypatch.setenv("BOOK_SCREENSHOTS", "no")
    with pytest.raises(SettingError, match="BOOK_QUICK='on'.*; BOOK_SCREENSHOTS='no'"):
        settings.check()


def test_asking_for_an_unknown_setting_is_a_programming_error():
    with pytest.raises(KeyError, match="BOOK_QIUCK is not one of the book's switches"):
        settings.switch("BOOK_QIUCK")
    with pytest.raises(KeyError, match="path settings"):
        settings.path("BOOK_QUICK")


def test_readme_lists_every_setting_and_no_other():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(BOOK_[A-Z]+)[=`]", readme, flags=re.MULTILINE)
    assert sorted(listed) == sorted(settings.SETTINGS)


def _python_files() -> list[Path]:
    folders = ["helpers", "book", "tests", "notebooks"]
    return [p for f in folders for p in (ROOT / f).rglob("*.py")] + [ROOT / "conftest.py"]


def test_no_other_module_reads_a_book_variable():
    reads = re.compile(r"""environ(\.get\(|\[)\s*["']BOOK_|getenv\(\s*["']BOOK_""")
    offenders = [str(p.relative_to(ROOT)) for p in _python_files()
                 if p.name != "settings.py" and reads.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_settings_imports_only_the_standard_library():
    tree = ast.parse((ROOT / "helpers" / "settings.py").read_text(encoding="utf-8"))
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m.split(".")[0] for m in modules} <= set(sys.stdlib_module_names) | {"__future__"}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sphinx_extension_reads_the_settings_without_helpers_or_torch(monkeypatch):
    for blocked in ("helpers", "helpers.settings", "torch"):  # importing them now fails
        monkeypatch.setitem(sys.modules, blocked, None)
    monkeypatch.delitem(sys.modules, "helpers_settings_for_sphinx", raising=False)
    status_table = _load("status_table_under_test", ROOT / "book" / "_ext" / "status_table.py")
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert status_table.settings.quick() is True
    monkeypatch.setenv("BOOK_QUICK", "on")
    with pytest.raises(ValueError, match="BOOK_QUICK='on' is not a value the book accepts"):
        status_table.settings.quick()


# what pytest_configure reads of a config that runs without pytest-xdist
NOT_DISTRIBUTED = types.SimpleNamespace(getoption=lambda name, default=None: default)


def test_pytest_stops_at_once_on_a_bad_value(monkeypatch):
    """``BOOK_QUICK=on make test`` must not run the full budget: pytest refuses to start
    (a UsageError in pytest_configure: exit status 4, the message, no test run)."""
    root_conftest = _load("root_conftest_under_test", ROOT / "conftest.py")
    monkeypatch.setenv("BOOK_QUICK", "on")
    with pytest.raises(pytest.UsageError, match="^BOOK_QUICK='on' is not a value the book accepts"):
        root_conftest.pytest_configure(NOT_DISTRIBUTED)
    monkeypatch.setenv("BOOK_QUICK", "1")
    root_conftest.pytest_configure(NOT_DISTRIBUTED)
