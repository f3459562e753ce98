"""What a checklist rule sees (Inputs) and what it says (Finding): pass, warn or fail, and how to fix it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from entryway.runtime import Runtime
from entryway.services.environments import Environment


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class AppEnv:
    """The three values from the app's .env (CONTRACT §1), when the check is given them."""

    env_url: str | None
    client_id: str | None
    client_secret: str | None


@dataclass(frozen=True)
class Finding:
    rule: str  # stable id, the anchor in docs/checklist.md
    title: str
    status: Status
    detail: str  # what was found
    fix: str | None = None  # what to do; None on a pass

    def to_dict(self) -> dict[str, str | None]:
        return {
            "rule": self.rule,
            "title": self.title,
            "status": self.status.value,
            "detail": self.detail,
            "fix": self.fix,
            "docs": f"docs/checklist.md#{self.rule.replace('_', '-')}",
        }


@dataclass
class Inputs:
    rt: Runtime
    conn: Connection
    env: Environment
    now: datetime
    app_env: AppEnv | None = None  # given by `entryway check --app-env FILE`
    caller_client_id: str | None = None  # the API client that asked (GET /environment/checklist)


Rule = Callable[[Inputs], Finding]


def passed(rule: str, title: str, detail: str) -> Finding:
    return Finding(rule, title, Status.PASS, detail)


def warned(rule: str, title: str, detail: str, fix: str) -> Finding:
    return Finding(rule, title, Status.WARN, detail, fix)


def failed(rule: str, title: str, detail: str, fix: str) -> Finding:
    return Finding(rule, title, Status.FAIL, detail, fix)
