"""deploy/prometheus/entryway-alerts.yml, checked with the real Prometheus tools (Debian's prometheus package:
`make observability-deps`): promtool accepts the file and passes its unit tests (alert_rules_test.yml), where
every alert fires in one case and stays quiet in another; every metric and label the rules read is one a real
Entryway exposes after a login; and a real Prometheus scraping a real Entryway evaluates every rule without error,
reading the periodic job from `exported_job` as the rules do.

Without the tools these tests fail rather than skip: a skipped check would let a broken rule file ship unseen."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from entryway.jobs.catalog import all_jobs
from entryway.jobs.scheduler import Scheduler
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed, seed_development
from tests.docs.test_links import anchors
from tests.support.server import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "entryway-alerts.yml"
UNIT_TESTS = Path(__file__).with_name("alert_rules_test.yml")
OPERATIONS = ROOT / "docs" / "operations.md"
CALLBACK = "http://127.0.0.1:9/callback"
SCRAPE_JOB = "entryway"  # the scrape job entryway:up selects in the shipped file

_METRIC = re.compile(r"\b(entryway_[a-z0-9_]+)(?:\{([^}]*)\})?")
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"')


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"{name} is missing: run `make observability-deps` as root, or `apt-get install --no-install-recommends "
            "prometheus` (Debian's package gives /usr/bin/promtool and /usr/bin/prometheus; no service need run)",
            pytrace=False,
        )
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


def rules() -> list[dict[str, Any]]:
    [group] = yaml.safe_load(RULES.read_text())["groups"]
    assert group["name"] == "entryway"
    return list(group["rules"])


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def job_table() -> set[str]:
    """The periodic jobs the rule file watches (entryway:scheduled_job_stale_after_seconds)."""
    table = [rule for rule in rules() if rule.get("record") == "entryway:scheduled_job_stale_after_seconds"]
    return {rule["labels"]["exported_job"] for rule in table}


def selectors() -> dict[str, set[str]]:
    """Each entryway_ metric the rules' expressions read, with the label names their selectors match on."""
    found: dict[str, set[str]] = {}
    for rule in rules():
        for name, matchers in _METRIC.findall(rule["expr"]):
            found.setdefault(name, set()).update(_MATCHER.findall(matchers))
    return found


# --- promtool ---------------------------------------------------------------------------------------------------


