# Two entry points that work on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint docs drift-check lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,embedded]'
	touch $(STAMP)

install: $(STAMP)

# SERVE_FLAGS: e.g. "--port 8001" (the README walk-through test runs it on a free port).
serve: $(STAMP)
	$(BIN)/notes-service serve $(SERVE_FLAGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy notes_service tests
	$(BIN)/lint-imports

# The reference in docs/ as a site, in site/ (gitignored); any warning fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# On NOTES_DRIFT_SERVER_URL (CI: the system PostgreSQL), else on the embedded one.
drift-check: $(STAMP)
	$(BIN)/python .ci/drift_check.py

lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra embedded --python-version 3.11 \
		--no-header --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
