"""The error catalogue: every failure Entryway reports maps to one of these contract codes (CONTRACT §3.5).

A `LoginError` carries the code, a message a person can act on, and a diagnosis (what was wanted, what was
got) that is stored in the auth log and never sent to the browser beyond its `err_…` reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# code -> (one-line meaning for docs and default messages)
INTEGRATION_ERRORS: dict[str, str] = {
    "invalid_redirect_uri": "The redirect_uri is not on the environment's callback allow-list.",
    "invalid_client": "The client_id is unknown, or client authentication failed.",
    "invalid_request": "A required parameter is missing, repeated or malformed.",
    "invalid_connection_selector": "No connection selector was given (connection_id, organization_id, "
    "domain or login_hint).",
    "invalid_organization_id": "The organization_id does not name an organization of this environment.",
    "invalid_connection_id": "The connection_id does not name a connection of this environment.",
    "no_active_connections": "The organization has no enabled connection.",
    "connection_not_active": "The selected connection is disabled.",
    "domain_not_found": "No organization has the given domain.",
    "invalid_user_domain": "The login_hint is not an email address with a domain.",
    "access_denied": "The login was refused.",
    "server_error": "Entryway could not complete the request; the reference names the recorded cause.",
    "temporarily_unavailable": "Entryway's database cannot be reached right now; retry after Retry-After seconds.",
}

IDP_ERRORS: dict[str, str] = {
    "mandatory_attribute_missing": "The IdP did not send an attribute the connection requires.",
    "invalid_saml_response": "The SAML response does not satisfy a required condition.",
    "malformed_saml_response": "The SAML response could not be decoded or parsed.",
    "signature_validation_failed": "The SAML response is not signed by a certificate of the connection.",
    "invalid_status": "The IdP reported a non-success status.",
    "assertion_expired": "The assertion is outside its validity window.",
    "response_expired": "The response is outside its validity window, or its login request expired.",
    "invalid_saml_metadata": "The IdP metadata could not be used.",
    "invalid_id_token": "The IdP's ID token failed validation.",
    "failed_to_exchange_token": "The IdP's token endpoint refused the code exchange.",
    "user_info_retrieve_failed": "The IdP's userinfo endpoint failed.",
    "authentication_not_completed": "The login was abandoned or replayed before it completed.",
}

ALL_LOGIN_ERRORS = {**INTEGRATION_ERRORS, **IDP_ERRORS}

# Errors of Entryway's own pages (the admin portal, the dashboard): shown on a page, never redirected.
PAGE_ERRORS: dict[str, str] = {
    "session_missing": "The page needs a session and the browser sent none.",
    "session_expired": "The session ended: it was idle too long, reached its end, or its link was revoked.",
    "csrf_failed": "A form was sent without the token of the session it came from.",
    "portal_link_invalid": "The portal link is not one Entryway issued (mistyped, truncated or forged).",
    "portal_link_expired": "The portal link is past its expiry time.",
    "portal_link_used": "The embeddable portal link was already opened once.",
    "portal_link_revoked": "The portal link was revoked.",
}


@dataclass
class LoginError(Exception):
    """A failed login step. `diagnosis` holds wanted/got detail for the auth log, never for the browser."""

    code: str
    message: str
    diagnosis: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in ALL_LOGIN_ERRORS:
            raise ValueError(f"{self.code!r} is not a contract error code")
        super().__init__(self.message)

    @classmethod
    def wanted_got(cls, code: str, message: str, wanted: Any, got: Any, **extra: Any) -> LoginError:
        return cls(code, message, {"wanted": wanted, "got": got, **extra})


@dataclass
class OAuthError(Exception):
    """An error of the token or userinfo endpoints (RFC 6749 §5.2), answered as JSON."""

    error: str
    description: str
    status: int = 400
    # True once the failure is in the auth log (which counts it in /metrics): the token endpoint counts the
    # others itself, so each refused token request is counted once (oidc_provider/token.py).
    in_auth_log: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.description)


@dataclass
class FieldViolation:
    field: str
    description: str


@dataclass
class ApiError(Exception):
    """A management API error, rendered as the contract's gRPC-style body (CONTRACT §5)."""

    status: int
    message: str
    violations: list[FieldViolation] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    GRPC_CODES = {
        400: (3, "INVALID_ARGUMENT"),
        401: (16, "UNAUTHENTICATED"),
        403: (7, "PERMISSION_DENIED"),
        404: (5, "NOT_FOUND"),
        409: (6, "ALREADY_EXISTS"),
        412: (9, "FAILED_PRECONDITION"),
        413: (3, "INVALID_ARGUMENT"),
        415: (3, "INVALID_ARGUMENT"),
        422: (3, "INVALID_ARGUMENT"),
        429: (8, "RESOURCE_EXHAUSTED"),
        500: (13, "INTERNAL"),
        503: (14, "UNAVAILABLE"),
    }

    def body(self) -> dict[str, Any]:
        grpc, name = self.GRPC_CODES.get(self.status, (2, "UNKNOWN"))
        detail: dict[str, Any] = {"error_code": name}
        if self.violations:
            detail["validation_error_info"] = {
                "field_violations": [{"field": v.field, "description": v.description} for v in self.violations]
            }
        return {"code": grpc, "message": self.message, "details": [detail]}


def invalid(violations: list[FieldViolation], message: str = "The request has invalid fields") -> ApiError:
    return ApiError(400, message, violations)


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, f"{what} {ident} was not found")


def conflict(message: str, field_name: str | None = None) -> ApiError:
    violations = [FieldViolation(field_name, message)] if field_name else []
    return ApiError(409, message, violations)
