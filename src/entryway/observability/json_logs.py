"""Structured logs: one JSON object per line, with the request ID of the request that wrote it.

Log calls pass facts as `extra={...}`; those become fields. Nothing here ever receives a secret: the code that
logs is written to pass IDs and codes of errors, never tokens, codes, secrets or assertion content.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from entryway.observability.request_id import current_request_id

# Attributes every LogRecord has; anything else on a record came from `extra=` and is a field of the line.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id is not None:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                # A request target can hold a credential (a portal link's token, a logout's id_token_hint): whatever
                # a call site passes, a field named for one is printed as the access log prints targets.
                line[key] = redacted_url(value) if key in URL_FIELDS and value is not None else value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


# Fields of a log line that hold a request's path or target (`extra={"path": ...}`).
URL_FIELDS = frozenset({"path", "target", "url"})

# Paths whose last segment is itself a credential: a shareable portal link opens its organization's admin portal,
# any number of times for 7 days, to whoever has the URL.
CREDENTIAL_PATHS = ("/portal/links/",)


def redacted_target(target: str) -> str:
    """A request target as the access log may show it: no query, no credential in the path."""
    path, has_query, _query = target.partition("?")
    for prefix in CREDENTIAL_PATHS:
        if path.startswith(prefix) and len(path) > len(prefix):
            path = prefix + "…"
    return path + ("?…" if has_query else "")


def redacted_url(value: object) -> str:
    """A `path`, `target` or `url` field as a log line may show it, whatever the call site passed: a path, a
    request target or an absolute URL, as a string or as a URL object (Starlette's `request.url`, httpx's, which
    json.dumps would print whole). The path as `redacted_target` shows it; no query, fragment or user:password."""
    try:
        parts = urlsplit(str(value))
    except ValueError:  # an unparseable authority ("http://[::1"): nothing of it is worth the risk
        return "…"
    origin = f"{parts.scheme}:" if parts.scheme else ""
    if parts.netloc:
        origin += "//" + parts.netloc.rpartition("@")[2]
    return origin + redacted_target(parts.path) + ("?…" if parts.query else "") + ("#…" if parts.fragment else "")


class RedactUrlCredentials(logging.Filter):
    """uvicorn's access log prints each request's target. `/oidc/logout?id_token_hint=…` carries a token in its
    query and `/portal/links/<token>` one in its path: keep the path, drop the query and those tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redacted_target(args[2]), *args[3:])
        return True


# Libraries whose debug output would carry what must never be logged: signxml logs the XML it canonicalizes
# (assertion content), httpcore/httpx log headers and URLs of outbound calls (tokens, codes).
QUIET_LIBRARIES = {"signxml": logging.WARNING, "httpcore": logging.WARNING, "httpx": logging.WARNING}


def quiet_libraries() -> None:
    for name, level in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(level)


def route_server_logs() -> None:
    """uvicorn's loggers write through the root logger's handler (one format, the request ID on each line), and
    its access log names no credential."""
    quiet_libraries()
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactUrlCredentials) for f in access.filters):
        access.addFilter(RedactUrlCredentials())


def configure(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Send entryway's and uvicorn's logs to stderr, as JSON lines (or plain text for a person at `make dev`)."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    route_server_logs()