def test_promtool_accepts_the_rule_file() -> None:
    checked = run(tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", str(RULES))
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr


def test_the_rules_pass_their_promtool_unit_tests() -> None:
    tested = run(tool("promtool"), "test", "rules", str(UNIT_TESTS))
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def test_every_alert_fires_in_one_case_and_stays_quiet_in_another() -> None:
    cases = [case for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for alert in alerts():
        name = alert["alert"]
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in mine), f"{name}: no unit test where it fires"
        assert any(not case["exp_alerts"] for case in mine), f"{name}: no unit test where it must stay quiet"


def test_every_alert_says_how_grave_it_is_and_links_its_runbook() -> None:
    documented = anchors(OPERATIONS)
    for alert in alerts():
        name = alert["alert"]
        assert alert.get("for"), f"{name}: no `for:`, so one bad evaluation pages"
        assert alert["labels"]["severity"] in ("warning", "critical"), name
        notes = alert["annotations"]
        assert notes["summary"] and notes["description"], name
        # The figure that fired it, but for absent(), whose value is always 1.
        assert "$value" in notes["description"] or alert["expr"].startswith("absent("), f"{name}: no $value"
        page, _, anchor = notes["runbook_url"].partition("#")
        assert page == "docs/operations.md" and anchor == name.lower(), notes["runbook_url"]
        assert anchor in documented, f"{name}: docs/operations.md has no section #{anchor}"


# --- against a real Entryway ------------------------------------------------------------------------------------


@dataclass
class Serving:
    base: str
    metrics: str  # the /metrics text after the login


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def sign_in(http: httpx.Client, seed: DevSeed) -> None:
    """One SP-initiated login through the IdP simulator, then one token request with a wrong secret: the login
    steps' latency series, and login events of each outcome the rules read."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = http.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": seed.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": "jane@example.com",
        },
    )
    assert authorize.status_code == 302, authorize.text
    sso = _query(authorize.headers["location"])
    answer = http.post(
        f"/sso/v1/simulator/{seed.connection_id}/login",
        data={"SAMLRequest": sso["SAMLRequest"], "RelayState": sso["RelayState"], "email": "jane@example.com"}
        | {"first_name": "Jane", "last_name": "Doe", "outcome": "login"},
        headers={"accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    acs = http.post(answer.json()["acs_url"], data={k: answer.json()[k] for k in ("SAMLResponse", "RelayState")})
    assert acs.status_code == 302 and acs.headers["location"].startswith(CALLBACK), acs.text
    form = {"grant_type": "authorization_code", "code": _query(acs.headers["location"])["code"]}
    form |= {"redirect_uri": CALLBACK, "client_id": seed.client_id, "code_verifier": verifier}
    assert http.post("/oauth/token", data=form | {"client_secret": seed.plain_secret}).status_code == 200
    assert http.post("/oauth/token", data=form | {"client_secret": "ews_wrong"}).status_code == 401


@pytest.fixture
def serving(rt: Runtime) -> Iterator[Serving]:
    port = free_port()
    seed = seed_development(rt, f"http://127.0.0.1:{port}", CALLBACK)
    # One scheduler pass, as at a server's start: each periodic job gets its row (a fresh database's first run
    # waits its first delay), so the job gauges are exposed, each job "never run" (0).
    assert Scheduler(rt, all_jobs(rt)).run_pending() == []
    with running_server(rt, port) as base, httpx.Client(base_url=base, timeout=10) as http:
        sign_in(http, seed)
        yield Serving(base, http.get("/metrics").text)


def test_every_metric_and_label_the_rules_read_is_exposed(serving: Serving) -> None:
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(serving.metrics):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    read = selectors()
    assert "entryway_request_duration_seconds_bucket" in read and "entryway_login_events_total" in read  # found
    for name, matched in sorted(read.items()):
        assert name in labels, f"the rules read {name}, which /metrics does not expose: {sorted(labels)}"
        assert matched <= labels[name], f"{name}: the rules match on {matched}, /metrics has {labels[name]}"


def test_the_rules_watch_every_periodic_job_entryway_runs(rt: Runtime) -> None:
    assert job_table() == {job.name for job in all_jobs(rt)}


def test_a_real_prometheus_scraping_entryway_evaluates_every_rule(serving: Serving, tmp_path: Path) -> None:
    prometheus, port = tool("prometheus"), free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": SCRAPE_JOB, "static_configs": [{"targets": [urlsplit(serving.base).netloc]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            prometheus,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=5)
    # A fresh database: every periodic job waits its first run, so its NeverRan alert is pending (for 1h), and no
    # other alert may be pending or firing: the stale-job alert must take the 0 ("never") for no success.
    wanted = {("EntrywayScheduledJobNeverRan", job) for job in job_table()}
    seen: tuple[set[tuple[str, str]], list[str]] = (set(), [])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = _evaluated(api)
            if seen[0] == wanted and not seen[1] and _scraped_up(api):
                break
            assert process.poll() is None, (tmp_path / "prometheus.log").read_text()
            time.sleep(0.5)
        active, unhealthy = seen
        assert not unhealthy, unhealthy
        assert active == wanted and _scraped_up(api), (active, (tmp_path / "prometheus.log").read_text()[-3000:])
        # The scrape job is `job`; the periodic job's own label is stored as `exported_job`, as the rules read it.
        series = _api(api, "/query", query="entryway_scheduled_job_last_run_timestamp_seconds")["result"]
        found = {(s["metric"]["job"], s["metric"].get("exported_job")) for s in series}
        assert found == {(SCRAPE_JOB, job) for job in job_table()}, found
    finally:
        api.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _api(api: httpx.Client, path: str, **params: str) -> Any:
    """The `data` of an API answer, or None while Prometheus starts (not listening, or 503 until it is ready)."""
    try:
        response = api.get(path, params=params)
    except httpx.TransportError:
        return None
    return response.json()["data"] if response.status_code == 200 else None


def _scraped_up(api: httpx.Client) -> bool:
    data = _api(api, "/query", query="entryway:up")
    return data is not None and [r["value"][1] for r in data["result"]] == ["1"]


def _evaluated(api: httpx.Client) -> tuple[set[tuple[str, str]], list[str]]:
    """(alert name and periodic job of each pending or firing alert, the rules not evaluated or in error)."""
    data = _api(api, "/rules")
    if data is None:
        return set(), ["prometheus is not answering yet"]
    groups = data["groups"]
    active: set[tuple[str, str]] = set()
    unhealthy: list[str] = []
    for group in groups:
        for rule in group["rules"]:
            if rule["health"] != "ok":
                unhealthy.append(f"{rule['name']}: {rule['health']} {rule.get('lastError', '')}")
            for alert in rule.get("alerts", []):
                active.add((rule["name"], alert["labels"].get("exported_job", "")))
    return active, unhealthy
