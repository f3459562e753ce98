"""Signed cookies and the login flow's local checks."""

from __future__ import annotations

import pytest

from entryway_sdk import ArgumentError
from entryway_sdk.frameworks.cookies import CookieSigner
from entryway_sdk.frameworks.flow import safe_return_path

KEY = "k" * 32


def test_a_signed_value_round_trips_until_it_expires() -> None:
    signer = CookieSigner(KEY, "login")
    value = signer.dumps({"state": "s"}, now=1000)
    assert signer.loads(value, 60, now=1059) == {"state": "s"}
    assert signer.loads(value, 60, now=1061) is None
    assert signer.loads(value, 60, now=999) is None  # issued in the future


def test_altered_foreign_or_malformed_values_are_ignored() -> None:
    signer = CookieSigner(KEY, "login")
    value = signer.dumps({"state": "s"}, now=1000)
    payload, issued, mac = value.split(".")
    assert signer.loads(f"{payload}.{int(issued) + 1}.{mac}", 60, now=1000) is None
    assert signer.loads(f"{payload}x.{issued}.{mac}", 60, now=1000) is None
    assert CookieSigner(KEY, "session").loads(value, 60, now=1000) is None
    assert CookieSigner("x" * 32, "login").loads(value, 60, now=1000) is None
    for junk in (None, "", "a.b", "a.b.c.d", "..."):
        assert signer.loads(junk, 60, now=1000) is None


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ArgumentError, match="32 bytes"):
        CookieSigner("short", "login")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/me", "/me"),
        ("/a?b=c", "/a?b=c"),
        ("//evil.test", "/"),
        ("https://evil.test/", "/"),
        ("/\\evil", "/"),
        (None, "/"),
    ],
)
def test_return_paths_stay_local(given: object, expected: str) -> None:
    assert safe_return_path(given, "/") == expected
