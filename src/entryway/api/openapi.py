"""What /api/v1/openapi.json says about each call: its request body, its success shape and its errors.

Bodies are read by hand (bodies.py) to give the contract's 400/413 instead of FastAPI's 422, so FastAPI cannot
see them: the body dependencies carry their pydantic model, and `describe` writes each one into the operation as
an inline JSON Schema. Success shapes are the representations.py dictionaries, written out here as JSON Schema;
the suite checks the running API against this document (tests/api/test_openapi.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel

STRING = {"type": "string"}
OPTIONAL_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
OPTIONAL_TIME = {"type": ["string", "null"], "format": "date-time"}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}


ERROR = _object(
    {
        "code": {"type": "integer"},
        "message": STRING,
        "details": {
            "type": "array",
            "items": _object(
                {"error_code": STRING},
                {
                    "validation_error_info": _object(
                        {
                            "field_violations": {
                                "type": "array",
                                "items": _object({"field": STRING, "description": STRING}),
                            }
                        }
                    )
                },
            ),
        },
    }
)

ORGANIZATION = _object(
    {
        "id": STRING,
        "environment_id": STRING,
        "display_name": STRING,
        "external_id": OPTIONAL_STRING,
        "slug": OPTIONAL_STRING,
        "logo_url": OPTIONAL_STRING,
        "metadata": STRING_MAP,
        "create_time": TIME,
        "update_time": TIME,
    }
)

DOMAIN = _object(
    {
        "id": STRING,
        "organization_id": STRING,
        "domain": STRING,
        "domain_type": {"enum": ["ORGANIZATION_DOMAIN", "ALLOWED_EMAIL_DOMAIN"]},
        "verification_status": STRING,
        "verification_record": _object({"type": {"const": "TXT"}, "name": STRING, "value": STRING}),
        "create_time": TIME,
        "update_time": TIME,
    }
)

CONNECTION = _object(
    {
        "id": STRING,
        "organization_id": STRING,
        "type": {"enum": ["SAML", "OIDC"]},
        "provider": STRING,
        "enabled": {"type": "boolean"},
        "missing_configuration": {"type": "array", "items": STRING},
        "attribute_mapping": STRING_MAP,
        "create_time": TIME,
        "update_time": TIME,
    },
    {"saml_config": {"type": "object"}, "oidc_config": {"type": "object"}},
)

ENVIRONMENT = _object(
    {
        "id": STRING,
        "type": {"enum": ["development", "production"]},
        "display_name": STRING,
        "url": STRING,
        "create_time": TIME,
        "update_time": TIME,
    },
    {"custom_domain": OPTIONAL_STRING},
)

CUSTOM_DOMAIN = _object(
    {
        "domain": OPTIONAL_STRING,
        "status": {"enum": ["NONE", "PENDING", "VERIFIED"]},
        "cname_record": {
            "type": ["object", "null"],
            "required": ["type", "name", "value"],
            "properties": {"type": {"const": "CNAME"}, "name": STRING, "value": STRING},
        },
        "environment_url": STRING,
        "base_url": STRING,
        "env_file_changes": {
            "type": "array",
            "items": _object({"name": STRING, "value": STRING, "previous_value": STRING}),
        },
        "instructions": STRING,
    }
)

REDIRECT_URI = _object(
    {
        "uri": STRING,
        "kind": {"enum": ["callback", "initiate_login", "post_logout"]},
        "default": {"type": "boolean"},
        "create_time": TIME,
    }
)

SECRET = _object(
    {
        "id": STRING,
        "client_id": STRING,
        "secret_suffix": STRING,
        "status": {"enum": ["ACTIVE", "INACTIVE"]},
        "create_time": TIME,
        "update_time": OPTIONAL_TIME,
        "last_used_time": OPTIONAL_TIME,
        "expire_time": OPTIONAL_TIME,
        "created_by": OPTIONAL_STRING,
    }
)

AUTH_EVENT = _object(
    {
        "id": STRING,
        "auth_request_id": OPTIONAL_STRING,
        "status": {"enum": ["INITIATED", "PENDING", "SUCCESS", "FAILED"]},
        "step": OPTIONAL_STRING,
        "error_code": OPTIONAL_STRING,
        "message": OPTIONAL_STRING,
        "diagnosis": {"type": "object"},
        "organization_id": OPTIONAL_STRING,
        "connection_id": OPTIONAL_STRING,
        "email": OPTIONAL_STRING,
        "client_ip": OPTIONAL_STRING,
        "create_time": TIME,
    }
)

CHECK_STATUS = {"enum": ["pass", "warn", "fail"]}
CHECKLIST = _object(
    {
        "environment_id": STRING,
        "status": CHECK_STATUS,
        "counts": _object({"pass": {"type": "integer"}, "warn": {"type": "integer"}, "fail": {"type": "integer"}}),
        "checks": {
            "type": "array",
            "items": _object(
                {
                    "rule": STRING,
                    "title": STRING,
                    "status": CHECK_STATUS,
                    "detail": STRING,
                    "fix": OPTIONAL_STRING,
                    "docs": STRING,
                }
            ),
        },
    }
)

PROVIDER_CHECK = _object(
    {
        "ok": {"const": True},
        "issuer": STRING,
        "authorization_endpoint": STRING,
        "token_endpoint": STRING,
        "userinfo_endpoint": OPTIONAL_STRING,
        "jwks_uri": STRING,
        "end_session_endpoint": OPTIONAL_STRING,
        "id_token_signing_alg_values_supported": {"type": "array", "items": STRING},
        "signing_keys": {"type": "integer", "minimum": 1},
    }
)

WEBHOOK = _object(
    {
        "id": STRING,
        "url": STRING,
        "description": OPTIONAL_STRING,
        "event_types": {"type": "array", "items": STRING},
        "status": {"enum": ["ENABLED", "DISABLED"]},
        "disabled_reason": OPTIONAL_STRING,
        "failing_since": OPTIONAL_TIME,
        "previous_secret_expire_time": OPTIONAL_TIME,
        "create_time": TIME,
        "update_time": TIME,
    }
)

WEBHOOK_WITH_SECRET = _object({"webhook": WEBHOOK, "secret": {"type": "string", "pattern": "^whsec_"}})

OPTIONAL_INTEGER = {"type": ["integer", "null"]}

WEBHOOK_ATTEMPT = _object(
    {
        "attempt": {"type": "integer", "minimum": 1},
        "trigger": {"enum": ["scheduled", "replay", "test"]},
        "outcome": {"enum": ["SUCCESS", "FAILURE"]},
        "status_code": OPTIONAL_INTEGER,
        "error": OPTIONAL_STRING,
        "response_excerpt": OPTIONAL_STRING,
        "latency_ms": {"type": "integer", "minimum": 0},
        "create_time": TIME,
    }
)

_DELIVERY_FIELDS = {
    "id": STRING,
    "endpoint_id": STRING,
    "event_id": STRING,
    "event_type": STRING,
    "status": {"enum": ["PENDING", "SUCCEEDED", "FAILED"]},
    "attempt_count": {"type": "integer", "minimum": 0},
    "next_attempt_time": OPTIONAL_TIME,
    "last_status_code": OPTIONAL_INTEGER,
    "last_error": OPTIONAL_STRING,
    "create_time": TIME,
    "update_time": TIME,
}
WEBHOOK_DELIVERY = _object(_DELIVERY_FIELDS)
WEBHOOK_DELIVERY_WITH_ATTEMPTS = _object({**_DELIVERY_FIELDS, "attempts": {"type": "array", "items": WEBHOOK_ATTEMPT}})

EVENT = _object(
    {
        "spec_version": {"const": "1"},
        "id": STRING,
        "type": STRING,
        "object": STRING,
        "environment_id": STRING,
        "organization_id": OPTIONAL_STRING,
        "occurred_at": TIME,
        "data": {"type": "object"},
    }
)

EVENT_TYPE_LIST = _object(
    {"event_types": {"type": "array", "items": _object({"type": STRING, "object": STRING, "description": STRING})}}
)

EMPTY = {"type": "object", "maxProperties": 0}
UNDESCRIBED = {"type": "object", "description": "not described yet"}


def wrapped(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _object({name: schema})


def page(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _object(
        {
            name: {"type": "array", "items": schema},
            "next_page_token": STRING,
            "total_size": {"type": "integer", "minimum": 0},
        }
    )


DOMAIN_VERIFICATION = _object(
    {
        "domain": DOMAIN,
        "verified": {"type": "boolean"},
        "dns_check": _object(
            {
                "record_name": STRING,
                "expected_value": STRING,
                "found_values": {"type": "array", "items": STRING},
                "message": STRING,
            }
        ),
    }
)

PORTAL_LINK = _object(
    {
        "id": STRING,
        "organization_id": STRING,
        "link_type": {"type": "string", "enum": ["SHAREABLE", "EMBEDDABLE"]},
        "location": OPTIONAL_STRING,
        "create_time": TIME,
        "expire_time": TIME,
    }
)
_BRAND_IMAGE = {
    "type": ["object", "null"],
    "required": ["url", "content_type", "width", "height", "size_bytes"],
    "properties": {
        "url": STRING,
        "content_type": {"enum": ["image/png", "image/svg+xml", "image/webp", "image/x-icon"]},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "size_bytes": {"type": "integer"},
    },
}
RESOLVED_BRANDING = _object(
    {
        "display_name": STRING,
        "accent_color": STRING,
        "accent_foreground": STRING,
        "link_color": STRING,
        "logo_url": OPTIONAL_STRING,
        "favicon_url": STRING,
    }
)
BRANDING_WARNINGS = {
    "type": "array",
    "items": _object({"field": STRING, "description": STRING, "contrast_ratio": {"type": "number"}}),
}
ENVIRONMENT_BRANDING = _object(
    {
        "branding": _object(
            {
                "display_name": OPTIONAL_STRING,
                "accent_color": OPTIONAL_STRING,
                "logo": _BRAND_IMAGE,
                "favicon": _BRAND_IMAGE,
                "update_time": OPTIONAL_TIME,
                "resolved": RESOLVED_BRANDING,
            }
        ),
        "warnings": BRANDING_WARNINGS,
    }
)
ORGANIZATION_BRANDING = wrapped(
    "branding",
    _object(
        {
            "organization_id": STRING,
            "display_name": OPTIONAL_STRING,
            "logo": _BRAND_IMAGE,
            "update_time": OPTIONAL_TIME,
            "resolved": RESOLVED_BRANDING,
        }
    ),
)
BRANDING_PREVIEW = _object(
    {
        "preview": _object({"page": STRING, "html": STRING, "branding": RESOLVED_BRANDING}),
        "warnings": BRANDING_WARNINGS,
    }
)

# The success answer of each call, by handler name.
SUCCESS: dict[str, dict[str, Any]] = {
    "create_organization": wrapped("organization", ORGANIZATION),
    "list_organizations": page("organizations", ORGANIZATION),
    "get_by_external_id": wrapped("organization", ORGANIZATION),
    "get_organization": wrapped("organization", ORGANIZATION),
    "update_organization": wrapped("organization", ORGANIZATION),
    "delete_organization": EMPTY,
    "create_domain": wrapped("domain", DOMAIN),
    "list_domains": page("domains", DOMAIN),
    "verify_domain": DOMAIN_VERIFICATION,
    "get_domain": wrapped("domain", DOMAIN),
    "delete_domain": EMPTY,
    "create_connection": wrapped("connection", CONNECTION),
    "list_organization_connections": page("connections", CONNECTION),
    "search_connections": page("connections", CONNECTION),
    "enable_connection": wrapped("connection", CONNECTION),
    "disable_connection": wrapped("connection", CONNECTION),
    "refresh_connection_metadata": wrapped("connection", CONNECTION),
    "check_connection": wrapped("check", PROVIDER_CHECK),
    "get_connection": wrapped("connection", CONNECTION),
    "update_connection": wrapped("connection", CONNECTION),
    "delete_connection": EMPTY,
    "get_environment": wrapped("environment", ENVIRONMENT),
    "update_environment": wrapped("environment", ENVIRONMENT),
    "list_redirect_uris": page("redirect_uris", REDIRECT_URI),
    "add_redirect_uri": wrapped("redirect_uri", REDIRECT_URI),
    "remove_redirect_uri": EMPTY,
    "set_initiate_login_uri": wrapped("redirect_uri", REDIRECT_URI),
    "clear_initiate_login_uri": EMPTY,
    "create_secret": _object({"plain_secret": STRING, "secret": SECRET}),
    "list_secrets": page("secrets", SECRET),
    "set_secret_status": wrapped("secret", SECRET),
    "delete_secret": EMPTY,
    "list_auth_requests": page("auth_requests", AUTH_EVENT),
    "create_portal_link": wrapped("link", PORTAL_LINK),
    "list_portal_links": page("links", PORTAL_LINK),
    "revoke_portal_link": EMPTY,
    "get_checklist": wrapped("checklist", CHECKLIST),
    "get_environment_branding": ENVIRONMENT_BRANDING,
    "update_environment_branding": ENVIRONMENT_BRANDING,
    "get_organization_branding": ORGANIZATION_BRANDING,
    "update_organization_branding": ORGANIZATION_BRANDING,
    "preview_branding": BRANDING_PREVIEW,
    "get_custom_domain": wrapped("custom_domain", CUSTOM_DOMAIN),
    "set_custom_domain": wrapped("custom_domain", CUSTOM_DOMAIN),
    "remove_custom_domain": wrapped("custom_domain", CUSTOM_DOMAIN),
    "verify_custom_domain": _object(
        {
            "custom_domain": CUSTOM_DOMAIN,
            "verified": {"type": "boolean"},
            "dns_check": _object(
                {
                    "record_name": STRING,
                    "expected_value": STRING,
                    "found_values": {"type": "array", "items": STRING},
                    "message": STRING,
                }
            ),
        }
    ),
    "list_event_types": EVENT_TYPE_LIST,
    "create_webhook": WEBHOOK_WITH_SECRET,
    "list_webhooks": page("webhooks", WEBHOOK),
    "rotate_webhook_secret": WEBHOOK_WITH_SECRET,
    "test_webhook": wrapped("delivery", WEBHOOK_DELIVERY_WITH_ATTEMPTS),
    "get_webhook": wrapped("webhook", WEBHOOK),
    "update_webhook": wrapped("webhook", WEBHOOK),
    "delete_webhook": EMPTY,
    "list_webhook_deliveries": page("deliveries", WEBHOOK_DELIVERY),
    "replay_webhook_delivery": wrapped("delivery", WEBHOOK_DELIVERY_WITH_ATTEMPTS),
    "get_webhook_delivery": wrapped("delivery", WEBHOOK_DELIVERY_WITH_ATTEMPTS),
    "list_events": page("events", EVENT),
    "get_event": wrapped("event", EVENT),
}

# Calls that also answer another media type when the Accept header asks for it.
ALSO_SERVED: dict[str, dict[str, Any]] = {"preview_branding": {"text/html": {"schema": STRING}}}

_ERRORS = {
    "400": "Invalid input: every violated field is listed (also a bad page_token or page_size)",
    "401": "No, invalid or expired bearer token",
    "403": "The token's scopes do not allow the call",
    "404": "The resource does not exist in this environment",
    "409": "A duplicate, or an Idempotency-Key whose first request is still running",
    "413": "The body is larger than 64 KiB (512 KiB for branding calls, which carry images)",
    "415": "The body is not application/json",
    "422": "An Idempotency-Key reused with a different request; for :check, an OIDC IdP that cannot be used "
    "(the field to fix is named, with what was wanted and what was got)",
    "429": "Rate limited: retry after Retry-After seconds",
    "503": "The database is unreachable: retry after Retry-After seconds",
    # Declared so that FastAPI does not describe its own 422 body, which this API never sends (bodies and
    # parameters are refused with 400 in the contract's shape).
    "4XX": "Any other client error, in the same shape",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 0}}}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeat the POST safely: within 24 hours the same key and body return the first result",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON Schema with its $defs substituted in place (the request models are not recursive)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


def _errors_of(route: APIRoute, *, has_body: bool) -> list[str]:
    codes = ["400", "401", "403", "404", "429", "503", "4XX"]
    if has_body:
        codes += ["413", "415"]
    methods = route.methods or set()
    if methods & {"POST", "PUT", "PATCH", "DELETE"}:
        codes.append("409")
    if "POST" in methods:
        codes.append("422")
    return codes


def body_of(route: APIRoute) -> tuple[type[BaseModel], bool] | None:
    for dependency in route.dependant.dependencies:
        model = getattr(dependency.call, "body_model", None)
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model, bool(getattr(dependency.call, "body_required", True))
    return None


def describe(router: APIRouter) -> None:
    """Write bodies, success shapes and errors into every management route's OpenAPI operation."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        # a call added without its shape is still served; tests/api/test_openapi.py fails until SUCCESS has it
        success = SUCCESS.get(route.name, UNDESCRIBED)
        # the answer is described below, not by the handler's dict annotation
        route.response_model = None
        route.response_field = None
        status = str(route.status_code or 200)
        content: dict[str, Any] = {"application/json": {"schema": success}, **ALSO_SERVED.get(route.name, {})}
        responses: dict[int | str, dict[str, Any]] = {status: {"description": "Success", "content": content}}
        for code in _errors_of(route, has_body=body_of(route) is not None):
            text = _ERRORS[code]
            answer: dict[str, Any] = {"description": text, "content": {"application/json": {"schema": ERROR}}}
            if code in ("429", "503"):
                answer["headers"] = _RETRY_AFTER
            responses[code] = answer
        route.responses = responses
        extra: dict[str, Any] = {}
        body = body_of(route)
        if body is not None:
            model, required = body
            extra["requestBody"] = {
                "required": required,
                "content": {"application/json": {"schema": _inline(model.model_json_schema())}},
            }
        if "POST" in (route.methods or set()):
            extra["parameters"] = [IDEMPOTENCY_KEY]
        route.openapi_extra = extra or None
