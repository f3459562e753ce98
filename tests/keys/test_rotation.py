"""Signing-key rotation: published first, signing after the grace period (on every instance, by the clock),
retired keys published until the tokens they signed have expired; and the cache headers that make it safe."""

from __future__ import annotations

import jwt
import pytest
from fastapi.testclient import TestClient

from entryway.app import create_app
from entryway.clock import FrozenClock
from entryway.keys import rotation
from entryway.keys.keyring import DEFAULT_RETAIN_SECONDS
from entryway.model.errors import ApiError
from entryway.oidc_provider import signing
from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.keys.conftest import ENV_URL


def published(http: TestClient) -> list[str]:
    response = http.get("/keys")
    assert response.status_code == 200
    return [k["kid"] for k in response.json()["keys"]]


def signing_kid(rt: Runtime, seed: DevSeed) -> str:
    now = int(rt.clock.now().timestamp())
    token = signing.sign(rt, seed.environment, {"iss": ENV_URL, "iat": now, "exp": now + 3600, "sub": "x"})
    return str(jwt.get_unverified_header(token)["kid"])


def test_a_rotation_publishes_first_signs_later_and_retires_late(
    krt: Runtime, seed: DevSeed, frozen: FrozenClock
) -> None:
    http = TestClient(create_app(krt), base_url=ENV_URL)
    old = signing_kid(krt, seed)
    assert published(http) == [old]
    issued = int(frozen.at.timestamp())
    token_by_old = signing.sign(krt, seed.environment, {"iss": ENV_URL, "iat": issued, "exp": issued + 86399})
    with krt.engine.begin() as db:
        done = rotation.rotate(krt, db, seed.environment.id, grace_seconds=3600)
    assert done.replaced == [old]
    # Published at once, but not signing yet.
    assert published(http) == [old, done.new_kid]
    assert signing_kid(krt, seed) == old
    frozen.advance(seconds=3599)
    assert signing_kid(krt, seed) == old
    frozen.advance(seconds=1)
    assert signing_kid(krt, seed) == done.new_kid
    # The old key stays published while a token it signed can still be alive...
    assert published(http) == [old, done.new_kid]
    assert signing.verify(krt, seed.environment, token_by_old)["iss"] == ENV_URL
    frozen.advance(seconds=DEFAULT_RETAIN_SECONDS - 1)
    assert published(http) == [old, done.new_kid]
    # ...and not after.
    frozen.advance(seconds=1)
    assert published(http) == [done.new_kid]
    with pytest.raises(signing.InvalidToken):
        signing.verify(krt, seed.environment, token_by_old, verify_expiry=False)
    with krt.engine.begin() as db:
        states = {s.kid: s for s in rotation.key_states(krt, db, seed.environment.id)}
    assert states[old].status == "retired" and states[done.new_kid].status == "active"


def test_another_instance_switches_by_the_clock_without_rereading(
    krt: Runtime, seed: DevSeed, frozen: FrozenClock
) -> None:
    other = Runtime.build(krt.settings, clock=frozen, engine=krt.engine)
    old = signing_kid(other, seed)
    with krt.engine.begin() as db:
        done = rotation.rotate(krt, db, seed.environment.id, grace_seconds=rotation.MIN_GRACE_SECONDS)
    # `other` cached its rows before the rotation: it keeps signing with the old key, which is still right...
    assert signing_kid(other, seed) == old
    other.keyring.invalidate()  # ...until its 30-second refresh reads the planned key,
    assert signing_kid(other, seed) == old
    frozen.advance(seconds=rotation.MIN_GRACE_SECONDS)
    assert signing_kid(other, seed) == done.new_kid  # which then signs from its time on, with no write needed


def test_the_grace_period_covers_the_caches(krt: Runtime, seed: DevSeed) -> None:
    with pytest.raises(ApiError) as caught, krt.engine.begin() as db:
        rotation.rotate(krt, db, seed.environment.id, grace_seconds=rotation.JWKS_MAX_AGE)
    assert caught.value.status == 400
    assert rotation.MIN_GRACE_SECONDS > rotation.JWKS_MAX_AGE + rotation.KEYRING_REFRESH


def test_one_pending_rotation_at_a_time(krt: Runtime, seed: DevSeed, frozen: FrozenClock) -> None:
    with krt.engine.begin() as db:
        first = rotation.rotate(krt, db, seed.environment.id)
    with pytest.raises(ApiError) as caught, krt.engine.begin() as db:
        rotation.rotate(krt, db, seed.environment.id)
    assert caught.value.status == 409 and first.new_kid in caught.value.message
    frozen.advance(seconds=rotation.DEFAULT_GRACE_SECONDS)
    with krt.engine.begin() as db:
        second = rotation.rotate(krt, db, seed.environment.id)
    assert second.replaced == [first.new_kid]
    with krt.engine.begin() as db:
        statuses = [s.status for s in rotation.key_states(krt, db, seed.environment.id)]
    assert statuses == ["retired", "active", "next"]


def test_keys_and_discovery_are_cacheable_for_less_than_the_grace(krt: Runtime, seed: DevSeed) -> None:
    http = TestClient(create_app(krt), base_url=ENV_URL)
    for path in ("/keys", "/.well-known/openid-configuration"):
        response = http.get(path)
        assert response.headers["cache-control"] == f"public, max-age={rotation.JWKS_MAX_AGE}"
        assert response.headers["vary"] == "Host"


def test_a_clock_behind_the_keys_still_signs_with_the_active_key(
    krt: Runtime, seed: DevSeed, frozen: FrozenClock
) -> None:
    old = signing_kid(krt, seed)
    with krt.engine.begin() as db:
        rotation.rotate(krt, db, seed.environment.id)
    frozen.advance(days=-30)
    assert signing_kid(krt, seed) == old
