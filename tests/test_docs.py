"""The docs and the code state the same facts where the code can state them: the settings, the
problem types, the routes and the version. A new setting, problem type or route fails here
until docs/ describes it, and a page that names one the code no longer has fails too."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from importlib.metadata import version as installed_version
from typing import Any

import httpx
import pytest

import notes_service
from notes_service import errors
from notes_service.platform.settings import PROJECT_DIR, Settings
from notes_service.web import openapi
from notes_service.web.app import create_app

DOCS = PROJECT_DIR / "docs"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@cache
def _document() -> dict[str, Any]:
    result: dict[str, Any] = create_app(Settings(_env_file=None)).openapi()
    return result


def _table_rows(page: str, section: str) -> list[list[str]]:
    """The cells of every table row under `## section` of docs/<page>, header rows left out."""
    text = (DOCS / page).read_text()
    assert f"\n## {section}\n" in text, f"docs/{page} has no section '## {section}'"
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in body.splitlines():
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        rows.append(cells)
    return rows[1:]  # the header


def _missing_and_extra(code: set[str], docs: set[str]) -> tuple[list[str], list[str]]:
    return sorted(code - docs), sorted(docs - code)


# Settings ---------------------------------------------------------------------------------------


def _setting_variables() -> dict[str, Any]:
    return {f"NOTES_{name.upper()}": field for name, field in Settings.model_fields.items()}


def _documented_settings() -> dict[str, str]:
    """Each documented variable and its default cell (`A` / `B` rows share one cell)."""
    documented: dict[str, str] = {}
    for cells in _table_rows("configuration.md", "Settings"):
        names = re.findall(r"`(NOTES_[A-Z0-9_]+)`", cells[0])
        assert names, f"a row of docs/configuration.md names no variable: {cells[0]}"
        defaults = [d.strip() for d in cells[1].split(" / ")]
        for index, name in enumerate(names):
            documented[name] = defaults[index] if len(defaults) == len(names) else cells[1]
    return documented


def test_every_setting_is_documented_and_nothing_else() -> None:
    missing, extra = _missing_and_extra(set(_setting_variables()), set(_documented_settings()))
    assert not missing, (
        f"settings in notes_service/platform/settings.py that docs/configuration.md does not "
        f"list (add a row to its '## Settings' table): {missing}"
    )
    assert not extra, (
        f"docs/configuration.md lists variables that are no setting (renamed or removed?): {extra}"
    )


def test_documented_plain_defaults_are_the_real_ones() -> None:
    """Where the default cell is a plain number or boolean, it is the field's default."""
    fields = _setting_variables()
    checked = 0
    for name, cell in _documented_settings().items():
        value = cell.strip("`")
        default = fields[name].default
        if value in ("true", "false"):
            assert default is (value == "true"), f"{name}: docs say {value}, code {default!r}"
        elif re.fullmatch(r"\d+(\.\d+)?", value):
            assert isinstance(default, int | float), f"{name}: docs say {value}, code {default!r}"
            assert float(value) == float(default), f"{name}: docs say {value}, code {default!r}"
        else:
            continue
        checked += 1
    assert checked >= 20  # most defaults are plain: the check must not pass by skipping them


def test_the_test_variables_are_the_ones_the_tests_read() -> None:
    documented = {
        name
        for cells in _table_rows("configuration.md", "For the tests and CI")
        for name in re.findall(r"`(NOTES_(?:TEST|DRIFT)_[A-Z0-9_]+)`", cells[0])
    }
    sources = [*(PROJECT_DIR / "tests").glob("*.py"), *(PROJECT_DIR / ".ci").glob("*")]
    read = {
        name
        for path in sources
        if path.is_file() and path.name != "test_docs.py"
        for name in re.findall(r"NOTES_(?:TEST|DRIFT)_[A-Z0-9_]+", path.read_text())
    }
    missing, extra = _missing_and_extra(read, documented)
    assert not missing, f"tests read variables docs/configuration.md does not list: {missing}"
    assert not extra, f"docs/configuration.md lists test variables nothing reads: {extra}"


