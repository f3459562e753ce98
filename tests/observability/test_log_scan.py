"""The run-wide log scanner (tests/conftest.py) catches each kind of leak, on the server's loggers."""

from __future__ import annotations

import logging

import pytest

from tests.support.log_scan import LeakScanner

LEAKS = {
    "a JWT": "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqYW5lQGV4YW1wbGUuY29tIn0.c2ln",
    "a client secret": "secret ews_xJUUk9aeDi_0VPFKxGmsFoHOzhjL9WJ",
    "an authorization code": "GET /callback?code=Zk8Ww4Qb0u7Xn2mJt5Yp9aLc3Ve6Rh1",
    "a SAML message": "<saml:Assertion ID='_1'>",
    "a base64 SAML message": "SAMLResponse=PHNhbWxwOlJlc3BvbnNl",
    "a PEM private key": "-----BEGIN PRIVATE KEY-----",
}


def _record(name: str, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.DEBUG, __file__, 1, message, (), None)


@pytest.mark.parametrize("what", sorted(LEAKS))
def test_each_leak_is_caught(what: str) -> None:
    scanner = LeakScanner()
    scanner.emit(_record("entryway.connectors.saml", LEAKS[what]))
    assert scanner.findings == [f"entryway.connectors.saml: {what} in a log line (DEBUG)"]


def test_extra_fields_are_scanned_too() -> None:
    scanner = LeakScanner()
    record = _record("uvicorn.access", "request done")
    record.detail = LEAKS["a JWT"]
    scanner.emit(record)
    assert scanner.findings


def test_clean_lines_and_third_party_peers_pass() -> None:
    scanner = LeakScanner()
    scanner.emit(_record("entryway.oidc", "login failed: invalid_status (reference err_01abc)"))
    scanner.emit(_record("saml2.request", LEAKS["a SAML message"]))  # pysaml2's IdP in an interop test
    assert scanner.findings == []
    assert scanner.records == 1
