"""Web sessions and CSRF (entryway.web.sessions / session_cookies), on both storage backends, over the ASGI app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.testclient import TestClient
from sqlalchemy import select

from entryway.app import create_app
from entryway.clock import Clock, FrozenClock
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from entryway.store.tables import web_sessions
from entryway.web import sessions
from entryway.web.requests import current_environment
from entryway.web.session_cookies import LiveSession, cookie_name, session_guard, set_session_cookie
from entryway.web.sessions import SessionKind

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> Clock:
    # Real time, frozen: cookie expiry is judged by the HTTP client's own clock.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def seed(rt: Runtime) -> DevSeed:
    return seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")


def _open(rt: Runtime, seed: DevSeed, **kw) -> tuple[sessions.WebSession, str]:
    args = dict(
        kind=SessionKind.PORTAL, environment_id=seed.environment.id, subject="org_1", lifetime=6 * HOUR, idle=HOUR
    )
    args.update(kw)
    with rt.engine.begin() as conn:
        return sessions.open_session(rt, conn, **args)


def _find(rt: Runtime, seed: DevSeed, token: str, kind: SessionKind = SessionKind.PORTAL) -> sessions.WebSession | None:
    with rt.engine.begin() as conn:
        return sessions.find_session(rt, conn, token, kind=kind, environment_id=seed.environment.id)


def test_only_the_hash_of_the_token_is_stored(rt: Runtime, seed: DevSeed) -> None:
    session, token = _open(rt, seed)
    with rt.engine.connect() as conn:
        stored = conn.execute(select(web_sessions.c.token_hash).where(web_sessions.c.id == session.id)).scalar_one()
    assert stored == sessions.hash_token(token) and token not in stored
    assert _find(rt, seed, token) == session


def test_idle_and_absolute_expiry(rt: Runtime, seed: DevSeed, clock: FrozenClock) -> None:
    _, token = _open(rt, seed, lifetime=2 * HOUR, idle=HOUR)
    clock.advance(minutes=50)
    assert _find(rt, seed, token) is not None  # use moves the idle limit on
    clock.advance(minutes=50)
    assert _find(rt, seed, token) is not None
    clock.advance(minutes=25)  # 125 min after opening: past the absolute 2 h, although used 50 min ago
    assert _find(rt, seed, token) is None
    _, idle_token = _open(rt, seed, lifetime=6 * HOUR, idle=HOUR)
    clock.advance(minutes=61)
    assert _find(rt, seed, idle_token) is None


def test_kind_environment_and_end(rt: Runtime, seed: DevSeed) -> None:
    _session, token = _open(rt, seed, opened_by="lnk_x")
    assert _find(rt, seed, token, SessionKind.DASHBOARD) is None
    with rt.engine.begin() as conn:
        assert sessions.find_session(rt, conn, token, kind=SessionKind.PORTAL, environment_id="env_other") is None
        assert (
            sessions.find_session(rt, conn, token + "x", kind=SessionKind.PORTAL, environment_id=seed.environment.id)
            is None
        )
        assert sessions.end_sessions_opened_by(rt, conn, "lnk_x") == 1
    assert _find(rt, seed, token) is None
    other, other_token = _open(rt, seed)
    with rt.engine.begin() as conn:
        sessions.end_session(rt, conn, other.id)
    assert _find(rt, seed, other_token) is None


def test_csrf_token_is_bound_to_the_session(rt: Runtime, seed: DevSeed) -> None:
    one, one_token = _open(rt, seed)
    two, two_token = _open(rt, seed)
    csrf = sessions.csrf_token(one_token, one)
    assert sessions.csrf_ok(one_token, one, csrf)
    assert not sessions.csrf_ok(two_token, two, csrf)
    assert not sessions.csrf_ok(one_token, one, None)
    assert not sessions.csrf_ok(one_token, one, csrf[:-1] + ("A" if csrf[-1] != "A" else "B"))


def test_audit_events(rt: Runtime, seed: DevSeed) -> None:
    session, _ = _open(rt, seed)
    with rt.engine.begin() as conn:
        sessions.audit(rt, conn, session, "connection.enabled", target="conn_1", detail={"type": "SAML"})
        events = sessions.audit_events(conn, seed.environment.id, kind=SessionKind.PORTAL, subject="org_1")
    assert [(e.action, e.target, e.detail, e.session_id) for e in events] == [
        ("connection.enabled", "conn_1", {"type": "SAML"}, session.id)
    ]


def _app(rt: Runtime) -> TestClient:
    app = create_app(rt)
    router = APIRouter()
    guard = session_guard(SessionKind.PORTAL)

    @router.get("/_t/open")
    def open_(request: Request) -> Response:
        e = current_environment(request)
        with rt.engine.begin() as conn:
            session, token = sessions.open_session(
                rt, conn, kind=SessionKind.PORTAL, environment_id=e.id, subject="org_1", lifetime=HOUR, idle=HOUR
            )
        response = PlainTextResponse(sessions.csrf_token(token, session))
        set_session_cookie(response, e, SessionKind.PORTAL, token, session.expire_time)
        return response

    @router.get("/_t/page")
    def page(live: LiveSession = Depends(guard)) -> Response:
        return PlainTextResponse(live.session.subject)

    @router.post("/_t/act")
    def act(live: LiveSession = Depends(guard)) -> Response:
        return PlainTextResponse("done")

    app.router.routes[:0] = router.routes  # before any catch-all
    return TestClient(app, base_url="http://localhost:8000")


def test_cookie_attributes_and_guard(rt: Runtime, seed: DevSeed) -> None:
    client = _app(rt)
    assert client.get("/_t/page").status_code == 401
    opened = client.get("/_t/open")
    header = opened.headers["set-cookie"].lower()
    assert header.startswith("entryway_portal=") and "httponly" in header and "samesite=lax" in header
    assert "secure" not in header  # http environment
    csrf = opened.text
    assert client.get("/_t/page").text == "org_1"
    refused = client.post("/_t/act", data={"other": "x"})
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    assert client.post("/_t/act", data={"csrf_token": csrf + "x"}).status_code == 403
    assert client.post("/_t/act", data={"csrf_token": csrf}).text == "done"
    assert client.post("/_t/act", headers={"X-CSRF-Token": csrf}).text == "done"
    client.cookies.clear()
    client.cookies.set("entryway_portal", "forged")
    gone = client.get("/_t/page")
    assert gone.status_code == 401 and "session_expired" in gone.text


def test_https_cookie_is_secure_host_prefixed_and_partitioned_when_embedded() -> None:
    from entryway.model.environments import EnvironmentType
    from entryway.services.environments import Environment

    env = Environment("env_1", EnvironmentType.PRODUCTION, "Prod", "https://sso.acme.test", "sso.acme.test", START)
    top = PlainTextResponse("")
    set_session_cookie(top, env, SessionKind.PORTAL, "tok", START + HOUR)
    header = top.headers["set-cookie"]
    assert header.startswith(cookie_name(SessionKind.PORTAL, True) + "=tok") and header.startswith("__Host-")
    assert "Secure" in header and "SameSite=lax" in header and "Partitioned" not in header
    framed = PlainTextResponse("")
    set_session_cookie(framed, env, SessionKind.PORTAL, "tok", START + HOUR, embedded=True)
    assert "SameSite=none" in framed.headers["set-cookie"] and framed.headers["set-cookie"].endswith("; Partitioned")
