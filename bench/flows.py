"""One SP-initiated login, step by step, against Entryway or SAML Jackson; and the load drivers around it.

Both products get the same four HTTP requests from the same client code:

    authorize   GET  the product's authorize endpoint        → 302 to the IdP with a SAMLRequest
    idp         the IdP signs a Response (Entryway's simulator / samlify in the Jackson harness): NOT SP cost
    acs         POST the SAMLResponse to the product's ACS    → 302 to the app with a code
    token       POST the code (PKCE S256) to the token endpoint → access token + ID token
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import http_client

STEPS = ("authorize", "idp", "acs", "token")
SP_STEPS = ("authorize", "acs", "token")
CALLBACK = "http://127.0.0.1:9/callback"


@dataclass
class Target:
    """A running server and how to log in through it."""

    product: str  # "entryway" | "jackson"
    base: str
    client_id: str  # Entryway: the app client; Jackson: unused (one client_id per organization)
    client_secret: str
    organizations: int
    pids: list[int] = field(default_factory=list)  # the server's processes (master and workers)
    postgres_url: str | None = None  # the database it uses, when PostgreSQL (its backends' CPU is measured too)


@dataclass
class Results:
    timings: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    flows: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, took: dict[str, float]) -> None:
        with self.lock:
            self.flows += 1
            for step, seconds in took.items():
                self.timings[step].append(seconds)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class StepClock:
    def __init__(self) -> None:
        self.took: dict[str, float] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.took[name] = time.perf_counter() - t0


def _organization(target: Target, n: int) -> int:
    # Spread logins over every organization, so 100,000 organizations means 100,000 distinct routes.
    return (n * 7919) % target.organizations


def one_login(http: http_client.Client, target: Target, n: int, clock: StepClock) -> None:
    """One whole login. Raises RuntimeError (or one of http_client.ERRORS) on any unexpected answer."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    org = _organization(target, n)
    email = f"user{n}@org{org}.bench.test"
    params = {
        "response_type": "code",
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": f"s{n}",
        "nonce": f"n{n}",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if target.product == "entryway":
        authorize_path, token_path = "/oauth/authorize", "/oauth/token"
        client_id, secret = target.client_id, target.client_secret
        params["login_hint"] = email  # routes by the email's domain to the organization's connection
    else:
        authorize_path, token_path = "/api/oauth/authorize", "/api/oauth/token"
        client_id, secret = f"tenant=org{org}&product=bench", "dummy"
    params["client_id"] = client_id

    with clock.step("authorize"):
        r = http.get(authorize_path, params=params)
    if r.status_code != 302:
        raise RuntimeError(f"authorize: {r.status_code} {r.text[:200]}")
    location = r.headers["location"]

    with clock.step("idp"):
        if target.product == "entryway":
            sso = _query(location)
            connection_id = urlsplit(location).path.split("/")[4]
            r = http.post(
                f"/sso/v1/simulator/{connection_id}/login",
                data={
                    "SAMLRequest": sso["SAMLRequest"],
                    "RelayState": sso["RelayState"],
                    "email": email,
                    "first_name": "Bench",
                    "last_name": f"User{n}",
                    "outcome": "login",
                },
                headers={"accept": "application/json"},
            )
        else:
            r = http.get(urlsplit(location).path, params={**_query(location), "email": email})
    if r.status_code != 200:
        raise RuntimeError(f"idp: {r.status_code} {r.text[:200]}")
    answer = r.json()

    with clock.step("acs"):
        r = http.post(
            urlsplit(answer["acs_url"]).path,
            data={"SAMLResponse": answer["SAMLResponse"], "RelayState": answer["RelayState"]},
        )
    back = r.headers.get("location", "")
    if r.status_code != 302 or not back.startswith(CALLBACK + "?") or "code=" not in back:
        raise RuntimeError(f"acs: {r.status_code} {back or r.text[:200]}")
    answered = _query(back)
    if answered.get("state") != params["state"]:
        raise RuntimeError(f"acs: the app got state {answered.get('state')!r}, not {params['state']!r}")
    code = answered["code"]

    with clock.step("token"):
        r = http.post(
            token_path,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "client_id": client_id,
                "client_secret": secret,
                "code_verifier": verifier,
            },
        )
    tokens = r.json() if r.status_code == 200 else {}
    if not (tokens.get("id_token") and tokens.get("access_token") and tokens.get("token_type", "").lower() == "bearer"):
        raise RuntimeError(f"token: {r.status_code} {r.text[:200]}")


# What a login can fail with: a request's error, or an answer one_login does not accept.
LOGIN_ERRORS = (*http_client.ERRORS, RuntimeError, KeyError, ValueError, IndexError)


def _login_as_a_new_browser(target: Target, n: int, clock: StepClock) -> None:
    """One login on a connection of its own, closed after its last step: each login is another user's browser.

    Until session 10 each client thread kept one connection for all its logins. uvicorn's workers share one
    listening socket and a worker accepts every connection waiting when it wakes, so the eight connections
    opened together at the start of a run could all stay with one worker for the whole run: `ss` showed 8/0,
    7/1 and 4/4 splits in three runs of the same code, at 248, 381 and 375 logins/s (SQLite). A connection per
    login is accepted by whichever worker is free at that moment, as a site's visitors' connections are.
    """
    with http_client.Client(target.base, timeout=60) as http:
        one_login(http, target, n, clock)


def drive(target: Target, logins: int, concurrency: int, time_limit: float, first: int = 0) -> tuple[Results, float]:
    """Closed loop: `concurrency` clients each run logins back to back (the peak rate)."""
    results = Results()
    counter = iter(range(first, first + logins))
    counter_lock = threading.Lock()
    deadline = time.monotonic() + time_limit

    def worker() -> None:
        while time.monotonic() < deadline:
            with counter_lock:
                n = next(counter, None)
            if n is None:
                return
            clock = StepClock()
            try:
                _login_as_a_new_browser(target, n, clock)
            except LOGIN_ERRORS as exc:
                results.fail(str(exc))
                continue
            results.add(clock.took)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    return results, time.perf_counter() - started


def paced(target: Target, rate: float, seconds: float, concurrency: int, first: int = 0) -> tuple[Results, float]:
    """Open loop: logins started at `rate` per second (spread over `concurrency` clients) for `seconds`.

    Each client starts its next login on its own schedule, not when the previous one ends, so the latencies
    are those a server sees at that arrival rate (a client that falls behind starts late, not less often).
    """
    results = Results()
    interval = concurrency / rate
    count = int(rate * seconds)
    start = time.monotonic() + 0.2

    def worker(index: int) -> None:
        k = 0
        while True:
            n = index + k * concurrency
            if n >= count:
                return
            due = start + index * interval / concurrency + k * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            clock = StepClock()
            try:
                _login_as_a_new_browser(target, first + n, clock)
            except LOGIN_ERRORS as exc:
                results.fail(str(exc))
            else:
                results.add(clock.took)
            k += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for i in range(concurrency):
            pool.submit(worker, i)
    return results, time.perf_counter() - started
