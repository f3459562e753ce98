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
from entryway.keys.sealed_fields import NOT_SEALED, SEALED_FIELDS
from entryway.keys.sealing import data_key_of, master_key_id
from entryway.oidc_provider import access_tokens
from entryway.runtime import Runtime
from entryway.services.bootstrap import seed_development
from entryway.services.environments import app_client_id, get_environment
from entryway.store.tables import data_keys, idempotency_keys, installation_secrets, metadata, signing_keys
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
