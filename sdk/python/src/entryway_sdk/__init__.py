"""Entryway's Python SDK: login helpers, token validation, webhook verification and the management API."""

from entryway_sdk.authorization import AuthorizationRequest
from entryway_sdk.client import AsyncEntrywayClient, EntrywayClient
from entryway_sdk.errors import (
    ApiError,
    ArgumentError,
    ConflictError,
    EntrywayError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    OAuthError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    TokenValidationError,
    TransportError,
    UnauthenticatedError,
    UnavailableError,
    WebhookVerificationError,
)
from entryway_sdk.models import (
    AuthenticationResult,
    Connection,
    Domain,
    DomainVerification,
    Identity,
    IdpInitiatedLoginClaims,
    Organization,
    Page,
    PortalLink,
    User,
)
from entryway_sdk.transport import RetryPolicy
from entryway_sdk.webhook_models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookWithSecret

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "ArgumentError",
    "AsyncEntrywayClient",
    "AuthenticationResult",
    "AuthorizationRequest",
    "ConflictError",
    "Connection",
    "Domain",
    "DomainVerification",
    "EntrywayClient",
    "EntrywayError",
    "Event",
    "FieldViolation",
    "Identity",
    "IdpInitiatedLoginClaims",
    "InvalidArgumentError",
    "NotFoundError",
    "OAuthError",
    "Organization",
    "Page",
    "PermissionDeniedError",
    "PortalLink",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "TokenValidationError",
    "TransportError",
    "UnauthenticatedError",
    "UnavailableError",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookVerificationError",
    "WebhookWithSecret",
]
