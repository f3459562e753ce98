"""Scans every log record a test run writes for material that must never be logged (DESIGN §4 "At rest")."""

from __future__ import annotations

import logging
import re
import threading

# What leaks look like: a JWT, a client secret, an authorization code parameter, SAML content (raw or base64).
FORBIDDEN = {
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"),
    "a client secret": re.compile(r"ews_[A-Za-z0-9_-]{20,}"),
    "an authorization code": re.compile(r"[?&]code=[A-Za-z0-9_-]{20,}"),
    "a SAML message": re.compile(r"<(?:saml2?p?:)?(?:Assertion|Response|AuthnRequest)[\s>]"),
    "a base64 SAML message": re.compile(r"PHNhbWxwOl|PHNhbWw6|PD94bWwg"),
    "a PEM private key": re.compile(r"-----BEGIN (?:RSA |EC )?PRIVATE KEY-----"),
}


# The scan judges what Entryway's server writes: its own loggers and those of the libraries it runs in-process.
# The third-party peers and clients that tests drive in this process (pysaml2's IdP, the httpx/httpx2 test
# clients, SDKs) log their own side of a login; Entryway's outbound httpx calls are held at WARNING by the app.
SERVER_LOGGERS = ("entryway", "uvicorn", "fastapi", "starlette", "signxml", "sqlalchemy", "alembic", "xmlsec")


def _judged(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in SERVER_LOGGERS)


class LeakScanner(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.findings: list[str] = []
        self.records = 0
        self._lock_findings = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if not _judged(record.name):
            return
        try:
            text = record.getMessage()
        except Exception:  # a malformed log call is not what this scanner judges
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + str(record.exc_info[1])
        for key, value in vars(record).items():
            if key not in ("msg", "args", "exc_info") and isinstance(value, str):
                text += " " + value
        with self._lock_findings:
            self.records += 1
            for what, pattern in FORBIDDEN.items():
                if pattern.search(text):
                    self.findings.append(f"{record.name}: {what} in a log line ({record.levelname})")
