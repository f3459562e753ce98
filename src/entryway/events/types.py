"""The event types Entryway emits (CONTRACT §6), each with the resource it carries and a line for the docs."""

from __future__ import annotations

# type -> (object, meaning). `object` names what `data` holds.
EVENT_TYPES: dict[str, tuple[str, str]] = {
    "organization.created": ("organization", "An organization was created."),
    "organization.updated": ("organization", "An organization's fields changed."),
    "organization.deleted": ("organization", "An organization was deleted, with its domains and connections."),
    "organization.sso_created": ("connection", "A connection was added to an organization."),
    "organization.sso_enabled": ("connection", "A connection was enabled: logins may use it."),
    "organization.sso_disabled": ("connection", "A connection was disabled."),
    "organization.sso_deleted": ("connection", "A connection was deleted."),
    "organization.sso_certificate_expiring": (
        "certificate",
        "An IdP signing certificate of a connection expires within 30 days (sent once per certificate).",
    ),
    "organization.sso_certificate_expired": (
        "certificate",
        "An IdP signing certificate of a connection has expired (sent once per certificate).",
    ),
    "organization.domain_created": ("domain", "A domain was added to an organization."),
    "organization.domain_deleted": ("domain", "A domain was removed from an organization."),
    "organization.domain_dns_verification_success": ("domain", "A domain's DNS TXT record was found: verified."),
    "organization.domain_dns_verification_failed": ("domain", "A domain's DNS check did not find the TXT record."),
    "sso.login_succeeded": ("login", "A user signed in through a connection (the auth log's success record)."),
    "sso.login_failed": ("login", "A login step failed; `data.error_code` is the contract code."),
    "sso.idp_logout": (
        "login",
        "The IdP ended a user's sessions (SAML IdP-initiated single logout); `data.diagnosis.sessions_ended` lists "
        "the `sid` of each login that ended, so the app can end its own sessions.",
    ),
}

# Sent only to the endpoint being tested (`POST /webhooks/{id}:test`); no endpoint subscribes to it.
TEST_EVENT_TYPE = "webhook.test"


def object_of(event_type: str) -> str:
    if event_type == TEST_EVENT_TYPE:
        return "webhook"
    return EVENT_TYPES[event_type][0]
