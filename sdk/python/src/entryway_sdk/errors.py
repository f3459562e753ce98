"""The SDK's exceptions. They mirror what Entryway answers: OAuth errors from the token endpoint, the
management API's gRPC-style errors (with every violated field), and local failures (bad arguments, tokens or
webhook signatures that do not verify).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class EntrywayError(Exception):
    """Base of every error the SDK raises."""


class ArgumentError(EntrywayError, ValueError):
    """An argument is missing or malformed; raised before any network call."""


class TokenValidationError(EntrywayError):
    """A JWT (ID token, access token, IdP-initiated login token) failed signature or claim checks."""


class WebhookVerificationError(EntrywayError):
    """A webhook's signature, timestamp or headers do not verify."""


class TransportError(EntrywayError):
    """Entryway could not be reached, or answered something that is not its contract."""


class OAuthError(EntrywayError):
    """The token endpoint refused a request: `error` is the OAuth code (`invalid_grant`, `invalid_client`, …)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.status = status
        self.error = error
        self.description = description


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class ApiError(EntrywayError):
    """A management API call failed. `code` is the gRPC code, `error_code` its name (`INVALID_ARGUMENT`, …)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        error_code: str | None = None,
        field_violations: list[FieldViolation] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.code = code
        self.error_code = error_code
        self.field_violations = field_violations or []
        self.retry_after = retry_after
        details = "; ".join(f"{v.field}: {v.description}" for v in self.field_violations)
        super().__init__(f"HTTP {status}: {message}" + (f" ({details})" if details else ""))


class InvalidArgumentError(ApiError):
    """400 (or 413): invalid input; `field_violations` names every violated field."""


class UnauthenticatedError(ApiError):
    """401: no, invalid or expired access token."""


class PermissionDeniedError(ApiError):
    """403: the token's scopes do not allow the call."""


class NotFoundError(ApiError):
    """404: the resource does not exist in this environment."""


class ConflictError(ApiError):
    """409: a duplicate, or an Idempotency-Key reused with a different body."""


class RateLimitedError(ApiError):
    """429: rate limited, after the SDK's retries; `retry_after` is the server's advice in seconds."""


class UnavailableError(ApiError):
    """503: Entryway cannot serve now (database unreachable), after the SDK's retries."""


class ServerError(ApiError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidArgumentError,
    413: InvalidArgumentError,
    401: UnauthenticatedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
    503: UnavailableError,
}


def retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: Entryway sends seconds, so treat anything else as absent
    return seconds if seconds >= 0 else None


def api_error(status: int, body: Any, retry_after: str | None = None) -> ApiError:
    """The exception for a management API answer with this status and (parsed JSON, or None) body."""
    message = f"HTTP {status}"
    code: int | None = None
    error_code: str | None = None
    violations: list[FieldViolation] = []
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        code = body["code"] if isinstance(body.get("code"), int) else None
        for detail in body.get("details") or []:
            if not isinstance(detail, dict):
                continue
            if isinstance(detail.get("error_code"), str):
                error_code = detail["error_code"]
            info = detail.get("validation_error_info") or {}
            for item in info.get("field_violations") or [] if isinstance(info, dict) else []:
                if isinstance(item, dict):
                    violations.append(FieldViolation(str(item.get("field", "")), str(item.get("description", ""))))
    kind = _BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return kind(
        status,
        message,
        code=code,
        error_code=error_code,
        field_violations=violations,
        retry_after=retry_after_seconds(retry_after),
    )
