"""The run-wide log scanner (tests/conftest.py) catches each kind of leak, on the server's loggers, and a run
that logs one fails."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from tests.oidc_provider.support import CALLBACK, ENV_URL, issue_code
from tests.support.log_scan import SCANNER, LeakScanner

PROBE = Path(__file__).with_name("leak_probe.py")

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


def test_exact_values_are_found_wherever_they_stand() -> None:
    scanner = LeakScanner()
    code = "Zk8Ww4Qb0u7Xn2mJt5Yp9aLc3Ve6Rh1_dQx-2Lm8Np4"
    scanner.forbid(code, "an authorization code")
    scanner.forbid("correct horse battery staple", "a password")
    for line in (
        f'{{"code": "{code}"}}',  # a JSON field
        f"GET /portal/links/{code} 303",  # a path
        f"abc{code}xyz",  # glued to other characters
        "owner typed correct horse battery staple",
    ):
        scanner.emit(_record("entryway.services", line))
    scanner.emit(_record("entryway.services", f"a shorter cousin {code[:-1]} is not the code"))
    assert scanner.findings == [
        "entryway.services: an authorization code in a log line (DEBUG)",
        "entryway.services: an authorization code in a log line (DEBUG)",
        "entryway.services: an authorization code in a log line (DEBUG)",
        "entryway.services: a password in a log line (DEBUG)",
    ]


def test_the_run_wide_scan_sees_what_entryway_makes_in_this_run(rt: Runtime) -> None:
    """Not a scanner of its own: the run's, on the root logger, with the codes Entryway issued registered."""
    code = issue_code(rt, seed_development(rt, ENV_URL, CALLBACK))
    before = len(SCANNER.findings)
    logging.getLogger("entryway.oidc").info("redeemed %s", code)
    try:
        assert SCANNER.findings[before:] == [
            "entryway.oidc: a credential made by entryway.services.logins in a log line (INFO)"
        ]
    finally:
        del SCANNER.findings[before:]  # this test's own leak must not fail the run
    assert SCANNER.unreachable_loggers() == []


def test_a_run_whose_server_logs_secrets_fails() -> None:
    done = _probe("leaks")
    assert done.returncode == 1, done.stdout
    assert "LOG LEAK SCAN" in done.stdout, done.stdout
    for finding in (
        "entryway.probe: a credential made by entryway.connectors.oidc.binding in a log line (INFO)",
        "entryway.probe: the master key in a log line (DEBUG)",
        "entryway.probe: a password in a log line (WARNING)",
        "uvicorn.access: its records no longer reached the log scan",
    ):
        assert finding in done.stdout, done.stdout


def test_the_same_run_without_the_leaks_passes() -> None:
    done = _probe("nothing")
    assert done.returncode == 0, done.stdout
    assert "log leak scan: " in done.stdout and "LOG LEAK SCAN" not in done.stdout, done.stdout


def _probe(leak: str) -> subprocess.CompletedProcess[str]:
    """Run tests/observability/leak_probe.py in a pytest of its own (the suite's conftest, its own scan)."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(PROBE)],
        cwd=root,
        env={**os.environ, "ENTRYWAY_LEAK_PROBE": leak},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
