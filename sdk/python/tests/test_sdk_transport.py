"""Management calls over a fake server: retries on 429/503 only, error mapping, token renewal, pagination,
and the async client."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from entryway_sdk import (
    AsyncEntrywayClient,
    ConflictError,
    EntrywayClient,
    InvalidArgumentError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    UnavailableError,
)
from sdk_fakes import CLIENT_ID, ENV_URL, SECRET, FakeServer, token_endpoint

ORG = {
    "id": "org_1",
    "environment_id": "env_1",
    "display_name": "Acme",
    "metadata": {},
    "create_time": "2026-01-31T12:00:00Z",
}
FAST = RetryPolicy(max_retries=2, base_delay=0.0)


@pytest.fixture
def server() -> FakeServer:
    fake = FakeServer()
    fake.route("POST", "/oauth/token", token_endpoint)
    return fake


def client_for(server: FakeServer) -> EntrywayClient:
    return EntrywayClient(ENV_URL, CLIENT_ID, SECRET, http_client=server.sync_client(), retry=FAST)


def answers(*responses: httpx.Response):
    queue = list(responses)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


def test_a_call_gets_a_token_once_and_sends_it(server: FakeServer) -> None:
    server.route("GET", "/api/v1/organizations/org_1", lambda r: httpx.Response(200, json={"organization": ORG}))
    client = client_for(server)
    org = client.organizations.get("org_1")
    client.organizations.get("org_1")
    assert (org.id, org.display_name, org.create_time.year) == ("org_1", "Acme", 2026)
    assert server.paths().count("/oauth/token") == 1
    token_form = dict(httpx.QueryParams(server.requests[0].content.decode()))
    assert token_form == {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}
    assert server.requests[-1].headers["authorization"] == "Bearer mgmt-token"


def test_429_and_503_are_retried_with_the_same_idempotency_key(server: FakeServer) -> None:
    server.route(
        "POST",
        "/api/v1/organizations",
        answers(
            httpx.Response(429, headers={"retry-after": "0"}, json={"code": 8, "message": "slow down"}),
            httpx.Response(503, headers={"retry-after": "0"}, json={"code": 14, "message": "db down"}),
            httpx.Response(201, json={"organization": ORG}),
        ),
    )
    assert client_for(server).organizations.create("Acme", external_id="acme").id == "org_1"
    posts = [r for r in server.requests if r.url.path == "/api/v1/organizations"]
    assert len(posts) == 3
    assert len({r.headers["idempotency-key"] for r in posts}) == 1
    assert json.loads(posts[0].content) == {"display_name": "Acme", "external_id": "acme"}


def test_retries_stop_and_the_error_says_why(server: FakeServer) -> None:
    server.route(
        "GET", "/api/v1/organizations", lambda r: httpx.Response(429, headers={"retry-after": "0"}, json={"code": 8})
    )
    with pytest.raises(RateLimitedError) as caught:
        client_for(server).organizations.list()
    assert caught.value.retry_after == 0
    assert server.paths().count("/api/v1/organizations") == 3  # the first try and two retries


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, ServerError), (502, ServerError), (404, NotFoundError), (403, PermissionDeniedError), (409, ConflictError)],
)
def test_other_failures_are_not_retried(server: FakeServer, status: int, kind: type) -> None:
    server.route("GET", "/api/v1/organizations/org_1", lambda r: httpx.Response(status, json={"message": "no"}))
    with pytest.raises(kind) as caught:
        client_for(server).organizations.get("org_1")
    assert caught.value.status == status
    assert server.paths().count("/api/v1/organizations/org_1") == 1


def test_503_exhausted_is_unavailable(server: FakeServer) -> None:
    server.route("DELETE", "/api/v1/organizations/org_1", lambda r: httpx.Response(503, headers={"retry-after": "0"}))
    with pytest.raises(UnavailableError):
        client_for(server).organizations.delete("org_1")


def test_field_violations_are_carried(server: FakeServer) -> None:
    body = {
        "code": 3,
        "message": "The request has invalid fields",
        "details": [
            {
                "error_code": "INVALID_ARGUMENT",
                "validation_error_info": {
                    "field_violations": [
                        {"field": "slug", "description": "must be lowercase"},
                        {"field": "logo_url", "description": "must be https"},
                    ]
                },
            }
        ],
    }
    server.route("POST", "/api/v1/organizations", lambda r: httpx.Response(400, json=body))
    with pytest.raises(InvalidArgumentError) as caught:
        client_for(server).organizations.create("Acme", slug="ACME")
    error = caught.value
    assert (error.code, error.error_code) == (3, "INVALID_ARGUMENT")
    assert [(v.field, v.description) for v in error.field_violations] == [
        ("slug", "must be lowercase"),
        ("logo_url", "must be https"),
    ]
    assert "slug: must be lowercase" in str(error)


def test_a_401_renews_the_token_once(server: FakeServer) -> None:
    server.route(
        "GET",
        "/api/v1/organizations/org_1",
        answers(httpx.Response(401, json={"code": 16}), httpx.Response(200, json={"organization": ORG})),
    )
    assert client_for(server).organizations.get("org_1").id == "org_1"
    assert server.paths().count("/oauth/token") == 2


def test_a_refused_token_request_is_an_oauth_error(server: FakeServer) -> None:
    server.route(
        "POST",
        "/oauth/token",
        lambda r: httpx.Response(401, json={"error": "invalid_client", "error_description": "bad secret"}),
    )
    with pytest.raises(OAuthError) as caught:
        client_for(server).organizations.get("org_1")
    assert (caught.value.error, caught.value.description) == ("invalid_client", "bad secret")


def _paged(request: httpx.Request) -> httpx.Response:
    token = request.url.params.get("page_token")
    page, following = {None: (["org_1", "org_2"], "t2"), "t2": (["org_3"], "")}[token]
    items = [{**ORG, "id": i} for i in page]
    return httpx.Response(200, json={"organizations": items, "next_page_token": following, "total_size": 3})


def test_list_all_follows_the_pages(server: FakeServer) -> None:
    server.route("GET", "/api/v1/organizations", _paged)
    client = client_for(server)
    assert [o.id for o in client.organizations.list_all(page_size=2)] == ["org_1", "org_2", "org_3"]
    first = client.organizations.list(page_size=2)
    assert (first.total_size, first.next_page_token, len(first.items)) == (3, "t2", 2)
    sent = [r.url.params.get("page_size") for r in server.requests if r.url.path == "/api/v1/organizations"]
    assert sent == ["2", "2", "2"]


def test_the_async_client_calls_and_pages(server: FakeServer) -> None:
    server.route("GET", "/api/v1/organizations", _paged)
    server.route(
        "POST",
        "/api/v1/organizations",
        answers(httpx.Response(503, headers={"retry-after": "0"}), httpx.Response(201, json={"organization": ORG})),
    )

    async def scenario() -> tuple[list[str], str]:
        async with AsyncEntrywayClient(
            ENV_URL, CLIENT_ID, SECRET, http_client=server.async_client(), retry=FAST
        ) as client:
            ids = [org.id async for org in client.organizations.list_all(page_size=2)]
            created = await client.organizations.create("Acme")
            return ids, created.id

    assert asyncio.run(scenario()) == (["org_1", "org_2", "org_3"], "org_1")
    assert server.paths().count("/oauth/token") == 1
