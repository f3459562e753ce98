"""`entryway connections create|list|get|check|enable|disable|delete|refresh-metadata`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from entryway.api import representations as view
from entryway.api.transactions import writing
from entryway.cli.context import CliContext, emit_json
from entryway.cli.options import env_option, json_option
from entryway.cli.output import show, show_list
from entryway.connectors.saml.metadata_import import prefetch
from entryway.connectors.saml.metadata_refresh import refresh_metadata, refreshable
from entryway.model.connections import ConnectionType, Provider
from entryway.model.errors import ApiError
from entryway.services import connection_checks, connections, domains
from entryway.services.connections import SAML_BINDINGS

_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def certificates_from_files(paths: tuple[Path, ...]) -> list[str]:
    """Every certificate in the files: each PEM block, or the whole file when it is bare base64."""
    found: list[str] = []
    for path in paths:
        text = path.read_text()
        blocks = _PEM_BLOCK.findall(text)
        found.extend(blocks or [text])
    return found


def _saml_config(options: dict[str, Any]) -> dict[str, Any]:
    names = {
        "idp_entity_id": "idp_entity_id",
        "idp_sso_url": "idp_sso_url",
        "binding": "idp_sso_request_binding",
        "name_id_format": "idp_name_id_format",
        "want_request_signed": "want_request_signed",
        "assertion_encrypted": "assertion_encrypted",
        "force_authn": "force_authn",
        "allow_idp_initiated_login": "allow_idp_initiated_login",
        "sp_entity_id": "sp_entity_id",
        "sp_assertion_url": "sp_assertion_url",
        "metadata_url": "idp_metadata_url",
        "slo_url": "idp_slo_url",
        "slo_binding": "idp_slo_request_binding",
        "allow_sha1": "allow_sha1",
    }
    config = {field: options[opt] for opt, field in names.items() if options.get(opt) is not None}
    if options.get("metadata_file") is not None:
        config["idp_metadata_xml"] = options["metadata_file"].read_text(encoding="utf-8-sig")
    certs = certificates_from_files(options["cert_files"])
    if certs:
        config["idp_certificates"] = certs
    return config


def _oidc_config(options: dict[str, Any]) -> dict[str, Any]:
    names = (
        "issuer",
        "discovery_endpoint",
        "authorize_uri",
        "token_uri",
        "user_info_uri",
        "jwks_uri",
        "client_id",
        "client_secret",
    )
    return {name: options[f"oidc_{name}"] for name in names if options.get(f"oidc_{name}") is not None}


def _summary(item: dict[str, Any]) -> None:
    show(item, False, skip=("saml_config", "oidc_config", "attribute_mapping"))
    config = item.get("saml_config") or item.get("oidc_config") or {}
    for key, value in config.items():
        if key == "idp_certificates":
            for index, cert in enumerate(value):
                click.echo(
                    f"  certificate[{index}]  sha256 {cert['fingerprint_sha256']}  expires {cert['expire_time']}"
                )
        else:
            click.echo(f"  {key}  {value}")


@click.group("connections")
def connections_group() -> None:
    """SSO connections: how an organization's IdP is reached (SAML or OIDC)."""


