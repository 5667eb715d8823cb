"""The tests' own layout: what test modules share lives in tests/support (or in conftest.py as a
fixture), so no test module imports another test module, nor conftest.py (which pytest imports
under its own name: a second import is a second copy of its module state)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _is_test_module(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def forbidden_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of every import of a test module or of conftest in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            joint = base if base.endswith(".") else base + "."
            # `from tests.test_x import y` names the module; `from tests import test_x` its name.
            names = [base] if node.module and _is_test_module(base) else []
            names = names or [joint + alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if _is_test_module(name)]
    return sorted(found)


def test_no_test_module_imports_another_test_module() -> None:
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in forbidden_imports(path.read_text())
    ]
    assert not offenders, (
        "a test module reached into another test module (or conftest.py); move what they share "
        "into tests/support/ (a helper) or tests/conftest.py (a fixture). What conftest.py "
        "used to export: cli and run_cli are in tests.support.cli, with_database and admin in "
        "tests.support.databases, the settings' constants in tests.support.settings.\n  "
        + "\n  ".join(offenders)
    )


def test_the_check_catches_each_form_of_import() -> None:
    source = """
import tests.test_listener
from tests.test_changes import read_feed
from tests import test_migrations
from .test_write_path import race
from . import conftest
from tests.conftest import run_cli

def later():
    from tests.test_stream import feed
from tests.support.pages import read_feed
from tests import support
import testing_tools
"""
    assert forbidden_imports(source) == [
        (2, "tests.test_listener"),
        (3, "tests.test_changes"),
        (4, "tests.test_migrations"),
        (5, ".test_write_path"),
        (6, ".conftest"),
        (7, "tests.conftest"),
        (10, "tests.test_stream"),
    ]
