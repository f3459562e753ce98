"""Run every checklist rule against one environment."""

from __future__ import annotations

from dataclasses import dataclass

from entryway.checklist import (
    credentials_rules,
    domain_rules,
    experience_rules,
    operations_rules,
    redirect_rules,
)
from entryway.checklist.findings import AppEnv, Finding, Inputs, Rule, Status
from entryway.runtime import Runtime
from entryway.services.environments import Environment

# In the order a developer would work through them.
RULES: tuple[Rule, ...] = (
    credentials_rules.environment_type,
    credentials_rules.app_credentials,
    credentials_rules.client_secrets_rule,
    redirect_rules.redirect_uris,
    redirect_rules.initiate_login_url,
    experience_rules.branding,
    experience_rules.failure_webhooks,
    domain_rules.custom_domain,
    operations_rules.https_url,
    operations_rules.database,
    operations_rules.master_key,
    operations_rules.signing_keys_rule,
    operations_rules.idp_certificates,
)


@dataclass(frozen=True)
class Report:
    environment_id: str
    findings: list[Finding]

    @property
    def status(self) -> Status:
        statuses = {f.status for f in self.findings}
        return Status.FAIL if Status.FAIL in statuses else Status.WARN if Status.WARN in statuses else Status.PASS

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.status is s) for s in Status}

    def to_dict(self) -> dict[str, object]:
        return {
            "environment_id": self.environment_id,
            "status": self.status.value,
            "counts": self.counts(),
            "checks": [f.to_dict() for f in self.findings],
        }


def evaluate(
    rt: Runtime, env: Environment, *, app_env: AppEnv | None = None, caller_client_id: str | None = None
) -> Report:
    with rt.engine.connect() as conn:
        inputs = Inputs(rt, conn, env, rt.clock.now(), app_env=app_env, caller_client_id=caller_client_id)
        return Report(env.id, [rule(inputs) for rule in RULES])
