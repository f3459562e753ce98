"""Scans every log record a test run writes for material that must never be logged (DESIGN §4 "At rest").

Two nets. Patterns catch what has a recognisable shape: JWTs (ID and access tokens), client and webhook secrets,
codes in a URL, SAML messages raw or base64, PEM private keys. Exact values catch what has none: every random
credential Entryway generates while the run goes on (authorization codes, portal link and session tokens, client
secrets, CSRF tokens: tests/conftest.py registers each one as it is made), the test master key and the test
passwords. A record leaks when its text contains any of them.
"""

from __future__ import annotations

import logging
import re
import threading

# What leaks look like: a JWT, a client secret, an authorization code parameter, SAML content (raw or base64).
FORBIDDEN = {
    "a JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}"),
    "a client secret": re.compile(r"ews_[A-Za-z0-9_-]{20,}"),
    "a webhook signing secret": re.compile(r"whsec_[A-Za-z0-9+/]{20,}"),
    "an authorization code": re.compile(r"[?&]code=[A-Za-z0-9_-]{20,}"),
    "a SAML message": re.compile(r"<(?:saml2?p?:)?(?:Assertion|Response|AuthnRequest)[\s>]"),
    # base64 of "<samlp:", "<saml:", "<?xml ", "<saml2p:", "<saml2:", "<Response", "<Assertion"
    "a base64 SAML message": re.compile(
        r"PHNhbWxwOl|PHNhbWw6|PD94bWwg|PHNhbWwycD|PHNhbWwyO|PFJlc3BvbnNl|PEFzc2VydGlvb"
    ),
    "a PEM private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}

# The scan judges what Entryway's server writes: its own loggers and those of the libraries it runs in-process.
# The third-party peers and clients that tests drive in this process (pysaml2's IdP, the httpx/httpx2 test
# clients, SDKs) log their own side of a login; Entryway's outbound httpx calls are held at WARNING by the app.
SERVER_LOGGERS = ("entryway", "uvicorn", "fastapi", "starlette", "signxml", "sqlalchemy", "alembic", "xmlsec")
# Loggers whose records must reach the scanner for the scan to mean anything (checked at the end of the run).
MUST_REACH = ("entryway", "entryway.database", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "signxml")

# Runs of characters an exact value is made of (base64url, and base64's + / =): a value is found inside one.
_RUN = re.compile(r"[A-Za-z0-9_\-+/=]{12,}")
MIN_VALUE_LENGTH = 12


def _judged(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in SERVER_LOGGERS)


class LeakScanner(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.findings: list[str] = []
        self.records = 0
        self._lock_findings = threading.Lock()
        self._values: dict[str, str] = {}  # exact value (of base64-ish characters only) -> what it is
        self._lengths: set[int] = set()
        self._phrases: dict[str, str] = {}  # other exact values (a password with spaces), searched as they are

    def forbid(self, value: str, what: str) -> None:
        """No log line may contain `value` (a credential this run made or uses)."""
        if len(value) < MIN_VALUE_LENGTH:
            raise ValueError(f"{what}: too short to scan for without false alarms")
        with self._lock_findings:
            if _RUN.fullmatch(value):
                self._values[value] = what
                self._lengths.add(len(value))
            else:
                self._phrases[value] = what

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
        self.judge(record.name, record.levelname, text)

    def judge(self, source: str, level: str, text: str) -> None:
        """Judge one line of log text written by `source`."""
        with self._lock_findings:
            self.records += 1
            for what, pattern in FORBIDDEN.items():
                if pattern.search(text):
                    self.findings.append(f"{source}: {what} in a log line ({level})")
            for what in self._known_values_in(text):
                self.findings.append(f"{source}: {what} in a log line ({level})")

    def _known_values_in(self, text: str) -> set[str]:
        found = {what for phrase, what in self._phrases.items() if phrase in text}
        if not self._values:
            return found
        for run in _RUN.findall(text):
            for length in self._lengths:
                for start in range(len(run) - length + 1):
                    what = self._values.get(run[start : start + length])
                    if what is not None:
                        found.add(what)
        return found

    def unreachable_loggers(self) -> list[str]:
        """Loggers in MUST_REACH whose records no longer reach this handler: removed from the root logger, or a
        logger that stopped propagating (a library's logging set-up). The scan would then pass on nothing."""
        missing = []
        for name in MUST_REACH:
            logger: logging.Logger | None = logging.getLogger(name)
            reached = False
            while logger is not None:
                if self in logger.handlers:
                    reached = True
                    break
                if not logger.propagate:
                    break
                logger = logger.parent
            if not reached:
                missing.append(name)
        return missing


# The run's one scanner (installed on the root logger by tests/conftest.py): tests register values with it.
SCANNER = LeakScanner()


def forbid(value: str, what: str) -> None:
    SCANNER.forbid(value, what)


def scan_process_output(source: str, text: str) -> None:
    """Judge what a server process started by a test wrote (its JSON log lines), as if it had been logged here."""
    for line in text.splitlines():
        if line.strip():
            SCANNER.judge(f"entryway.process.{source}", "process output", line)
