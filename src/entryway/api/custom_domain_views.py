"""The JSON shape of an environment's custom domain, shared by the API and the CLI's --json output."""

from __future__ import annotations

from typing import Any

from entryway.config import Settings
from entryway.services.custom_domains import cname_target, env_file_changes
from entryway.services.domains import DnsCheck
from entryway.services.environments import Environment


def _instructions(env: Environment, changes: list[dict[str, str]]) -> str:
    if not env.custom_domain:
        base = "This environment is served at its own URL only."
        if changes:
            base += f" Set ENTRYWAY_ENV_URL={changes[0]['value']} in the app's .env and restart it."
        return base
    if not env.custom_domain_verified:
        return (
            "Publish the CNAME record below, make your TLS proxy serve the domain, then verify it "
            "(PATCH /api/v1/environment/custom-domain:verify). Nothing changes for the app until then."
        )
    return (
        f"Set ENTRYWAY_ENV_URL={env.public_url} in the app's .env and restart it; ENTRYWAY_CLIENT_ID and "
        f"ENTRYWAY_CLIENT_SECRET stay the same. Until then the app keeps working on {env.base_url}: both URLs "
        "serve this environment, and tokens are issued for the URL the app uses. Existing connections keep their "
        "SP entity ID, ACS URL and redirect URI, so no identity provider needs changing; new connections get "
        f"URLs on {env.custom_domain}."
    )


def custom_domain(settings: Settings, env: Environment, *, previous_url: str | None = None) -> dict[str, Any]:
    changes = [c.__dict__ for c in env_file_changes(env, previous_url=previous_url)]
    status = "NONE" if not env.custom_domain else ("VERIFIED" if env.custom_domain_verified else "PENDING")
    return {
        "domain": env.custom_domain,
        "status": status,
        "cname_record": (
            {"type": "CNAME", "name": env.custom_domain, "value": cname_target(settings, env)}
            if env.custom_domain
            else None
        ),
        "environment_url": env.public_url,
        "base_url": env.base_url,
        "env_file_changes": changes,
        "instructions": _instructions(env, changes),
    }


def dns_check(check: DnsCheck) -> dict[str, Any]:
    return {
        "record_name": check.record_name,
        "expected_value": check.expected_value,
        "found_values": check.found_values,
        "message": check.message,
    }
