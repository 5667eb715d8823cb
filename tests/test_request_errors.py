"""Error answers a person can act on: malformed JSON, a wrong media type, each kind of bad
credential; and metrics that label routed requests with their route."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factories import api_key, count
from tests.support.metrics import series

PROBLEM = "application/problem+json"


async def test_malformed_json_is_400_invalid_json_saying_where(client: httpx.AsyncClient) -> None:
    headers = await api_key() | {"Content-Type": "application/json"}
    response = await client.post(
        "/v1/notes", content=b'{"title": "a"\n "body": 1}', headers=headers
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:notes-service:problem:invalid-json"
    assert problem["detail"] == (
        "The body is not valid JSON: Expecting ',' delimiter at line 2, column 2 (character 15)"
    )
    assert await count("notes") == 0


@pytest.mark.parametrize(
    ("content_type", "path"),
    [
        ("text/plain", "/v1/notes"),
        ("application/x-www-form-urlencoded", "/v1/notes"),
        ("text/plain; charset=utf-8", "/v1/notes/batch"),
    ],
)
async def test_a_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, content_type: str, path: str
) -> None:
    body = b'{"title": "valid JSON"}' if path == "/v1/notes" else b'{"notes": [{"title": "x"}]}'
    headers = await api_key() | {"Content-Type": content_type}
    response = await client.post(path, content=body, headers=headers)
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:notes-service:problem:unsupported-media-type"
    media_type = content_type.split(";")[0]
    assert problem["detail"] == f"The body must be application/json; it was sent as {media_type}"
    assert await count("notes") == 0


async def test_json_media_types_are_accepted(client: httpx.AsyncClient) -> None:
    headers = await api_key()
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.post(
            "/v1/notes",
            content=b'{"title": "t"}',
            headers=headers | {"Content-Type": content_type},
        )
        assert response.status_code == 201, (content_type, response.text)
    # No Content-Type at all is not a JSON body either.
    response = await client.post("/v1/notes", content=b'{"title": "t"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "The body must be application/json; it was sent without a Content-Type header"
    )


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "Send an API key as `Authorization: Bearer nsk_...`"),
        ("Basic dXNlcjpwdw==", "The Authorization header must use the Bearer scheme"),
        ("Bearer nsk_nope", "The bearer token is not shaped like an API key"),
        ("Bearer " + "nsk_" + "A" * 43, "The API key is unknown or revoked"),
    ],
)
async def test_each_kind_of_bad_credential_has_its_own_401_detail(
    client: httpx.AsyncClient, authorization: str | None, detail: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/v1/notes", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"].startswith(detail)


async def test_revoked_key_401(client: httpx.AsyncClient) -> None:
    from notes_service.accounts import auth

    key = await auth.create_key("alice")
    await auth.revoke_key(key.id)
    response = await client.get("/v1/notes", headers={"Authorization": f"Bearer {key.secret}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "The API key is unknown or revoked"


async def test_routed_requests_are_not_counted_as_unmatched(
    client: httpx.AsyncClient, settings: object
) -> None:
    headers = await api_key()
    too_big = b'{"title": "' + b"x" * 2_000_000 + b'"}'
    response = await client.post(
        "/v1/notes", content=too_big, headers=headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200
    assert (await client.get("/nowhere-at-all")).status_code == 404

    counted = {
        (labels["route"], labels["method"], labels["status"])
        for labels, _ in series((await client.get("/metrics")).text)["http_requests_total"]
    }
    assert ("/v1/notes", "POST", "413") in counted
    assert ("/docs", "GET", "200") in counted
    assert ("/docs/assets/{name}", "GET", "200") in counted
    assert ("unmatched", "GET", "404") in counted
    assert not any(route == "unmatched" and status != "404" for route, _, status in counted)
