"""Each production-checklist rule, with a fixture it passes and one it fails (or warns on)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from sqlalchemy import update

from entryway.checklist import credentials_rules, domain_rules, operations_rules, redirect_rules
from entryway.checklist.findings import AppEnv, Finding, Inputs, Rule, Status
from entryway.clock import FrozenClock
from entryway.keys import rotation
from entryway.model.environments import EnvironmentType, RedirectKind
from entryway.runtime import Runtime
from entryway.services import connections, credentials, custom_domains, environments, organizations
from entryway.services.bootstrap import seed_development
from entryway.services.environments import Environment
from entryway.store.tables import client_secrets, signing_keys
from entryway.store.tables import connections as connection_rows
from entryway.store.tables import environments as environment_rows
from tests.api.fake_dns import DnsServer, dns_server
from tests.support.saml_builder import shared_key

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CALLBACK = "https://app.acme.test/callback"


@dataclass
class Prod:
    env: Environment
    client_id: str
    secret: str
    dns: DnsServer


@pytest.fixture
def prod(rt: Runtime) -> Iterator[Prod]:
    """A production environment that passes every rule it can on its own: an https URL, one fresh secret in use,
    a resolvable https callback, an initiate-login URL."""
    rt.clock = FrozenClock(NOW)
    with dns_server() as server:
        server.a["app.acme.test"] = [["192.0.2.10"]]
        rt.settings = replace(rt.settings, dns_nameserver=server.address)
        with rt.engine.begin() as conn:
            env, client_id = environments.create_environment(
                rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://sso.acme.test", display_name="Prod"
            )
            client = credentials.environment_client(conn, env.id, client_id)
            secret, made = credentials.create_secret(rt, conn, client)
            conn.execute(update(client_secrets).where(client_secrets.c.id == made.id).values(last_used_time=NOW))
            environments.add_redirect_uri(rt, conn, env, RedirectKind.CALLBACK, CALLBACK)
            environments.set_initiate_login_uri(rt, conn, env, "https://app.acme.test/login")
        yield Prod(env, client_id, secret, server)


def run(rt: Runtime, env: Environment, rule: Rule, **extra: object) -> Finding:
    with rt.engine.connect() as conn:
        return rule(Inputs(rt, conn, env, rt.clock.now(), **extra))  # type: ignore[arg-type]


def later(rt: Runtime, days: int) -> None:
    rt.clock = FrozenClock(NOW + timedelta(days=days))


# --- environment type ---------------------------------------------------------------------------------


def test_environment_type(rt: Runtime, prod: Prod) -> None:
    assert run(rt, prod.env, credentials_rules.environment_type).status is Status.PASS
    dev = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback").environment
    finding = run(rt, dev, credentials_rules.environment_type)
    assert finding.status is Status.FAIL and "development" in finding.detail and finding.fix


# --- app credentials ----------------------------------------------------------------------------------


def test_app_env_that_matches_passes(rt: Runtime, prod: Prod) -> None:
    app = AppEnv("https://sso.acme.test/", prod.client_id, prod.secret)
    assert run(rt, prod.env, credentials_rules.app_credentials, app_env=app).status is Status.PASS


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"env_url": "http://localhost:8000"}, "ENTRYWAY_ENV_URL"),
        ({"client_id": "dev"}, "a client of env_"),
        ({"client_secret": "sec_wrong"}, "not an active"),
        ({"client_secret": None}, "not set"),
    ],
)
def test_app_env_that_does_not_match_fails(rt: Runtime, prod: Prod, change: dict[str, str], words: str) -> None:
    dev = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    values = {"env_url": prod.env.url, "client_id": prod.client_id, "client_secret": prod.secret}
    values.update({k: (dev.client_id if v == "dev" else v) for k, v in change.items()})
    finding = run(rt, prod.env, credentials_rules.app_credentials, app_env=AppEnv(**values))
    assert finding.status is Status.FAIL and words in finding.detail, finding.detail


def test_a_deactivated_secret_in_the_app_env_fails(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(client_secrets).values(status="INACTIVE"))
    app = AppEnv(prod.env.url, prod.client_id, prod.secret)
    assert run(rt, prod.env, credentials_rules.app_credentials, app_env=app).status is Status.FAIL


def test_app_credentials_by_the_caller_or_by_recent_use(rt: Runtime, prod: Prod) -> None:
    rule = credentials_rules.app_credentials
    assert run(rt, prod.env, rule, caller_client_id=prod.client_id).status is Status.PASS
    assert run(rt, prod.env, rule, caller_client_id="skc_api").status is Status.WARN
    assert run(rt, prod.env, rule).status is Status.PASS  # its secret was used just now
    later(rt, 31)
    assert run(rt, prod.env, rule).status is Status.WARN


# --- client secrets -----------------------------------------------------------------------------------


def test_a_fresh_secret_in_use_passes(rt: Runtime, prod: Prod) -> None:
    assert run(rt, prod.env, credentials_rules.client_secrets_rule).status is Status.PASS


def test_no_active_secret_fails(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(client_secrets).values(status="INACTIVE"))
    assert run(rt, prod.env, credentials_rules.client_secrets_rule).status is Status.FAIL


def test_a_secret_not_stored_as_a_digest_fails(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(client_secrets).values(secret_hash="sec_plaintext-value"))
    finding = run(rt, prod.env, credentials_rules.client_secrets_rule)
    assert finding.status is Status.FAIL and "digest" in finding.detail


@pytest.mark.parametrize(("days", "words"), [(366, "days old"), (400, "days old")])
def test_an_old_secret_warns(rt: Runtime, prod: Prod, days: int, words: str) -> None:
    later(rt, days)
    with rt.engine.begin() as conn:
        conn.execute(update(client_secrets).values(last_used_time=rt.clock.now()))
    finding = run(rt, prod.env, credentials_rules.client_secrets_rule)
    assert finding.status is Status.WARN and words in finding.detail


def test_an_unused_secret_and_an_unfinished_rotation_warn(rt: Runtime, prod: Prod) -> None:
    later(rt, 40)
    with rt.engine.begin() as conn:
        client = credentials.environment_client(conn, prod.env.id, prod.client_id)
        _, newer = credentials.create_secret(rt, conn, client)
        conn.execute(
            update(client_secrets).where(client_secrets.c.id == newer.id).values(last_used_time=rt.clock.now())
        )
    finding = run(rt, prod.env, credentials_rules.client_secrets_rule)
    assert finding.status is Status.WARN and "rotation is unfinished" in finding.detail


def test_an_expired_secret_still_listed_warns(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        client = credentials.environment_client(conn, prod.env.id, prod.client_id)
        _, soon = credentials.create_secret(rt, conn, client, expire_time=NOW + timedelta(days=1))
        conn.execute(update(client_secrets).where(client_secrets.c.id == soon.id).values(last_used_time=NOW))
    later(rt, 2)
    finding = run(rt, prod.env, credentials_rules.client_secrets_rule)
    assert finding.status is Status.WARN and "expired" in finding.detail


def _more_secrets(rt: Runtime, prod: Prod, count: int) -> list[str]:
    ids = []
    with rt.engine.begin() as conn:
        client = credentials.environment_client(conn, prod.env.id, prod.client_id)
        for _ in range(count):
            old = next(s for s in credentials.list_secrets(conn, prod.client_id) if s.status == "ACTIVE")
            credentials.set_secret_status(rt, conn, client, old.id, "INACTIVE")  # the limit stays the service's
            _, made = credentials.create_secret(rt, conn, client)
            conn.execute(update(client_secrets).where(client_secrets.c.id == made.id).values(last_used_time=NOW))
            ids.append(old.id)
    return ids


def test_deactivated_secrets_kept_beyond_the_rotation_pair_warn(rt: Runtime, prod: Prod) -> None:
    _more_secrets(rt, prod, 1)
    assert run(rt, prod.env, credentials_rules.client_secrets_rule).status is Status.PASS  # a pair: fine
    _more_secrets(rt, prod, 1)
    finding = run(rt, prod.env, credentials_rules.client_secrets_rule)
    assert finding.status is Status.WARN and "more than the rotation pair" in finding.detail, finding.detail


def test_more_active_secrets_than_the_rotation_pair_fail(rt: Runtime, prod: Prod) -> None:
    kept = _more_secrets(rt, prod, 2)
    with rt.engine.begin() as conn:  # past the service's limit, as only a hand-made change can be
        conn.execute(update(client_secrets).where(client_secrets.c.id.in_(kept)).values(status="ACTIVE"))
    finding = run(rt, prod.env, credentials_rules.client_secrets_rule)
    assert finding.status is Status.FAIL and "3 secrets are active" in finding.detail, finding.detail


# --- redirect URIs ------------------------------------------------------------------------------------


def test_valid_resolvable_redirects_pass(rt: Runtime, prod: Prod) -> None:
    prod.dns.a["app.acme.test"] = [["192.0.2.10"]]
    assert run(rt, prod.env, redirect_rules.redirect_uris).status is Status.PASS


def test_a_host_that_does_not_resolve_warns(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        environments.add_redirect_uri(rt, conn, prod.env, RedirectKind.CALLBACK, "https://typo.acme.test/cb")
    finding = run(rt, prod.env, redirect_rules.redirect_uris)
    assert finding.status is Status.WARN and "typo.acme.test" in finding.detail


def test_a_development_only_redirect_fails(rt: Runtime) -> None:
    dev = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback").environment
    finding = run(rt, dev, redirect_rules.redirect_uris)
    assert finding.status is Status.FAIL and "http://localhost:3000/callback" in finding.detail


def test_no_callback_fails(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        env, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://bare.acme.test", display_name="Bare"
        )
    assert run(rt, env, redirect_rules.redirect_uris).status is Status.FAIL


def test_initiate_login_url(rt: Runtime, prod: Prod) -> None:
    assert run(rt, prod.env, redirect_rules.initiate_login_url).status is Status.PASS
    with rt.engine.begin() as conn:
        env, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://bare.acme.test", display_name="Bare"
        )
    assert run(rt, env, redirect_rules.initiate_login_url).status is Status.WARN


# --- operations ---------------------------------------------------------------------------------------


def test_database(rt: Runtime, prod: Prod, backend: str) -> None:
    finding = run(rt, prod.env, operations_rules.database)
    assert finding.status is (Status.PASS if backend == "postgresql" else Status.FAIL)


def test_master_key(rt: Runtime, prod: Prod, tmp_path: Path) -> None:
    rt.settings = replace(rt.settings, master_key_file=None)
    assert run(rt, prod.env, operations_rules.master_key).status is Status.PASS
    rt.settings = replace(rt.settings, data_dir=tmp_path / "data", master_key_file=tmp_path / "data" / "master.key")
    assert run(rt, prod.env, operations_rules.master_key).status is Status.FAIL
    rt.settings = replace(rt.settings, master_key_file=tmp_path / "secrets" / "master.key")
    assert run(rt, prod.env, operations_rules.master_key).status is Status.PASS


def test_https_url(rt: Runtime, prod: Prod) -> None:
    assert run(rt, prod.env, operations_rules.https_url).status is Status.PASS
    dev = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback").environment
    assert run(rt, dev, operations_rules.https_url).status is Status.FAIL


def test_signing_key_age(rt: Runtime, prod: Prod) -> None:
    assert run(rt, prod.env, operations_rules.signing_keys_rule).status is Status.PASS
    later(rt, 200)
    assert run(rt, prod.env, operations_rules.signing_keys_rule).status is Status.WARN
    later(rt, 400)
    finding = run(rt, prod.env, operations_rules.signing_keys_rule)
    assert finding.status is Status.FAIL and "keys rotate" in (finding.fix or "")
    with rt.engine.begin() as conn:
        rotation.rotate(rt, conn, prod.env.id)
    assert run(rt, prod.env, operations_rules.signing_keys_rule).status is Status.PASS  # a rotation is under way


def test_no_signing_key_fails(rt: Runtime, prod: Prod) -> None:
    with rt.engine.begin() as conn:
        conn.execute(update(signing_keys).where(signing_keys.c.environment_id == prod.env.id).values(status="retired"))
    assert run(rt, prod.env, operations_rules.signing_keys_rule).status is Status.FAIL


def test_an_old_sp_key_warns_and_an_expired_sp_certificate_fails(rt: Runtime, prod: Prod) -> None:
    assert run(rt, prod.env, operations_rules.signing_keys_rule).status is Status.PASS
    with rt.engine.begin() as conn:  # the token key is fresh (rotated), the SP key two years old
        conn.execute(
            update(signing_keys)
            .where(signing_keys.c.environment_id == prod.env.id, signing_keys.c.purpose == "saml_sp")
            .values(create_time=NOW - timedelta(days=800), activate_time=None)
        )
    old = run(rt, prod.env, operations_rules.signing_keys_rule)
    assert old.status is Status.WARN and "SAML SP key" in old.detail and "saml_sp" in (old.fix or "")
    with rt.engine.begin() as conn:  # its certificate as it stands a day after it ran out
        conn.execute(
            update(signing_keys)
            .where(signing_keys.c.environment_id == prod.env.id, signing_keys.c.purpose == "saml_sp")
            .values(certificate_pem=_certificate(NOW - timedelta(days=1)))
        )
    gone = run(rt, prod.env, operations_rules.signing_keys_rule)
    assert gone.status is Status.FAIL and "SAML SP certificate" in gone.detail and "expired" in gone.detail


def _certificate(not_after: datetime) -> str:
    key = shared_key("idp")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme IdP")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=400))
        .not_valid_after(not_after)
        .sign(key.private_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _saml_connection(rt: Runtime, env: Environment, not_after: datetime) -> None:
    with rt.engine.begin() as conn:
        org = organizations.create_organization(rt, conn, env.id, display_name="Acme")
        made = connections.create_connection(
            rt,
            conn,
            env,
            org.id,
            type="SAML",
            provider="OKTA",
            saml_config={
                "idp_entity_id": "http://idp.acme.test",
                "idp_sso_url": "https://idp.acme.test/sso",
                "idp_certificates": [shared_key("idp").certificate_pem],
            },
        )
        connections.set_enabled(rt, conn, env, made.id, True)
        # The certificate as it stands later in its life (the service refuses an expired one on input).
        config = {**made.saml_config, "idp_certificates": [_certificate(not_after)]}
        conn.execute(update(connection_rows).where(connection_rows.c.id == made.id).values(saml_config=config))
    rt.caches.clear()


@pytest.mark.parametrize(("days_left", "status"), [(200, Status.PASS), (10, Status.WARN), (-1, Status.FAIL)])
def test_idp_certificates(rt: Runtime, prod: Prod, days_left: int, status: Status) -> None:
    _saml_connection(rt, prod.env, NOW + timedelta(days=days_left))
    finding = run(rt, prod.env, operations_rules.idp_certificates)
    assert finding.status is status, finding.detail


# --- branding and failure webhooks --------------------------------------------------------------------


def test_branding(rt: Runtime, prod: Prod) -> None:
    from entryway.checklist import experience_rules
    from entryway.store.tables import environment_branding

    first = run(rt, prod.env, experience_rules.branding)
    assert first.status is Status.WARN and "logo" in first.detail and "favicon" in first.detail
    with rt.engine.begin() as conn:
        conn.execute(
            environment_branding.insert().values(
                environment_id=prod.env.id,
                display_name="Acme",
                accent_color="#224488",
                logo_image_id="img_logo",
                favicon_image_id=None,
                update_time=NOW,
            )
        )
    half = run(rt, prod.env, experience_rules.branding)
    assert half.status is Status.WARN and "favicon" in half.detail and "logo" not in half.detail.split("—")[0]
    with rt.engine.begin() as conn:
        conn.execute(environment_branding.update().values(favicon_image_id="img_favicon"))
    assert run(rt, prod.env, experience_rules.branding).status is Status.PASS


def test_failure_webhooks(rt: Runtime, prod: Prod) -> None:
    from entryway.checklist import experience_rules
    from entryway.store.tables import webhook_endpoints

    assert run(rt, prod.env, experience_rules.failure_webhooks).status is Status.WARN

    def endpoint(wh_id: str, url: str, types: list[str], status: str) -> None:
        with rt.engine.begin() as conn:
            conn.execute(
                webhook_endpoints.insert().values(
                    id=wh_id,
                    environment_id=prod.env.id,
                    url=url,
                    event_types=types,
                    secret=b"sealed",
                    status=status,
                    disabled_reason="failing for 5 days" if status == "DISABLED" else None,
                    create_time=NOW,
                    update_time=NOW,
                )
            )

    endpoint("wh_1", "https://hooks.acme.test/orgs", ["organization.created"], "ENABLED")
    assert run(rt, prod.env, experience_rules.failure_webhooks).status is Status.WARN  # not the failure event
    endpoint("wh_2", "https://hooks.acme.test/fail", ["sso.login_failed"], "DISABLED")
    disabled = run(rt, prod.env, experience_rules.failure_webhooks)
    assert disabled.status is Status.WARN and "failing for 5 days" in disabled.detail
    endpoint("wh_3", "https://hooks.acme.test/all", ["sso.login_failed", "sso.login_succeeded"], "ENABLED")
    assert run(rt, prod.env, experience_rules.failure_webhooks).status is Status.PASS


# --- custom domain and issuer -------------------------------------------------------------------------

CUSTOM = "login.acme.test"
CUSTOM_URL = f"https://{CUSTOM}"


def _set_domain(rt: Runtime, prod: Prod) -> Environment:
    with rt.engine.begin() as conn:
        return custom_domains.set_custom_domain(rt, conn, prod.env, CUSTOM)


def _verified(rt: Runtime, prod: Prod) -> Environment:
    _set_domain(rt, prod)
    prod.dns.cname[CUSTOM] = "sso.acme.test"
    env, check = custom_domains.verify_custom_domain(rt, prod.env.id)
    assert check.verified, check.message
    return env


def test_custom_domain_on_a_development_environment_warns(rt: Runtime) -> None:
    dev = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback").environment
    finding = run(rt, dev, domain_rules.custom_domain)
    assert finding.status is Status.WARN and "development" in finding.detail


def test_no_custom_domain_warns_with_the_commands(rt: Runtime, prod: Prod) -> None:
    finding = run(rt, prod.env, domain_rules.custom_domain)
    assert finding.status is Status.WARN and "https://sso.acme.test" in finding.detail
    assert f"entryway custom-domain set sso.example.com --env {prod.env.id}" in (finding.fix or "")


def test_an_unpublished_custom_domain_fails_naming_the_record(rt: Runtime, prod: Prod) -> None:
    env = _set_domain(rt, prod)
    finding = run(rt, env, domain_rules.custom_domain)
    assert finding.status is Status.FAIL, finding.detail
    assert f"wanted the DNS record {CUSTOM} CNAME sso.acme.test, found nothing" in finding.detail
    assert f"Publish the record {CUSTOM} CNAME sso.acme.test" in (finding.fix or "")


def test_a_custom_domain_pointing_elsewhere_fails_saying_what_was_found(rt: Runtime, prod: Prod) -> None:
    env = _set_domain(rt, prod)
    prod.dns.cname[CUSTOM] = "old-provider.example.net"
    finding = run(rt, env, domain_rules.custom_domain)
    assert finding.status is Status.FAIL and "found old-provider.example.net" in finding.detail, finding.detail


def test_a_published_but_unverified_custom_domain_fails_until_verified(rt: Runtime, prod: Prod) -> None:
    env = _set_domain(rt, prod)
    prod.dns.cname[CUSTOM] = "sso.acme.test"
    finding = run(rt, env, domain_rules.custom_domain)
    assert finding.status is Status.FAIL and "not verified yet" in finding.detail
    assert "custom-domain verify" in (finding.fix or "")
    with rt.engine.connect() as conn:
        assert not environments.get_environment(conn, env.id).custom_domain_verified  # the check changes nothing


def test_a_verified_custom_domain_passes(rt: Runtime, prod: Prod) -> None:
    env = _verified(rt, prod)
    finding = run(rt, env, domain_rules.custom_domain)
    assert finding.status is Status.PASS, finding.detail
    assert f"issuer {CUSTOM_URL}" in finding.detail and "portal links" in finding.detail


def test_another_environment_served_on_the_custom_domain_fails(rt: Runtime, prod: Prod) -> None:
    env = _verified(rt, prod)
    with rt.engine.begin() as conn:
        # An environment created on that name before create_environment refused it.
        other, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url="https://other.acme.test", display_name="Other"
        )
        conn.execute(update(environment_rows).where(environment_rows.c.id == other.id).values(host=CUSTOM))
    rt.caches.clear()
    finding = run(rt, env, domain_rules.custom_domain)
    assert finding.status is Status.FAIL and other.id in finding.detail, finding.detail


def test_an_environment_cannot_be_created_on_another_ones_custom_domain(rt: Runtime, prod: Prod) -> None:
    from entryway.model.errors import ApiError

    _set_domain(rt, prod)
    with pytest.raises(ApiError) as refused, rt.engine.begin() as conn:
        environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url=CUSTOM_URL, display_name="Clash"
        )
    assert refused.value.status == 409


def test_the_app_env_on_the_old_url_fails_with_the_line_to_change(rt: Runtime, prod: Prod) -> None:
    env = _verified(rt, prod)
    old = AppEnv("https://sso.acme.test", prod.client_id, prod.secret)
    finding = run(rt, env, domain_rules.custom_domain, app_env=old)
    assert finding.status is Status.FAIL, finding.detail
    assert f"change ENTRYWAY_ENV_URL=https://sso.acme.test to ENTRYWAY_ENV_URL={CUSTOM_URL}" in (finding.fix or "")
    # Either URL is the environment's own: the credentials themselves are right.
    assert run(rt, env, credentials_rules.app_credentials, app_env=old).status is Status.PASS
    moved = AppEnv(CUSTOM_URL + "/", prod.client_id, prod.secret)
    assert run(rt, env, domain_rules.custom_domain, app_env=moved).status is Status.PASS
    assert run(rt, env, credentials_rules.app_credentials, app_env=moved).status is Status.PASS


def test_the_app_calling_on_the_old_url_fails(rt: Runtime, prod: Prod) -> None:
    """Through the API the environment is the one the request reached: the app's own URL."""
    _verified(rt, prod)
    on_old = environments.environment_for_host(rt, "sso.acme.test")
    on_custom = environments.environment_for_host(rt, CUSTOM)
    assert on_old is not None and on_custom is not None
    finding = run(rt, on_old, domain_rules.custom_domain, caller_client_id=prod.client_id)
    assert finding.status is Status.FAIL and "ENTRYWAY_ENV_URL=https://sso.acme.test" in finding.detail
    assert run(rt, on_custom, domain_rules.custom_domain, caller_client_id=prod.client_id).status is Status.PASS
    # Another API client's own URL says nothing about the app's.
    assert run(rt, on_old, domain_rules.custom_domain, caller_client_id="skc_api").status is Status.PASS
