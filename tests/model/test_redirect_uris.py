"""CONTRACT §2, row by row, in both environment types: which redirect URIs may be registered, and matching."""

from __future__ import annotations

import pytest

from entryway.model.environments import EnvironmentType
from entryway.model.redirect_uris import MAX_LENGTH, check_redirect_uri, matches

DEV = EnvironmentType.DEVELOPMENT
PROD = EnvironmentType.PRODUCTION


def allowed(uri: str, env: EnvironmentType) -> bool:
    return check_redirect_uri(uri, env) == []


def _of_length(n: int) -> str:
    head = "https://app.acme.com/"
    return head + "a" * (n - len(head))


# (uri, allowed in development, allowed in production)
CASES = [
    # schemes: http only in development; https and custom app schemes everywhere; script/data schemes never
    ("https://app.acme.com/callback", True, True),
    ("http://app.acme.com/callback", True, False),
    ("myapp://callback", True, True),
    ("com.acme.app://oauth/callback", True, True),
    ("javascript://alert(1)", False, False),
    ("JavaScript://app.acme.com/%0aalert(1)", False, False),
    ("data://text/html,hi", False, False),
    ("file:///etc/passwd", False, False),
    ("vbscript://x", False, False),
    ("app.acme.com/callback", False, False),
    ("/callback", False, False),
    ("", False, False),
    # localhost and loopback hosts: development only
    ("http://localhost:3000/callback", True, False),
    ("https://localhost/callback", True, False),
    ("http://127.0.0.1:8080/cb", True, False),
    ("http://[::1]:8080/cb", True, False),
    ("http://app.localhost/cb", True, False),
    # wildcard: one, as the whole outermost label or its prefix, in development only
    ("https://*.acme.com/callback", True, False),
    ("https://auth-*.acme.com/callback", True, False),
    ("https://*.com/callback", False, False),
    ("https://*.*/callback", False, False),
    ("https://*.*.acme.com/callback", False, False),
    ("https://app.*.acme.com/callback", False, False),
    ("https://*auth.acme.com/callback", False, False),
    ("https://app.acme.com/*", False, False),
    ("https://app.acme.com/cb/*/x", False, False),
    ("https://app.acme.com:*/callback", False, False),
    ("http*://app.acme.com/callback", False, False),
    ("*://app.acme.com/callback", False, False),
    ("myapp://*.acme.com/cb", False, False),
    # length: at most 256 characters
    (_of_length(MAX_LENGTH), True, True),
    (_of_length(MAX_LENGTH + 1), False, False),
    # query, fragment, user information: never
    ("https://app.acme.com/callback?next=/home", False, False),
    ("https://app.acme.com/callback?", False, False),
    ("https://app.acme.com/callback#frag", False, False),
    ("https://app.acme.com/callback#", False, False),
    ("https://user@app.acme.com/callback", False, False),
    ("https://user:pw@app.acme.com/callback", False, False),
    ("https://app.acme.com@evil.com/callback", False, False),
    # malformed
    ("https://app.acme.com/call back", False, False),
    ("https://app.acme.com\\@evil.com/", False, False),
    ("https:///callback", False, False),
    ("https://app.acme.com:0/callback", False, False),
    ("https://app.acme.com:99999/callback", False, False),
    ("https://-bad-.acme.com/callback", False, False),
]


@pytest.mark.parametrize(("uri", "in_dev", "in_prod"), CASES, ids=[c[0][:60] or "empty" for c in CASES])
def test_registration_rules(uri: str, in_dev: bool, in_prod: bool) -> None:
    assert allowed(uri, DEV) is in_dev, check_redirect_uri(uri, DEV)
    assert allowed(uri, PROD) is in_prod, check_redirect_uri(uri, PROD)


def test_every_problem_is_a_sentence_naming_the_rule() -> None:
    problems = check_redirect_uri("http://user@localhost/cb?x=1#y", PROD)
    text = " ".join(problems)
    assert "https" in text and "query" in text and "fragment" in text and "user" in text and "localhost" in text


def test_length_is_reported_with_the_numbers() -> None:
    problems = check_redirect_uri(_of_length(257), DEV)
    assert any("257" in p and "256" in p for p in problems)


@pytest.mark.parametrize(
    ("registered", "candidate", "expected"),
    [
        ("https://app.acme.com/callback", "https://app.acme.com/callback", True),
        ("https://app.acme.com/callback", "https://app.acme.com/callback/", False),
        ("https://app.acme.com/callback/", "https://app.acme.com/callback", False),
        ("https://app.acme.com/callback", "https://APP.acme.com/callback", False),
        ("https://app.acme.com/callback", "https://app.acme.com/Callback", False),
        ("https://app.acme.com/callback", "https://app.acme.com:443/callback", False),
        ("https://app.acme.com:8443/callback", "https://app.acme.com/callback", False),
        ("https://app.acme.com/callback", "http://app.acme.com/callback", False),
        ("https://app.acme.com/callback", "https://app.acme.com/callback/more", False),
        ("https://app.acme.com/callback", "https://app.acme.com/callbackx", False),
        ("https://app.acme.com/callback", "https://app.acme.com/callback?x=1", False),
        ("https://app.acme.com/callback", "https://app.acme.com/call", False),
        ("https://app.acme.com/callback", "https://app.acme.com.evil.com/callback", False),
        ("myapp://callback", "myapp://callback", True),
        ("myapp://callback", "myapp://callback/x", False),
        # development wildcards stand for host characters of the outermost label only
        ("https://*.acme.com/cb", "https://team1.acme.com/cb", True),
        ("https://*.acme.com/cb", "https://acme.com/cb", False),
        ("https://*.acme.com/cb", "https://.acme.com/cb", False),
        ("https://*.acme.com/cb", "https://a.b.acme.com/cb", False),
        ("https://*.acme.com/cb", "https://evil.com/x.acme.com/cb", False),
        ("https://*.acme.com/cb", "https://evil.com?.acme.com/cb", False),
        ("https://*.acme.com/cb", "https://team1.acme.com/cb/", False),
        ("https://auth-*.acme.com/cb", "https://auth-eu.acme.com/cb", True),
        ("https://auth-*.acme.com/cb", "https://auth-.acme.com/cb", False),
        ("https://auth-*.acme.com/cb", "https://eu.acme.com/cb", False),
    ],
)
def test_matches_is_exact(registered: str, candidate: str, expected: bool) -> None:
    assert matches(registered, candidate) is expected
