"""`rotate-master` as a service: every sealed value ends up under a data key wrapped by the new master key, the
old master key is no longer needed, and a second or interrupted run is safe. Both backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Integer, LargeBinary, insert, select

from entryway.app import create_app
from entryway.clock import Clock
from entryway.events.endpoints import create_endpoint, signing_secrets
from entryway.keys.installation import OIDC_UPSTREAM_BINDING, installation_secret
from entryway.keys.master_rotation import rotate_master
from entryway.keys.sealed_fields import NOT_SEALED, SEALED_FIELDS, SealedField
from entryway.keys.sealing import data_key_of, master_key_id
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.services.environments import app_client_id, get_environment
from entryway.store.tables import (
    data_keys,
    idempotency_keys,
    installation_secrets,
    metadata,
    signing_keys,
    webhook_endpoints,
)
from tests.conftest import make_settings

OLD, NEW = os.urandom(32), os.urandom(32)


def runtime(engine: Engine, tmp: Path, current: bytes, *previous: bytes) -> Runtime:
    settings = make_settings(str(engine.url), tmp)
    settings = type(settings)(
        **{**settings.__dict__, "master_key": current, "previous_master_keys": previous, "allow_private_fetch": True}
    )
    return Runtime.build(settings, clock=Clock(), engine=engine)


def populate(rt: Runtime) -> dict[str, object]:
    seed = seed_development(rt, "http://localhost:8000", "http://localhost:3000/callback")
    with rt.engine.begin() as conn:
        env = get_environment(conn, seed.environment.id)
        _, webhook_secret = create_endpoint(
            rt, conn, env, url="http://localhost:9/hook", event_types=["organization.created"]
        )
    binding = installation_secret(rt, OIDC_UPSTREAM_BINDING)
    return {"env_id": seed.environment.id, "webhook_secret": webhook_secret, "binding": binding}


def assert_all_readable(rt: Runtime, facts: dict[str, object]) -> None:
    rt.keyring.invalidate()
    assert rt.keyring.active(str(facts["env_id"])).private_key.key_size == 2048
    rt.caches.clear()
    assert installation_secret(rt, OIDC_UPSTREAM_BINDING) == facts["binding"]
    with rt.engine.connect() as conn:
        from entryway.store.tables import webhook_endpoints

        row = conn.execute(select(webhook_endpoints.c.id, webhook_endpoints.c.secret)).one()
    assert signing_secrets(rt, row.id, row.secret, None, None, rt.clock.now()) == [facts["webhook_secret"]]


def test_rotation_moves_everything_to_the_new_master(engine: Engine, tmp_path: Path) -> None:
    facts = populate(runtime(engine, tmp_path, OLD))
    with engine.connect() as conn:
        old_key = conn.execute(select(data_keys.c.id)).scalar_one()

    during = runtime(engine, tmp_path, NEW, OLD)
    assert_all_readable(during, facts)  # an instance given both keys serves before the rotation has run
    stages: list[tuple[str, int, int]] = []
    report = rotate_master(during, lambda stage, done, total: stages.append((stage, done, total)))
    assert report.complete and report.rewrapped == 1 and report.data_key_created
    assert sum(report.resealed.values()) >= 5 and not report.unreadable
    assert ("re-wrap data keys", 1, 1) in stages
    assert any(s[0] == "re-seal signing key private keys" and s[1] == s[2] > 0 for s in stages)

    with engine.connect() as conn:
        keys = {r.id: r for r in conn.execute(select(data_keys))}
        sealed = conn.execute(select(signing_keys.c.private_key)).scalars().all()
    assert {r.master_key_id for r in keys.values()} == {master_key_id(NEW)}
    assert keys[old_key].status == "retired" and keys[report.data_key].status == "active"
    assert {data_key_of(s) for s in sealed} == {report.data_key}

    # The old master key is no longer needed by anything.
    assert_all_readable(runtime(engine, tmp_path, NEW), facts)


def test_second_run_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    populate(runtime(engine, tmp_path, OLD))
    rt = runtime(engine, tmp_path, NEW, OLD)
    first = rotate_master(rt, lambda *_: None)
    second = rotate_master(rt, lambda *_: None)
    assert second.complete and second.rewrapped == 0 and not second.data_key_created
    assert second.data_key == first.data_key and not second.resealed
    assert second.already_current == sum(first.resealed.values()) + first.already_current


def test_interrupted_run_resumes(engine: Engine, tmp_path: Path) -> None:
    facts = populate(runtime(engine, tmp_path, OLD))
    rt = runtime(engine, tmp_path, NEW, OLD)

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage.startswith("re-seal") and done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate_master(rt, interrupt)
    resumed = rotate_master(rt, lambda *_: None)
    assert resumed.complete and not resumed.data_key_created and resumed.already_current > 0
    assert_all_readable(runtime(engine, tmp_path, NEW), facts)


def test_rotation_needs_the_old_master_key(engine: Engine, tmp_path: Path) -> None:
    populate(runtime(engine, tmp_path, OLD))
    with pytest.raises(Exception, match="ENTRYWAY_PREVIOUS_MASTER_KEYS"):
        rotate_master(runtime(engine, tmp_path, NEW), lambda *_: None)
    with engine.connect() as conn:  # nothing was changed
        assert conn.execute(select(data_keys.c.master_key_id)).scalars().all() == [master_key_id(OLD)]


def test_an_unreadable_value_is_reported_and_left_alone(engine: Engine, tmp_path: Path) -> None:
    rt = runtime(engine, tmp_path, OLD)
    populate(rt)
    garbage = b"\x01" + os.urandom(40)
    with engine.begin() as conn:
        conn.execute(insert(installation_secrets).values(name="broken", value=garbage, create_time=rt.clock.now()))
    report = rotate_master(runtime(engine, tmp_path, NEW, OLD), lambda *_: None)
    assert not report.complete and len(report.unreadable) == 1 and "broken" in report.unreadable[0]
    with engine.connect() as conn:
        kept = conn.execute(select(installation_secrets.c.value).where(installation_secrets.c.name == "broken"))
        assert kept.scalar_one() == garbage


def test_every_binary_column_is_a_registered_sealed_field_or_declared_not_secret() -> None:
    """A feature that stores a new sealed value must register it, or rotate-master would leave it behind."""
    registered = {f"{f.table.name}.{c.name}" for f in SEALED_FIELDS for c in f.columns}
    binary = {
        f"{t.name}.{c.name}" for t in metadata.sorted_tables for c in t.columns if isinstance(c.type, LargeBinary)
    }
    assert binary - registered - NOT_SEALED == set()
    assert not isinstance(data_keys.c.wrapped_key.type, Integer)


def test_registered_contexts_are_those_the_features_seal_with() -> None:
    """rotate-master opens each value with the registered context: it must be the one its feature sealed with."""
    from types import SimpleNamespace

    from entryway.api.idempotency import seal_context as idempotency_context
    from entryway.connectors.oidc.upstream_tokens import _context as upstream_context
    from entryway.events.endpoints import _context as webhook_context
    from entryway.keys import installation
    from entryway.portal.test_logins import _seal_context as portal_context

    row = SimpleNamespace(id="x", connection_id="x", session_id="x", name="x")
    contexts = {f.name: f.context(row) for f in SEALED_FIELDS}  # type: ignore[arg-type]
    assert contexts["portal test-login claims"] == portal_context("x")
    assert contexts["kept upstream ID tokens"] == upstream_context("x")
    assert contexts["webhook signing secrets"] == contexts["previous webhook signing secrets"] == webhook_context("x")
    assert contexts["installation secrets"] == installation.context("x")
    assert contexts["signing key private keys"] == "signing_key:x"
    assert contexts["OIDC connection client secrets"] == "oidc_client_secret:x"
    assert contexts["remembered Idempotency-Key answers"] == idempotency_context("x")


def test_remembered_idempotency_answers_move_to_the_new_master(engine: Engine, tmp_path: Path) -> None:
    """An answer holding a new client secret, remembered for an Idempotency-Key retry, is re-sealed: after the
    rotation an instance with only the new master key still replays it."""
    old = runtime(engine, tmp_path, OLD)
    facts = populate(old)
    with engine.connect() as conn:
        env = get_environment(conn, str(facts["env_id"]))
        client_id = app_client_id(conn, env.id)

    def post(rt: Runtime) -> dict[str, object]:
        token = access_tokens.mint(rt, env, client_id=client_id, subject=client_id, ttl_seconds=600, scopes=["*"])
        headers = {"Authorization": f"Bearer {token.token}", "Idempotency-Key": "rotate-1"}
        with TestClient(create_app(rt), base_url=env.url, headers=headers) as client:
            response = client.post(f"/api/v1/clients/{client_id}/secrets")
        assert response.status_code == 201, response.text
        return response.json()

    first = post(old)
    report = rotate_master(runtime(engine, tmp_path, NEW, OLD), lambda *_: None)
    assert report.complete and report.resealed["remembered Idempotency-Key answers"] == 1
    with engine.connect() as conn:
        sealed = conn.execute(select(idempotency_keys.c.sealed_response)).scalar_one()
    assert data_key_of(sealed) == report.data_key
    assert post(runtime(engine, tmp_path, NEW)) == first


def populate_every_sealed_field(rt: Runtime) -> dict[str, object]:
    """One stored value for every registered sealed field, each written the way its feature writes it."""
    from datetime import timedelta

    from entryway.api.idempotency import seal_context as idempotency_context
    from entryway.connectors.oidc.upstream_tokens import keep_id_token
    from entryway.events.endpoints import rotate_secret
    from entryway.portal.test_logins import _seal_context as portal_context
    from entryway.services import connections, organizations
    from entryway.store.tables import portal_test_logins

    facts = populate(rt)  # signing keys, a webhook secret, an installation secret
    now = rt.clock.now()
    with rt.engine.begin() as conn:
        env = get_environment(conn, str(facts["env_id"]))
        endpoint_id = conn.execute(select(webhook_endpoints.c.id)).scalar_one()
        _, facts["webhook_secret_after_rotation"] = rotate_secret(rt, conn, env.id, endpoint_id)  # fills previous
        org = organizations.create_organization(rt, conn, env.id, display_name="Acme")
        oidc = connections.create_connection(
            rt, conn, env, org.id, type="OIDC", provider="OKTA", oidc_config={"client_id": "c", "client_secret": "s3"}
        )
        keep_id_token(rt, conn, env_id=env.id, connection_id=oidc.id, session_id="sid_1", id_token="upstream.jwt.x")
        claims = rt.sealer.seal(b'{"email": "jane@acme.test"}', portal_context(oidc.id), conn=conn)
        conn.execute(
            insert(portal_test_logins).values(
                connection_id=oidc.id,
                environment_id=env.id,
                auth_request_id="req_1",
                sealed_claims=claims,
                create_time=now,
            )
        )
        answer = rt.sealer.seal(b'{"plain_secret": "x"}', idempotency_context("idem_1"), conn=conn)
        conn.execute(
            insert(idempotency_keys).values(
                id="idem_1",
                environment_id=env.id,
                client_id="skc_1",
                key="k",
                request_hash="h",
                status_code=201,
                sealed_response=answer,
                create_time=now,
                expire_time=now + timedelta(hours=24),
            )
        )
    facts["oidc_connection_id"] = oidc.id
    return facts


def stored_values(rt: Runtime, sealed_field: SealedField) -> list[tuple[bytes, str]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(sealed_field.select_batch(None, 10_000)).all()
    return [(sealed, sealed_field.context(row)) for row in rows if (sealed := sealed_field.read(row)) is not None]


def test_every_sealed_field_moves_to_the_new_master(engine: Engine, tmp_path: Path) -> None:
    """Every registered field, including the OIDC client secret kept inside a JSON column, is re-sealed under the
    fresh data key and opens afterwards with the new master key alone."""
    from entryway.services.connections import get_connection, oidc_client_secret

    old = runtime(engine, tmp_path, OLD)
    facts = populate_every_sealed_field(old)
    unpopulated = [f.name for f in SEALED_FIELDS if not stored_values(old, f)]
    assert not unpopulated, f"give populate_every_sealed_field a value for {unpopulated}"

    report = rotate_master(runtime(engine, tmp_path, NEW, OLD), lambda *_: None)
    assert report.complete and set(report.resealed) == {f.name for f in SEALED_FIELDS}

    after = runtime(engine, tmp_path, NEW)
    for sealed_field in SEALED_FIELDS:
        for sealed, context in stored_values(after, sealed_field):
            assert data_key_of(sealed) == report.data_key, sealed_field.name
            after.sealer.open(sealed, context)  # raises if the value did not survive
    with engine.connect() as conn:
        connection = get_connection(conn, str(facts["env_id"]), str(facts["oidc_connection_id"]))
        endpoint = conn.execute(select(webhook_endpoints)).one()
    assert oidc_client_secret(after, connection) == "s3"
    assert connection.oidc_config["client_id"] == "c"  # the rest of the JSON column is kept
    assert signing_secrets(
        after,
        endpoint.id,
        endpoint.secret,
        endpoint.previous_secret,
        endpoint.previous_secret_expire_time,
        after.clock.now(),
    ) == [facts["webhook_secret_after_rotation"], facts["webhook_secret"]]


def _seal_call_sites() -> dict[str, int]:
    """`<module>:<function>` -> how many `….seal(…)` calls it makes, for every module of the package."""
    import ast

    import entryway

    found: dict[str, int] = {}
    root = Path(entryway.__file__).parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            calls = sum(
                1
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "seal"
            )
            if calls:
                found[f"{path.relative_to(root).as_posix()}:{function.name}"] = calls
    return found


# Where each sealed value is written, and the registered field (keys/sealed_fields.py) rotate-master re-seals
# it through. The rotation itself and the sealer's own definition write nothing new.
SEAL_CALL_SITES = {
    "services/environments.py:add_signing_key": "signing key private keys",
    "keys/rotation.py:rotate": "signing key private keys",
    "services/connections.py:_check_oidc": "OIDC connection client secrets",
    "events/endpoints.py:create_endpoint": "webhook signing secrets",
    "events/endpoints.py:rotate_secret": "webhook signing secrets",  # and previous_secret, by copying the bytes
    "portal/test_logins.py:finish": "portal test-login claims",
    "connectors/oidc/upstream_tokens.py:keep_id_token": "kept upstream ID tokens",
    "keys/installation.py:installation_secret": "installation secrets",
    "api/idempotency.py:_remember": "remembered Idempotency-Key answers",
}
NOT_NEW_VALUES = {"keys/master_rotation.py:_reseal_row"}


def test_every_place_that_seals_a_value_is_covered_by_rotate_master() -> None:
    """The binary-column check above cannot see a value sealed into a JSON or text column (as the OIDC client
    secret is): every `.seal(` call must be listed here against the field rotate-master re-seals it through, so a
    new one fails this test until it is registered in keys/sealed_fields.py."""
    sites = _seal_call_sites()
    unlisted = set(sites) - set(SEAL_CALL_SITES) - NOT_NEW_VALUES
    assert not unlisted, f"register these in keys/sealed_fields.py, then list them here: {sorted(unlisted)}"
    assert all(count == 1 for site, count in sites.items() if site not in NOT_NEW_VALUES), sites
    assert set(SEAL_CALL_SITES.values()) <= {f.name for f in SEALED_FIELDS}
