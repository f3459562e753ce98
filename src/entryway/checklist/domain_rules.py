"""Checklist rule on the custom domain: the environment served on the app's own name, verified in DNS, and the
issuer (discovery, tokens), the portal links and the app's .env all on it (docs/custom-domains.md)."""

from __future__ import annotations

from sqlalchemy import select

from entryway.checklist.findings import Finding, Inputs, failed, passed, warned
from entryway.oidc_provider.discovery import provider_metadata
from entryway.services.custom_domains import check_cname, cname_target, env_file_changes
from entryway.services.environments import app_client_id, environment_for_host
from entryway.services.portal_links import link_base
from entryway.store.tables import environments

RULE = "custom_domain"
TITLE = "Custom domain and issuer"
DOCS = "docs/custom-domains.md"


def custom_domain(i: Inputs) -> Finding:
    env = i.env
    if env.is_development:
        return warned(
            RULE,
            TITLE,
            f"{env.id} is a development environment: it keeps its own URL ({env.base_url or env.url}); custom "
            "domains are for production environments",
            "Create a production environment, then give it a custom domain (" + DOCS + ")",
        )
    if not env.custom_domain:
        return warned(
            RULE,
            TITLE,
            f"no custom domain: users, IT admins in the portal and the app's issuer all see {env.base_url}",
            f"Set one (`entryway custom-domain set sso.example.com --env {env.id}`), publish the CNAME record it "
            f"names, then `entryway custom-domain verify --env {env.id}` ({DOCS})",
        )
    domain = env.custom_domain
    target = cname_target(i.rt.settings, env)
    wanted = f"{domain} CNAME {target}"
    verify = f"`entryway custom-domain verify --env {env.id}` (or PATCH /api/v1/environment/custom-domain:verify)"
    if not env.custom_domain_verified:
        check = check_cname(i.rt.settings, domain, target)
        if check.verified:
            return failed(
                RULE,
                TITLE,
                f"{domain} is not verified yet, so Entryway does not serve it — though DNS now answers "
                f"correctly ({check.message})",
                f"Run {verify}",
            )
        found = ", ".join(check.found_values) or "nothing"
        return failed(
            RULE,
            TITLE,
            f"{domain} is set but not verified: wanted the DNS record {wanted}, found {found} ({check.message})",
            f"Publish the record {wanted} at your DNS host, then run {verify}",
        )
    problems, fixes = _issuer_problems(i, domain)
    if problems:
        return failed(RULE, TITLE, "; ".join(problems), "; ".join(dict.fromkeys(fixes)))
    seen = " and the app's .env uses it" if i.app_env is not None else ""
    return passed(
        RULE,
        TITLE,
        f"{domain} is verified; discovery and tokens reached there name the issuer {env.custom_url}, portal links "
        f"are made on it{seen}",
    )


def _issuer_problems(i: Inputs, domain: str) -> tuple[list[str], list[str]]:
    """What the server publishes on the verified domain, and what the app uses, compared with the domain's URL."""
    env = i.env
    custom = f"https://{domain}"
    problems: list[str] = []
    fixes: list[str] = []
    # Another environment whose own URL is this name: requests for it may reach that one, with its own keys.
    rivals = [
        r.id
        for r in i.conn.execute(
            select(environments.c.id).where(environments.c.host == domain, environments.c.id != env.id)
        )
    ]
    routed = environment_for_host(i.rt, domain)
    if rivals or routed is None or routed.id != env.id:
        problems.append(
            f"requests for {domain} are not certain to reach {env.id}: "
            + (f"environment(s) {', '.join(rivals)} are served on that name too" if rivals else "it routes nowhere")
        )
        fixes.append(f"Delete or move the other environment(s) off {domain}, or remove and re-verify the domain")
    else:
        # The discovery document's own code, given the environment as a request on the domain would see it.
        issuer = provider_metadata(routed)["issuer"]
        if issuer != custom:
            problems.append(f"discovery on {domain} publishes the issuer {issuer}, not {custom}")
            fixes.append(f"Remove the custom domain and verify it again ({DOCS})")
    base = link_base(env)
    if not base.startswith(custom + "/"):
        problems.append(f"portal links are made on {base}, not on {custom}")
        fixes.append(f"Remove the custom domain and verify it again ({DOCS})")
    app_url = _app_url(i)
    if app_url is not None and app_url != custom:
        changes = env_file_changes(env, previous_url=app_url)
        line = f"ENTRYWAY_ENV_URL={changes[0].value}" if changes else f"ENTRYWAY_ENV_URL={custom}"
        problems.append(
            f"the app still uses ENTRYWAY_ENV_URL={app_url}, so the tokens it gets name the issuer {app_url}, "
            f"not {custom}"
        )
        fixes.append(f"In the app's .env, change ENTRYWAY_ENV_URL={app_url} to {line}, then restart the app")
    return problems, fixes


def _app_url(i: Inputs) -> str | None:
    """The environment URL the app uses: its .env when given; else, when the app's own client asked (the API),
    the URL the request came in on."""
    if i.app_env is not None:
        return (i.app_env.env_url or "").rstrip("/") or "(unset)"
    if i.caller_client_id is not None and i.caller_client_id == app_client_id(i.conn, i.env.id):
        return i.env.url
    return None
