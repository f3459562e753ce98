"""Live checks of what an IT admin gives the portal, before anything is saved.

A check runs the very validation a save runs — the connection service's update, inside a transaction that is
always rolled back — after fetching the metadata or discovery document, and adds what a person needs to
trust the result: the IdP's entity ID and SSO URL as parsed, each signing certificate's subject, fingerprint,
validity window, key and signature algorithm, and a plain verdict on each. `save` is the same path committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from entryway.connectors.oidc.discovery import ProviderCheck, ProviderConfig
from entryway.connectors.saml.metadata_import import prefetch
from entryway.keys.material import certificate_fingerprint, load_certificate
from entryway.model.connections import ConnectionType, SsoConnection
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import connection_checks, connections
from entryway.services.environments import Environment

EXPIRY_WARNING = timedelta(days=30)
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class CertificateReport:
    subject: str
    fingerprint: str
    not_before: datetime
    not_after: datetime
    key: str
    signature_algorithm: str
    problems: list[str]
    warnings: list[str]

    @property
    def usable(self) -> bool:
        return not self.problems


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)  # each blocks saving
    warnings: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label, value) shown as parsed
    certificates: list[CertificateReport] = field(default_factory=list)
    saved: SsoConnection | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def certificate_report(pem: str, now: datetime) -> CertificateReport:
    cert = load_certificate(pem)
    key = cert.public_key()
    problems: list[str] = []
    warnings: list[str] = []
    if isinstance(key, rsa.RSAPublicKey):
        key_text = f"RSA {key.key_size} bits"
        if key.key_size < MIN_RSA_BITS:
            problems.append(f"the RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_text = f"EC {key.curve.name}"
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key_text = "EdDSA"
        problems.append("EdDSA keys cannot sign SAML assertions Entryway accepts: use an RSA or EC key")
    else:
        key_text = type(key).__name__
        problems.append("the key type cannot sign SAML assertions: use an RSA or EC key")
    hash_algorithm = cert.signature_hash_algorithm
    signature = hash_algorithm.name.upper() if hash_algorithm else "none"
    if hash_algorithm is not None and hash_algorithm.name in ("sha1", "md5"):
        warnings.append(
            f"the certificate itself is signed with {signature}; Entryway trusts the key, not this signature, "
            "but the IdP should issue a SHA-256 certificate"
        )
    if cert.not_valid_after_utc <= now:
        problems.append(f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}: rotate it at the IdP")
    elif cert.not_valid_after_utc - now <= EXPIRY_WARNING:
        warnings.append(f"the certificate expires on {cert.not_valid_after_utc:%Y-%m-%d}: plan its rotation")
    if cert.not_valid_before_utc > now:
        problems.append(f"the certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    return CertificateReport(
        cert.subject.rfc4514_string() or "(empty subject)",
        certificate_fingerprint(cert),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        key_text,
        signature,
        problems,
        warnings,
    )


_LABELS = {
    "idp_metadata_url": "Metadata URL",
    "idp_metadata_xml": "Metadata",
    "idp_entity_id": "IdP entity ID",
    "idp_sso_url": "Single sign-on URL",
    "idp_certificates": "Signing certificate",
    "issuer": "Issuer URL",
    "discovery_endpoint": "Discovery URL",
    "client_id": "Client ID",
    "client_secret": "Client secret",
    "scopes": "Scopes",
    "token_auth_type": "Client authentication",
}


def _violations(exc: ApiError) -> list[str]:
    """The service's field violations in the portal's words (field labels, not API paths)."""
    if not exc.violations:
        return [exc.message]
    found = []
    for v in exc.violations:
        name = v.field.removeprefix("saml_config.").removeprefix("oidc_config.").split("[")[0]
        found.append(f"{_LABELS.get(name, name)}: {v.description.removeprefix('invalid_saml_metadata: ')}")
    return found


def _apply(
    rt: Runtime,
    env: Environment,
    connection: SsoConnection,
    changes: dict[str, Any],
    fetched: bytes | None,
    *,
    commit: bool,
    provider_check: ProviderCheck | None = None,
) -> SsoConnection:
    with rt.engine.connect() as conn:
        transaction = conn.begin()
        try:
            updated = connections.update_connection(
                rt,
                conn,
                env,
                connection.id,
                changes,
                org_id=connection.organization_id,
                fetched_metadata=fetched,
                provider_check=provider_check,
            )
        except BaseException:
            transaction.rollback()
            raise
        if commit:
            transaction.commit()
        else:
            transaction.rollback()
    return updated


def check_saml(
    rt: Runtime, env: Environment, connection: SsoConnection, saml_config: dict[str, Any], *, commit: bool
) -> CheckReport:
    """`saml_config` holds one of idp_metadata_url, idp_metadata_xml, or the manual fields."""
    report = CheckReport()
    try:
        fetched = prefetch(rt, allow_http=env.is_development, saml_config=saml_config)
        candidate = _apply(rt, env, connection, {"saml_config": saml_config}, fetched, commit=False)
    except ApiError as exc:
        report.problems.extend(_violations(exc))
        return report
    config = candidate.saml_config
    report.facts = [
        ("IdP entity ID", str(config.get("idp_entity_id") or "(none)")),
        ("Single sign-on URL", str(config.get("idp_sso_url") or "(none)")),
        ("Request binding", str(config.get("idp_sso_request_binding") or "HTTP_REDIRECT")),
    ]
    if config.get("idp_metadata_valid_until"):
        report.facts.append(("Metadata valid until", str(config["idp_metadata_valid_until"])))
    now = rt.clock.now()
    report.certificates = [certificate_report(pem, now) for pem in config.get("idp_certificates") or []]
    if not report.certificates:
        report.problems.append("no signing certificate: Entryway cannot check the IdP's signatures without one")
    elif not any(c.usable for c in report.certificates):
        report.problems.append("no signing certificate is usable (see each certificate below)")
    else:
        for c in report.certificates:
            if not c.usable:
                report.warnings.append(f"the certificate {c.fingerprint[:16]}… is not usable; the others are")
    missing = connections.missing_for_enable(candidate)
    if missing:
        needed = ", ".join(_LABELS.get(name, name) for name in missing)
        report.warnings.append("still needed before the connection can be turned on: " + needed)
    if report.ok and commit:
        try:
            report.saved = _apply(rt, env, connection, {"saml_config": saml_config}, fetched, commit=True)
        except ApiError as exc:
            report.problems.extend(_violations(exc))
    return report


def _provider_facts(found: ProviderConfig) -> list[tuple[str, str]]:
    facts = [
        ("Issuer", found.issuer),
        ("Authorization endpoint", found.authorization_endpoint),
        ("Token endpoint", found.token_endpoint),
        ("Keys (JWKS)", found.jwks_uri),
    ]
    if found.userinfo_endpoint:
        facts.append(("Userinfo endpoint", found.userinfo_endpoint))
    if found.signing_algs:
        facts.append(("ID token algorithms", ", ".join(found.signing_algs)))
    return facts


def check_oidc(
    rt: Runtime, env: Environment, connection: SsoConnection, oidc_config: dict[str, Any], *, commit: bool
) -> CheckReport:
    """The IdP is read (discovery document and keys) by connection_checks, as the API's PATCH reads it."""
    report = CheckReport()
    changes = {"oidc_config": oidc_config}
    try:
        found = connection_checks.check_before_update(
            rt, env, connection.id, changes, org_id=connection.organization_id
        )
        candidate = _apply(rt, env, connection, changes, None, commit=False, provider_check=found)
    except ApiError as exc:
        report.problems.extend(_violations(exc))
        return report
    if found is not None:
        report.facts = _provider_facts(found.provider)
        report.facts.append(("Signing keys published", str(found.signing_keys)))
    missing = connections.missing_for_enable(candidate)
    if missing:
        needed = ", ".join(_LABELS.get(name, name) for name in missing)
        report.warnings.append("still needed before the connection can be turned on: " + needed)
    if report.ok and commit:
        try:
            report.saved = _apply(rt, env, connection, changes, None, commit=True, provider_check=found)
        except ApiError as exc:
            report.problems.extend(_violations(exc))
    return report


def check(
    rt: Runtime, env: Environment, connection: SsoConnection, config: dict[str, Any], *, commit: bool
) -> CheckReport:
    if connection.type is ConnectionType.OIDC:
        return check_oidc(rt, env, connection, config, commit=commit)
    return check_saml(rt, env, connection, config, commit=commit)
