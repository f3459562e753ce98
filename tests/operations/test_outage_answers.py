"""While PostgreSQL is down, every surface answers at once with a clear 503 in its caller's shape: the login and
logout endpoints, the app's backend endpoints, the dashboard and the admin portal (signed in, forms included), the
management API; then, with PostgreSQL back, the same app serves the same sessions again, no restart.

The PostgreSQL is the test's own, really stopped; the app runs in process, which is enough here: what is tested
is the answer to a request, not the server (tests/operations/test_faults.py runs `entryway serve`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services import owners, portal_links
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.store.db import make_engine
from entryway.store.migrate import upgrade
from tests.conftest import make_settings
from tests.dashboard.conftest import PASSWORD, hidden, sign_in
from tests.support.outage_counts import unavailable_by_reason
from tests.support.private_services import PrivatePostgres

ENV_URL = "http://localhost:8000"
CALLBACK = "http://localhost:3000/callback"
# Refused connections are answered at once; a host that does not answer at all takes up to the connect timeout
# (store/db.py, 5 s), which this test does not provoke.
PROMPT_SECONDS = 2.0


@dataclass
class Surfaces:
    rt: Runtime
    seed: DevSeed
    anonymous: TestClient
    dashboard: TestClient  # signed in
    portal: TestClient  # holding a portal session
    api_token: str
    unused_link: str  # a portal link's path, not yet opened
    dashboard_csrf: str
    portal_csrf: str


@pytest.fixture
def surfaces(private_pg: PrivatePostgres, tmp_path: Path) -> Iterator[Surfaces]:
    url = private_pg.create_database("entryway")
    engine = make_engine(url)
    try:
        upgrade(engine)
        rt = Runtime.build(make_settings(url, tmp_path, ENV_URL), engine=engine)
        seed = seed_development(rt, ENV_URL, CALLBACK)
        with rt.engine.begin() as conn:
            owners.add_owner(rt, conn, seed.environment.id, "dev@acme.test", PASSWORD)
            links = [
                portal_links.create_link(rt, conn, seed.environment, seed.organization_id, kind, "test")[1]
                for kind in (portal_links.LinkType.SHAREABLE, portal_links.LinkType.SHAREABLE)
            ]
        token = access_tokens.mint(
            rt, seed.environment, client_id=seed.client_id, subject=seed.client_id, ttl_seconds=600, scopes=["*"]
        ).token
        app = create_app(rt)
        with (
            TestClient(app, base_url=ENV_URL, follow_redirects=False) as anonymous,
            TestClient(app, base_url=ENV_URL, follow_redirects=False) as dashboard,
            TestClient(app, base_url=ENV_URL, follow_redirects=False) as portal,
        ):
            assert sign_in(dashboard).status_code == 303
            assert portal.get(urlsplit(links[0]).path).status_code == 303
            yield Surfaces(
                rt,
                seed,
                anonymous,
                dashboard,
                portal,
                token,
                urlsplit(links[1]).path,
                hidden(dashboard.get("/dashboard/organizations").text, "csrf_token"),
                hidden(portal.get("/portal").text, "csrf_token"),
            )
    finally:
        engine.dispose()


def _requests(s: Surfaces) -> list[tuple[str, TestClient, str, str, dict[str, object]]]:
    """(caller's shape, client, method, path, request options): one of each kind of request a surface takes."""
    conn = s.seed.connection_id
    api = {"authorization": f"Bearer {s.api_token}"}
    authorize = (
        f"/oauth/authorize?response_type=code&client_id={s.seed.client_id}&redirect_uri={CALLBACK}"
        "&scope=openid&state=s&login_hint=jane@example.com"
    )
    bad_secret = {"grant_type": "client_credentials", "client_id": s.seed.client_id, "client_secret": "wrong"}
    return [
        ("page", s.anonymous, "GET", authorize, {}),
        ("page", s.anonymous, "POST", f"/sso/v1/saml/{conn}/callback", {"data": {"SAMLResponse": "PHg+"}}),
        ("page", s.anonymous, "GET", f"/sso/v1/simulator/{conn}/sso?SAMLRequest=x", {}),
        ("page", s.anonymous, "GET", f"/sso/v1/oidc/{conn}/callback?state=x&code=y", {}),
        ("page", s.anonymous, "GET", f"/sso/v1/saml/{conn}/metadata", {}),
        ("page", s.anonymous, "GET", f"/sso/v1/saml/{conn}/slo?SAMLRequest=x", {}),
        ("page", s.anonymous, "GET", "/oidc/logout", {}),
        ("oauth", s.anonymous, "POST", "/oauth/token", {"data": bad_secret}),
        ("oauth", s.anonymous, "GET", "/userinfo", {"headers": api}),
        ("oauth", s.anonymous, "GET", "/keys", {}),
        ("oauth", s.anonymous, "GET", "/.well-known/openid-configuration", {}),
        ("page", s.anonymous, "GET", "/dashboard/sign-in", {}),
        ("page", s.dashboard, "GET", "/dashboard/organizations", {}),
        ("page", s.dashboard, "GET", "/dashboard/logs", {}),
        ("page", s.dashboard, "POST", "/dashboard/organizations", {"data": {"csrf_token": s.dashboard_csrf,
                                                                          "display_name": "Outage Inc"}}),
        ("page", s.portal, "GET", "/portal", {}),
        ("page", s.portal, "GET", f"/portal/connections/{conn}", {}),
        ("page", s.portal, "POST", "/portal/domains", {"data": {"csrf_token": s.portal_csrf,
                                                                "domain": "outage.example"}}),
        ("page", s.anonymous, "GET", s.unused_link, {}),
        ("api", s.anonymous, "GET", "/api/v1/organizations", {"headers": api}),
        ("api", s.anonymous, "POST", "/api/v1/organizations", {"headers": {**api, "idempotency-key": "outage-1"},
                                                               "json": {"display_name": "Outage Corp"}}),
    ]  # fmt: skip


def _is_clear_503(shape: str, response: httpx.Response) -> bool:
    if response.status_code != 503 or response.headers.get("retry-after") != "2":
        return False
    if shape == "api":
        return bool(response.json()["details"][0]["error_code"] == "UNAVAILABLE")
    if shape == "oauth":
        return bool(response.json()["error"] == "temporarily_unavailable")
    return response.headers["content-type"].startswith("text/html") and "temporarily_unavailable" in response.text


def test_every_surface_answers_a_clear_503_while_postgres_is_down_and_serves_again_after(
    surfaces: Surfaces, private_pg: PrivatePostgres
) -> None:
    s = surfaces
    private_pg.stop("fast")
    # Past the configuration cache's check interval (1 s): nothing is answered from what was read before.
    time.sleep(s.rt.settings.config_cache_seconds + 0.1)
    wrong: list[str] = []
    for shape, client, method, path, options in _requests(s):
        started = time.monotonic()
        response = client.request(method, path, **options)  # type: ignore[arg-type]
        took = time.monotonic() - started
        if not _is_clear_503(shape, response) or took > PROMPT_SECONDS:
            wrong.append(f"{method} {path.split('?')[0]}: {response.status_code} in {took:.1f} s {response.text[:120]}")
    assert not wrong, "\n".join(wrong)
    # The probes answer in their own shape: alive, not ready, metrics still scraped.
    assert s.anonymous.get("/healthz").status_code == 200
    ready = s.anonymous.get("/readyz")
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    metrics = s.anonymous.get("/metrics")
    assert metrics.status_code == 200
    # Every 503 above was for a database that could not be reached: counted under that reason, none under another.
    counted = unavailable_by_reason(s.rt)
    assert counted["unreachable"] >= len(_requests(s)) and counted["timeout"] == counted["pool_exhausted"] == 0, counted

    private_pg.start()
    # The same process and the same sessions; the API's POST is sent again with its Idempotency-Key, which the
    # outage did not spend.
    api = {"authorization": f"Bearer {s.api_token}"}
    assert s.anonymous.get("/readyz").status_code == 200
    assert s.dashboard.get("/dashboard/organizations").status_code == 200
    assert s.portal.get("/portal").status_code == 200
    created = s.anonymous.post(
        "/api/v1/organizations", headers={**api, "idempotency-key": "outage-1"}, json={"display_name": "Outage Corp"}
    )
    assert created.status_code == 201, created.text
    listed = s.anonymous.get("/api/v1/organizations", headers=api).json()["organizations"]
    assert [o["display_name"] for o in listed].count("Outage Corp") == 1
