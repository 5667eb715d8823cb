# The image that docker-compose.yml builds for both `migrate` and `app`.
FROM python:3.11.13-slim-bookworm
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Safe by default: production refuses the development cursor secret, so a container started
# without NOTES_CURSOR_SECRET stops with a clear message instead of signing cursors with it.
ENV NOTES_ENV=production
COPY pyproject.toml requirements.lock README.md ./
COPY notes_service ./notes_service
COPY migrations ./migrations
# Editable, so that the package finds migrations/ beside it, as in a checkout. Without the
# `embedded` extra: the image never runs the embedded PostgreSQL, it is given NOTES_DATABASE_URL.
RUN pip install --no-cache-dir -c requirements.lock -e . \
    && useradd --system --home-dir /app notes
USER notes
EXPOSE 8000
CMD ["notes-service", "serve", "--host", "0.0.0.0", "--port", "8000"]
