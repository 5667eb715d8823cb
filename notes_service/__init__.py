"""notes-service: a notes microservice on FastAPI and PostgreSQL."""

# The one version: the package metadata (pyproject.toml reads it), `--version` and the OpenAPI
# document's `info.version`.
__version__ = "0.1.0"
