"""Organizations, their domains and their SSO connections."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from entryway.connectors.saml.metadata_import import prefetch
from entryway.dashboard.forms import ALREADY_SUBMITTED, SUBMISSION_FIELD, claim
from entryway.dashboard.messages import refusal_text
from entryway.dashboard.session import Owner, signed_in
from entryway.dashboard.templates import owner_page
from entryway.model.connections import ConnectionType, DomainType, Provider
from entryway.model.errors import ApiError
from entryway.runtime import Runtime
from entryway.services import connection_checks, connections, domains, organizations
from entryway.web.requests import runtime
from entryway.web.sessions import audit

router = APIRouter()
PAGE = 50


def _list(
    rt: Runtime,
    owner: Owner,
    *,
    after: str | None = None,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    typed: str = "",
) -> Response:
    env_id = owner.live.env.id
    with rt.engine.connect() as conn:
        found = organizations.list_organizations(conn, env_id, after_id=after, limit=PAGE + 1)
        total = organizations.count_organizations(conn, env_id)
    more = len(found) > PAGE
    shown = found[:PAGE]
    return owner_page(
        owner,
        "dashboard/organizations.html",
        "organizations",
        {"orgs": shown, "total": total, "next_after": shown[-1].id if more else None, "typed": typed},
        status=status,
        notice=notice,
        error=error,
    )


@router.get("/dashboard/organizations")
def organizations_page(
    request: Request, after: str | None = None, done: str | None = None, owner: Owner = Depends(signed_in)
) -> Response:
    return _list(runtime(request), owner, after=after, notice=done)


@router.post("/dashboard/organizations")
async def create(request: Request, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    name = str(form.get("display_name") or "").strip()
    if not name:
        return _list(rt, owner, status=400, error="Enter the organization's name.")
    env_id = owner.live.env.id
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env_id, str(form.get(SUBMISSION_FIELD) or "")):
                return _list(rt, owner, status=409, error=ALREADY_SUBMITTED)
            org = organizations.create_organization(rt, conn, env_id, display_name=name)
            audit(rt, conn, owner.live.session, "organization.created", target=org.id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        return _list(rt, owner, status=exc.status, error=refusal_text(exc), typed=name)
    return RedirectResponse(f"/dashboard/organizations/{org.id}?done=org_created", status_code=303)


def _detail(
    rt: Runtime,
    owner: Owner,
    org_id: str,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    **extra: Any,
) -> Response:
    env = owner.live.env
    with rt.engine.connect() as conn:
        org = organizations.find_organization(conn, env.id, org_id)
        if org is None:
            return _list(rt, owner, status=404, error="That organization does not exist (it may have been deleted).")
        org_domains = domains.list_domains(conn, env.id, org_id)
        org_connections = connections.list_connections(conn, env.id, organization_id=org_id)
    records = {d.id: domains.verification_record(d) for d in org_domains}
    # The values stored on the connection: they were fixed at creation (an import, or before a custom domain).
    sp = {
        c.id: {
            **connections.sp_urls(env.base_url or env.url, c.id),
            **{k: v for k, v in (c.saml_config or {}).items() if k in ("sp_entity_id", "sp_assertion_url")},
            "metadata": connections.sp_metadata_url(env.url, c.id, (c.saml_config or {}).get("sp_assertion_url")),
            "redirect_uri": (c.oidc_config or {}).get("redirect_uri")
            or f"{env.base_url or env.url}/sso/v1/oidc/{c.id}/callback",
        }
        for c in org_connections
    }
    missing = {c.id: connections.missing_for_enable(c) for c in org_connections}
    return owner_page(
        owner,
        "dashboard/organization.html",
        "organizations",
        {
            "org": org,
            "domains": org_domains,
            "records": records,
            "connections": org_connections,
            "sp": sp,
            "missing": missing,
            "providers": [p.value for p in Provider if p is not Provider.IDP_SIMULATOR or env.is_development],
            "domain_types": [t.value for t in DomainType],
            **extra,
        },
        status=status,
        notice=notice,
        error=error,
    )


@router.get("/dashboard/organizations/{org_id}")
def organization_page(
    request: Request, org_id: str, done: str | None = None, owner: Owner = Depends(signed_in)
) -> Response:
    return _detail(runtime(request), owner, org_id, notice=done)


def _back(org_id: str, done: str) -> Response:
    return RedirectResponse(f"/dashboard/organizations/{org_id}?done={done}", status_code=303)


@router.post("/dashboard/organizations/{org_id}/delete")
async def delete(request: Request, org_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    try:
        with rt.engine.begin() as conn:
            organizations.delete_organization(conn, owner.live.env.id, org_id)
            audit(rt, conn, owner.live.session, "organization.deleted", target=org_id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        if exc.status == 404:
            return _list(rt, owner, status=404, error="That organization was already deleted.")
        return _detail(rt, owner, org_id, status=exc.status, error=refusal_text(exc))
    return RedirectResponse("/dashboard/organizations?done=org_deleted", status_code=303)


@router.post("/dashboard/organizations/{org_id}/domains")
async def add_domain(request: Request, org_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    name = str(form.get("domain") or "").strip()
    kind = str(form.get("domain_type") or DomainType.ORGANIZATION_DOMAIN.value)
    if not name:
        return _detail(rt, owner, org_id, status=400, error="Enter the domain (acme.com).")
    env_id = owner.live.env.id
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env_id, str(form.get(SUBMISSION_FIELD) or "")):
                return _detail(rt, owner, org_id, status=409, error=ALREADY_SUBMITTED)
            made = domains.create_domain(rt, conn, env_id, org_id, domain=name, domain_type=kind)
            audit(rt, conn, owner.live.session, "domain.created", target=made.id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        return _detail(rt, owner, org_id, status=exc.status, error=refusal_text(exc), typed_domain=name)
    return _back(org_id, "domain_added")


@router.post("/dashboard/organizations/{org_id}/domains/{domain_id}")
async def change_domain(request: Request, org_id: str, domain_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    action = str(form.get("action") or "")
    env_id = owner.live.env.id
    try:
        if action == "verify":
            found, _ = await run_in_threadpool(domains.verify_domain, rt, env_id, org_id, domain_id)
            return _back(
                org_id, "domain_verified" if found.verification_status == "VERIFIED" else "domain_not_verified"
            )
        if action == "delete":
            with rt.engine.begin() as conn:
                domains.delete_domain(conn, env_id, org_id, domain_id)
                audit(rt, conn, owner.live.session, "domain.deleted", target=domain_id, client_ip=owner.live.client_ip)
            return _back(org_id, "domain_deleted")
    except ApiError as exc:
        if exc.status == 404:
            return _detail(rt, owner, org_id, status=404, error="That domain no longer exists (deleted already?).")
        return _detail(rt, owner, org_id, status=exc.status, error=refusal_text(exc))
    return _detail(rt, owner, org_id, status=400, error="Choose verify or delete.")


@router.post("/dashboard/organizations/{org_id}/connections")
async def create_connection(request: Request, org_id: str, owner: Owner = Depends(signed_in)) -> Response:
    rt = runtime(request)
    form = await request.form()
    kind = str(form.get("type") or "")
    provider = str(form.get("provider") or "")
    if kind not in {t.value for t in ConnectionType} or provider not in {p.value for p in Provider}:
        return _detail(
            rt, owner, org_id, status=400, error="Choose the protocol (SAML or OIDC) and the identity provider."
        )
    env = owner.live.env
    try:
        with rt.engine.begin() as conn:
            if not claim(rt, conn, env.id, str(form.get(SUBMISSION_FIELD) or "")):
                return _detail(rt, owner, org_id, status=409, error=ALREADY_SUBMITTED)
            made = connections.create_connection(rt, conn, env, org_id, type=kind, provider=provider)
            audit(rt, conn, owner.live.session, "connection.created", target=made.id, client_ip=owner.live.client_ip)
    except ApiError as exc:
        return _detail(rt, owner, org_id, status=exc.status, error=refusal_text(exc))
    return _back(org_id, "connection_created")


def _config_changes(connection: connections.SsoConnection, form: FormData) -> dict[str, Any]:
    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    if connection.type is ConnectionType.SAML:
        saml: dict[str, Any] = {}
        if text("idp_metadata_url"):
            saml["idp_metadata_url"] = text("idp_metadata_url")
        elif text("idp_metadata_xml"):
            saml["idp_metadata_xml"] = text("idp_metadata_xml")
        else:
            for name in ("idp_entity_id", "idp_sso_url"):
                if text(name):
                    saml[name] = text(name)
            if text("idp_certificate"):
                saml["idp_certificates"] = [text("idp_certificate")]
        return {"saml_config": saml} if saml else {}
    oidc = {name: text(name) for name in ("issuer", "client_id", "client_secret") if text(name)}
    return {"oidc_config": oidc} if oidc else {}


@router.post("/dashboard/organizations/{org_id}/connections/{connection_id}")
async def change_connection(
    request: Request, org_id: str, connection_id: str, owner: Owner = Depends(signed_in)
) -> Response:
    rt = runtime(request)
    form = await request.form()
    action = str(form.get("action") or "")
    env = owner.live.env
    try:
        if action in ("enable", "disable"):
            checked = None
            if action == "enable":
                checked = await run_in_threadpool(
                    connection_checks.check_before_enable, rt, env, connection_id, org_id=org_id
                )
            with rt.engine.begin() as conn:
                connections.set_enabled(
                    rt, conn, env, connection_id, action == "enable", org_id=org_id, provider_check=checked
                )
                audit(
                    rt,
                    conn,
                    owner.live.session,
                    f"connection.{action}d",
                    target=connection_id,
                    client_ip=owner.live.client_ip,
                )
            return _back(org_id, f"connection_{action}d")
        if action == "delete":
            with rt.engine.begin() as conn:
                connections.delete_connection(rt, conn, env.id, connection_id, org_id=org_id)
                audit(
                    rt,
                    conn,
                    owner.live.session,
                    "connection.deleted",
                    target=connection_id,
                    client_ip=owner.live.client_ip,
                )
            return _back(org_id, "connection_deleted")
        if action == "configure":
            with rt.engine.connect() as conn:
                current = connections.get_connection(conn, env.id, connection_id, org_id)
            changes = _config_changes(current, form)
            if not changes:
                return _detail(rt, owner, org_id, status=400, error="Fill in the IdP's details before saving.")
            # The IdP is read before the transaction, as the API does: a slow one must not hold the database.
            fetched = await run_in_threadpool(
                prefetch, rt, allow_http=env.is_development, saml_config=changes.get("saml_config")
            )
            checked = await run_in_threadpool(
                connection_checks.check_before_update, rt, env, connection_id, changes, org_id=org_id
            )
            with rt.engine.begin() as conn:
                connections.update_connection(
                    rt,
                    conn,
                    env,
                    connection_id,
                    changes,
                    org_id=org_id,
                    fetched_metadata=fetched,
                    provider_check=checked,
                )
                audit(
                    rt,
                    conn,
                    owner.live.session,
                    "connection.configured",
                    target=connection_id,
                    detail={"fields": sorted(next(iter(changes.values())))},
                    client_ip=owner.live.client_ip,
                )
            return _back(org_id, "connection_configured")
    except ApiError as exc:
        if exc.status == 404:
            return _detail(rt, owner, org_id, status=404, error="That connection no longer exists (deleted already?).")
        return _detail(rt, owner, org_id, status=exc.status, error=refusal_text(exc))
    return _detail(rt, owner, org_id, status=400, error="Choose enable, disable, configure or delete.")
