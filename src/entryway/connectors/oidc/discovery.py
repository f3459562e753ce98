"""Where an OIDC connection's IdP lives: its discovery document (OpenID Connect Discovery 1.0 §4), or the
endpoints an administrator typed in, merged (typed-in endpoints win).

A discovery document is fetched once per connection version and kept for an hour, so no login pays for it.
Its `issuer` must be the one the connection names (§4.3): that value is what every ID token is checked
against, byte for byte.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from entryway.connectors.oidc.fetch import FetchError, request_json
from entryway.model.connections import SsoConnection
from entryway.outbound import policy_for
from entryway.runtime import Runtime

WELL_KNOWN = "/.well-known/openid-configuration"
CACHE_SECONDS = 3600
MAX_ENTRIES = 4096
_MANUAL = {"authorize_uri": "authorization_endpoint", "token_uri": "token_endpoint", "jwks_uri": "jwks_uri"}


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None = None
    end_session_endpoint: str | None = None
    signing_algs: tuple[str, ...] = ()
    iss_parameter_supported: bool = False


class DiscoveryError(FetchError):
    """The IdP's configuration could not be found or used."""


URL_FIELDS = ("issuer", "discovery_endpoint", "authorize_uri", "token_uri", "user_info_uri", "jwks_uri")


def settings_source(config: dict[str, Any]) -> tuple[Any, ...]:
    """The oidc_config values the IdP's configuration is read from: a check holds for these values only."""
    return tuple(config.get(name) for name in URL_FIELDS)


def needs_provider(config: dict[str, Any]) -> bool:
    """Whether the configuration names an IdP that can (and so must) be checked: an issuer or discovery URL."""
    return bool(config.get("issuer") or config.get("discovery_endpoint"))


@dataclass(frozen=True)
class ProviderCheck:
    """The IdP configuration read, and its signing keys counted, for one version of the connection's URLs."""

    source: tuple[Any, ...]
    provider: ProviderConfig
    signing_keys: int


def discovery_url(config: dict[str, Any]) -> str | None:
    """The discovery document to read, or None when the connection is configured by hand."""
    if config.get("discovery_endpoint"):
        return str(config["discovery_endpoint"])
    if config.get("issuer") and not all(config.get(name) for name in _MANUAL):
        return str(config["issuer"]).rstrip("/") + WELL_KNOWN
    return None


def _endpoint(doc: dict[str, Any], name: str, url: str, *, allow_http: bool, required: bool) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise DiscoveryError(
            f"The discovery document has no {name}",
            {"wanted": f"{name} (a URL)", "got": "none" if value is None else type(value).__name__, "url": url},
        )
    parts = urlsplit(value)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise DiscoveryError(
            f"The discovery document's {name} is not an https URL",
            {"wanted": "an absolute https URL", "got": value[:200], "url": url},
        )
    # RFC 6749 §3.1: an authorization endpoint has no fragment. Parameters added to a URL with one would be
    # part of the fragment, which the browser never sends. The same rules as for a URL an administrator types
    # (connections.url_problems).
    if parts.fragment:
        raise DiscoveryError(
            f"The discovery document's {name} has a #fragment",
            {"wanted": "a URL without #fragment", "got": value[:200], "url": url},
        )
    if parts.username is not None or parts.password is not None:
        # The value is not repeated: what stands before the @ may be a password.
        raise DiscoveryError(
            f"The discovery document's {name} has a user name or password before its host",
            {"wanted": "a URL without user@ or user:password@", "got": "user information", "url": url},
        )
    return value


def _same_issuer(configured: str, discovered: str) -> bool:
    # Administrators copy issuers with and without the trailing slash (JumpCloud, Auth0); the token is then
    # checked against the discovered value exactly.
    return configured.rstrip("/") == discovered.rstrip("/")


def parse_document(doc: Any, url: str, config: dict[str, Any], *, allow_http: bool) -> ProviderConfig:
    if not isinstance(doc, dict):
        raise DiscoveryError(
            "The discovery document is not a JSON object",
            {"wanted": "a JSON object", "got": type(doc).__name__, "url": url},
        )
    issuer = doc.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise DiscoveryError("The discovery document has no issuer", {"wanted": "issuer", "got": "none", "url": url})
    configured = config.get("issuer")
    if configured and not _same_issuer(str(configured), issuer):
        raise DiscoveryError(
            "The discovery document names another issuer than the connection",
            {"wanted": configured, "got": issuer[:200], "url": url},
        )
    algs = doc.get("id_token_signing_alg_values_supported")
    found = {field: _endpoint(doc, field, url, allow_http=allow_http, required=True) for field in _MANUAL.values()}
    return ProviderConfig(
        issuer=issuer,
        authorization_endpoint=config.get("authorize_uri") or str(found["authorization_endpoint"]),
        token_endpoint=config.get("token_uri") or str(found["token_endpoint"]),
        jwks_uri=config.get("jwks_uri") or str(found["jwks_uri"]),
        userinfo_endpoint=config.get("user_info_uri")
        or _endpoint(doc, "userinfo_endpoint", url, allow_http=allow_http, required=False),
        end_session_endpoint=_endpoint(doc, "end_session_endpoint", url, allow_http=allow_http, required=False),
        signing_algs=tuple(a for a in algs if isinstance(a, str)) if isinstance(algs, list) else (),
        iss_parameter_supported=doc.get("authorization_response_iss_parameter_supported") is True,
    )


def manual_config(config: dict[str, Any]) -> ProviderConfig:
    missing = [name for name in ("issuer", *_MANUAL) if not config.get(name)]
    if missing:
        raise DiscoveryError(
            "The connection has neither a discovery document nor all of its endpoints",
            {
                "wanted": "issuer or discovery_endpoint, or issuer + authorize_uri + token_uri + jwks_uri",
                "got": missing,
            },
        )
    return ProviderConfig(
        issuer=str(config["issuer"]),
        authorization_endpoint=str(config["authorize_uri"]),
        token_endpoint=str(config["token_uri"]),
        jwks_uri=str(config["jwks_uri"]),
        userinfo_endpoint=config.get("user_info_uri") or None,
    )


def discover(rt: Runtime, config: dict[str, Any], *, allow_http: bool) -> ProviderConfig:
    """Read (uncached) the IdP configuration a connection's oidc_config describes."""
    url = discovery_url(config)
    if url is None:
        return manual_config(config)
    doc = request_json("GET", url, policy=policy_for(rt.settings))
    return parse_document(doc, url, config, allow_http=allow_http)


def provider_config(rt: Runtime, connection: SsoConnection, *, allow_http: bool) -> ProviderConfig:
    """The connection's IdP configuration, cached per connection version for CACHE_SECONDS."""
    cache: dict[tuple[str, Any], tuple[float, ProviderConfig]] = rt.caches.setdefault(  # type: ignore[assignment]
        "oidc_discovery", {}
    )
    key = (connection.id, connection.update_time)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    found = discover(rt, connection.oidc_config, allow_http=allow_http)
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    cache[key] = (time.monotonic(), found)
    return found