@connections_group.command("create")
@click.option("--org", "org_id", required=True, metavar="ORG_ID", help="The organization.")
@click.option(
    "--type", "type_", type=click.Choice([t.value for t in ConnectionType]), default="SAML", show_default=True
)
@click.option("--provider", type=click.Choice([p.value for p in Provider]), default="CUSTOM", show_default=True)
@click.option("--idp-entity-id", default=None, help="SAML: the IdP's entity ID (Issuer).")
@click.option("--idp-sso-url", default=None, help="SAML: the IdP's single sign-on URL.")
@click.option(
    "--cert-file",
    "cert_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SAML: a file with the IdP's signing certificate(s), PEM or base64 (repeatable).",
)
@click.option(
    "--metadata-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="SAML: the IdP's metadata XML (fills entity ID, SSO URL, certificates, SLO URL).",
)
@click.option("--metadata-url", default=None, help="SAML: the IdP's metadata URL (fetched now and on refresh).")
@click.option("--slo-url", default=None, help="SAML: the IdP's single logout URL.")
@click.option(
    "--slo-binding", type=click.Choice(SAML_BINDINGS), default=None, help="SAML: how logout messages are sent."
)
@click.option("--allow-sha1/--no-allow-sha1", default=None, help="SAML: accept SHA-1 signatures (logged).")
@click.option("--binding", type=click.Choice(SAML_BINDINGS), default=None, help="SAML: how the request is sent.")
@click.option("--name-id-format", default=None, help="SAML: the NameID format to ask for.")
@click.option("--want-request-signed/--no-want-request-signed", default=None)
@click.option("--assertion-encrypted/--no-assertion-encrypted", default=None)
@click.option("--force-authn/--no-force-authn", default=None)
@click.option("--allow-idp-initiated-login/--no-allow-idp-initiated-login", default=None)
@click.option("--sp-entity-id", default=None, help="SAML import: keep the SP entity ID the IdP already knows.")
@click.option("--sp-assertion-url", default=None, help="SAML import: keep the ACS URL the IdP already knows.")
@click.option("--oidc-issuer", default=None, help="OIDC: the IdP's issuer (its discovery document is read now).")
@click.option("--oidc-discovery-endpoint", default=None, help="OIDC: the discovery URL, when not under the issuer.")
@click.option("--oidc-authorize-uri", default=None)
@click.option("--oidc-token-uri", default=None)
@click.option("--oidc-user-info-uri", default=None)
@click.option("--oidc-jwks-uri", default=None)
@click.option("--oidc-client-id", default=None)
@click.option("--oidc-client-secret", default=None, help="Stored encrypted; never shown again.")
@click.option("--enable", is_flag=True, help="Enable the connection once created.")
@env_option
@json_option
@click.pass_obj
def create(
    obj: CliContext,
    org_id: str,
    type_: str,
    provider: str,
    enable: bool,
    env_id: str | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Create a connection for an organization."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    saml = _saml_config(options)
    oidc = _oidc_config(options)
    fetched = prefetch(rt, allow_http=env.is_development, saml_config=saml) if type_ == "SAML" else None
    checked = connection_checks.check_before_create(rt, env, type_, oidc if type_ == "OIDC" else None)
    with writing(rt) as conn:
        created = connections.create_connection(
            rt,
            conn,
            env,
            org_id,
            type=type_,
            provider=provider,
            saml_config=saml if type_ == "SAML" or saml else None,
            oidc_config=oidc if type_ == "OIDC" or oidc else None,
            fetched_metadata=fetched,
            provider_check=checked,
        )
        if enable:
            created = connections.set_enabled(rt, conn, env, created.id, True, provider_check=checked)
    item = view.connection(created, env.url)
    if as_json:
        show(item, True)
    else:
        _summary(item)


@connections_group.command("list")
@click.option("--org", "org_id", default=None, metavar="ORG_ID", help="Only this organization's connections.")
@click.option("--domain", default=None, help="Only the connections of the organization with this domain.")
@env_option
@json_option
@click.pass_obj
def list_connections(
    obj: CliContext, org_id: str | None, domain: str | None, env_id: str | None, as_json: bool
) -> None:
    """List connections."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        found: list[Any] = []
        owner = domains.find_by_domain(conn, env.id, domain) if domain else None
        if domain is None or (owner is not None and org_id in (None, owner.organization_id)):
            found = connections.list_connections(
                conn, env.id, organization_id=owner.organization_id if owner else org_id
            )
    items = [view.connection(c, env.url) for c in found]
    show_list(
        items,
        as_json,
        "connections",
        ["id", "organization", "type", "provider", "enabled", "missing"],
        ["id", "organization_id", "type", "provider", "enabled", "missing_configuration"],
    )


@connections_group.command("get")
@click.argument("connection_id")
@env_option
@json_option
@click.pass_obj
def get(obj: CliContext, connection_id: str, env_id: str | None, as_json: bool) -> None:
    """Show CONNECTION_ID with its SP values (give these to the IdP admin)."""
    env = obj.environment(env_id)
    with obj.runtime().engine.connect() as conn:
        found = connections.get_connection(conn, env.id, connection_id)
    item = view.connection(found, env.url)
    if as_json:
        show(item, True)
    else:
        _summary(item)


@connections_group.command("check")
@click.argument("connection_id")
@env_option
@json_option
@click.pass_obj
def check(obj: CliContext, connection_id: str, env_id: str | None, as_json: bool) -> None:
    """Read the IdP of OIDC connection CONNECTION_ID now: its discovery document and signing keys."""
    env = obj.environment(env_id)
    click.echo(f"reading the IdP configuration of {connection_id}…", err=True)
    found = view.provider_check(connection_checks.check_stored(obj.runtime(), env, connection_id))
    if as_json:
        emit_json({"check": found})
        return
    for key, value in found.items():
        click.echo(f"  {key}  {value}")


def _switch(obj: CliContext, connection_id: str, enabled: bool, env_id: str | None, as_json: bool) -> None:
    env = obj.environment(env_id)
    rt = obj.runtime()
    checked = connection_checks.check_before_enable(rt, env, connection_id) if enabled else None
    with writing(rt) as conn:
        changed = connections.set_enabled(rt, conn, env, connection_id, enabled, provider_check=checked)
    if as_json:
        show(view.connection(changed, env.url), True)
    else:
        click.echo(f"connection {connection_id} is {'enabled' if changed.enabled else 'disabled'}")


@connections_group.command("enable")
@click.argument("connection_id")
@env_option
@json_option
@click.pass_obj
def enable(obj: CliContext, connection_id: str, env_id: str | None, as_json: bool) -> None:
    """Enable CONNECTION_ID (it must be completely configured)."""
    _switch(obj, connection_id, True, env_id, as_json)


@connections_group.command("disable")
@click.argument("connection_id")
@env_option
@json_option
@click.pass_obj
def disable(obj: CliContext, connection_id: str, env_id: str | None, as_json: bool) -> None:
    """Disable CONNECTION_ID."""
    _switch(obj, connection_id, False, env_id, as_json)


@connections_group.command("delete")
@click.argument("connection_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@env_option
@click.pass_obj
def delete(obj: CliContext, connection_id: str, yes: bool, env_id: str | None) -> None:
    """Delete CONNECTION_ID."""
    env = obj.environment(env_id)
    if not yes:
        click.confirm(f"Delete connection {connection_id}?", abort=True)
    rt = obj.runtime()
    with writing(rt) as conn:
        connections.delete_connection(rt, conn, env.id, connection_id)
    click.echo(f"deleted connection {connection_id}")


@connections_group.command("refresh-metadata")
@click.argument("connection_ids", nargs=-1, metavar="[CONNECTION_ID]...")
@click.option("--all", "every", is_flag=True, help="Every SAML connection with a metadata URL (for a cron job).")
@env_option
@json_option
@click.pass_obj
def refresh(obj: CliContext, connection_ids: tuple[str, ...], every: bool, env_id: str | None, as_json: bool) -> None:
    """Fetch the IdP metadata of CONNECTION_ID again and apply it, recording what changed."""
    env = obj.environment(env_id)
    rt = obj.runtime()
    targets = list(connection_ids) + (refreshable(rt, env) if every else [])
    if not targets:
        raise click.UsageError("name a connection, or give --all")
    failed = 0
    results = []
    for connection_id in dict.fromkeys(targets):
        try:
            changed = refresh_metadata(rt, env, connection_id)
        except ApiError as exc:
            failed += 1
            problems = "; ".join(f"{v.field}: {v.description}" for v in exc.violations) or exc.message
            click.echo(f"{connection_id}: not refreshed: {problems}", err=True)
            continue
        last = (changed.saml_config.get("idp_metadata_changes") or [{}])[-1]
        results.append({"connection_id": connection_id, **last})
        if not as_json:
            fields = ", ".join(last.get("changed_fields") or []) or "nothing"
            click.echo(
                f"{connection_id}: changed {fields}; certificates added {len(last.get('certificates_added') or [])}, "
                f"removed {len(last.get('certificates_removed') or [])}"
            )
    if as_json:
        emit_json({"refreshed": results})
    if failed:
        raise click.ClickException(f"{failed} connection(s) could not be refreshed")