def test_the_openapi_document_names_only_real_settings() -> None:
    named = set(re.findall(r"NOTES_[A-Z0-9_]+", json.dumps(_document())))
    assert named <= set(_setting_variables()), sorted(named - set(_setting_variables()))
    # A broad search returns only the newest matches: a client must be told so where it looks.
    search = _document()["paths"]["/v1/search"]["get"]["description"]
    assert "NOTES_SEARCH_RANK_LIMIT" in search, search
    assert "NOTES_SEARCH_RANK_LIMIT" in (DOCS / "search.md").read_text()


# Problem types ----------------------------------------------------------------------------------


def _subclasses(cls: type[errors.AppError]) -> list[type[errors.AppError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _code_problems() -> dict[str, set[int]]:
    _document()  # imports every module that defines an error
    problems: dict[str, set[int]] = {errors.AppError.slug: {errors.AppError.status}}
    for cls in _subclasses(errors.AppError):
        problems.setdefault(cls.slug, set()).add(cls.status)
    for slug, (status, _) in openapi._PROBLEMS.items():
        problems.setdefault(slug, set()).add(status)
    return problems


def test_every_problem_type_is_documented_with_its_status() -> None:
    documented: dict[str, int] = {}
    for cells in _table_rows("problems.md", "Types"):
        match = re.fullmatch(r"`urn:notes-service:problem:([a-z-]+)`", cells[0])
        assert match, f"a row of docs/problems.md is not a problem type: {cells[0]}"
        documented[match[1]] = int(cells[1])
    code = _code_problems()
    missing, extra = _missing_and_extra(set(code), set(documented))
    assert not missing, (
        f"problem types the code answers that docs/problems.md does not list: {missing}"
    )
    assert not extra, f"docs/problems.md lists problem types the code never answers: {extra}"
    for slug, status in documented.items():
        assert status in code[slug], f"{slug}: docs say {status}, the code {sorted(code[slug])}"


# Routes -----------------------------------------------------------------------------------------


def _documented_routes() -> set[tuple[str, str]]:
    routes = set()
    for cells in _table_rows("routes.md", "Routes"):
        match = re.fullmatch(r"`([A-Z]+) (/[^`?]*)(\?[^`]*)?`", cells[0])
        assert match, f"a row of docs/routes.md's table is not `METHOD /path`: {cells[0]}"
        routes.add((match[1], match[2]))
    return routes


def _openapi_routes() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in _document()["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }


def test_every_route_is_documented() -> None:
    missing = sorted(_openapi_routes() - _documented_routes())
    assert not missing, (
        "operations of the OpenAPI document that docs/routes.md does not list "
        f"(add a row to its '## Routes' table, path parameters named as in the route): {missing}"
    )


async def test_every_documented_route_exists() -> None:
    extra = sorted(_documented_routes() - _openapi_routes())
    # Routes left out of the document (/docs, /openapi.json) must still be served: a GET that
    # needs no database, asked of an app that was never started.
    transport = httpx.ASGITransport(app=create_app(Settings(_env_file=None)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for method, path in extra:
            assert method == "GET", f"docs/routes.md lists {method} {path}, which no route serves"
            answer = await client.get(path)
            assert answer.status_code == 200, f"docs/routes.md: GET {path} {answer.status_code}"


# The version ------------------------------------------------------------------------------------


def test_one_version_everywhere() -> None:
    version = notes_service.__version__
    assert _document()["info"]["version"] == version
    assert installed_version("notes-service") == version, (
        "the installed metadata is older than notes_service.__version__: run `make install`"
    )
    out = subprocess.run(
        [sys.executable, "-m", "notes_service", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_DIR,
    ).stdout
    assert out.split() == ["notes-service", version]


@pytest.mark.parametrize(
    "page", ["README.md", *sorted(f"docs/{p.name}" for p in DOCS.glob("*.md"))]
)
def test_no_page_cites_documents_outside_the_repository(page: str) -> None:
    text = (PROJECT_DIR / page).read_text()
    # `contract.py` and import-linter's contracts are in the repository; a product contract is not.
    for cited in (r"\bSPEC\b", r"§7", r"\bthe contract\b(?!s)"):
        found = re.search(cited, text)
        assert found is None, f"{page} cites {found[0]!r}, which is not in the repository"


def test_the_readme_fits_a_few_screens() -> None:
    lines = (PROJECT_DIR / "README.md").read_text().count("\n")
    assert lines <= 250, f"README.md has {lines} lines: move the reference to docs/"
