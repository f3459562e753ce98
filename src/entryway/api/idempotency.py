"""`Idempotency-Key` on management API POSTs (CONTRACT §5): a client that retries a POST with the same key and
the same request gets the first answer again, for 24 hours, instead of a second resource.

Keys belong to the calling client in its environment. The request is compared by a hash of its method, path,
query and validated body, so the same JSON written differently is the same request. Following the IETF
Idempotency-Key draft: the same key with a different request is 422, and a key whose first request is still
running is 409. Only a successful answer is remembered; a refused request frees its key, so it can be fixed and
sent again under the same key.

The remembered answer is sealed (keys/sealing.py, registered in keys/sealed_fields.py so a master-key rotation
re-seals it): an answer can carry a secret shown once — a new client secret, a webhook's `whsec_` secret — and
a retry must see it again, but the database must not hold it in the clear.

The handlers stay unaware of this: `apply` wraps each POST endpoint of a router, keeping its signature.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from entryway.api.auth import Caller
from entryway.keys.sealing import SealError
from entryway.model.errors import ApiError, FieldViolation, invalid
from entryway.runtime import Runtime
from entryway.store.tables import idempotency_keys
from entryway.web.requests import runtime

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as an HTTP header value can carry it plainly


class Replayed(ApiError):
    """Not an error: the remembered first answer, sent through the API's exception handler unchanged."""

    def __init__(self, status: int, response: Any) -> None:
        super().__init__(status, "replayed", headers={"Idempotent-Replayed": "true"})
        self.response = response

    def body(self) -> Any:
        return self.response


def _fingerprint(request: Request, values: dict[str, Any]) -> str:
    body = values.get("body")
    shape = {
        "method": request.method,
        "path": request.url.path,
        "query": sorted(request.query_params.multi_items()),
        "body": body.model_dump(mode="json", exclude_unset=True) if isinstance(body, BaseModel) else None,
    }
    return hashlib.sha256(json.dumps(shape, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def row_id(environment_id: str, client_id: str, key: str) -> str:
    """The row's primary key: the key is the client's own, in its environment."""
    return hashlib.sha256("\x00".join((environment_id, client_id, key)).encode()).hexdigest()


def seal_context(row_id: str) -> str:
    """Binds a sealed answer to its row (keys/sealed_fields.py opens it with the same context)."""
    return f"idempotency_response:{row_id}"


def _row_of(caller: Caller, key: str) -> Any:
    return idempotency_keys.c.id == row_id(caller.environment.id, caller.client.id, key)


def _claim(rt: Runtime, caller: Caller, key: str, fingerprint: str) -> None:
    """Record the key as running, or raise: the first answer (Replayed), 422 or 409."""
    now = rt.clock.now()
    try:
        with rt.engine.begin() as conn:
            # expired keys of this environment go, this one included, so it can start afresh
            conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.environment_id == caller.environment.id, idempotency_keys.c.expire_time <= now
                )
            )
            row = conn.execute(select(idempotency_keys).where(_row_of(caller, key))).first()
            if row is not None:
                if row.request_hash != fingerprint:
                    raise ApiError(
                        422,
                        "This Idempotency-Key was already used for a different request",
                        [FieldViolation(HEADER, "send a new key for a new request")],
                    )
                if row.status_code is None:
                    raise ApiError(409, "The first request with this Idempotency-Key is still running; retry shortly")
                raise Replayed(int(row.status_code), _open(rt, row.id, row.sealed_response))
            conn.execute(
                insert(idempotency_keys).values(
                    id=row_id(caller.environment.id, caller.client.id, key),
                    environment_id=caller.environment.id,
                    client_id=caller.client.id,
                    key=key,
                    request_hash=fingerprint,
                    status_code=None,
                    sealed_response=None,
                    create_time=now,
                    expire_time=now + TTL,
                )
            )
    except IntegrityError as exc:  # a concurrent request claimed the key first
        raise ApiError(409, "The first request with this Idempotency-Key is still running; retry shortly") from exc


def _release(rt: Runtime, caller: Caller, key: str) -> None:
    with rt.engine.begin() as conn:
        conn.execute(delete(idempotency_keys).where(_row_of(caller, key), idempotency_keys.c.status_code.is_(None)))


def _remember(rt: Runtime, caller: Caller, key: str, status: int, response: Any) -> None:
    ident = row_id(caller.environment.id, caller.client.id, key)
    plain = json.dumps(jsonable_encoder(response), separators=(",", ":")).encode()
    with rt.engine.begin() as conn:
        sealed = rt.sealer.seal(plain, seal_context(ident), conn=conn)
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.id == ident)
            .values(status_code=status, sealed_response=sealed)
        )


def _open(rt: Runtime, ident: str, sealed: bytes | None) -> Any:
    if sealed is None:  # remembered without a body
        return None
    try:
        return json.loads(rt.sealer.open(sealed, seal_context(ident)))
    except SealError as exc:  # sealed under a master key this instance no longer has
        raise ApiError(
            409,
            "The first answer to this Idempotency-Key can no longer be opened (its master key is gone); check "
            "whether the first request took effect, then send a new key",
        ) from exc


def _wrap(endpoint: Callable[..., Any], status: int) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def idempotent(**values: Any) -> Any:
        request: Request = values["request"]
        caller: Caller = values["caller"]
        key = request.headers.get(HEADER)
        if key is None:
            return endpoint(**values)
        if not _KEY.fullmatch(key):
            raise invalid([FieldViolation(HEADER, "must be 1 to 255 visible ASCII characters")])
        rt = runtime(request)
        _claim(rt, caller, key, _fingerprint(request, values))
        try:
            result = endpoint(**values)
        except BaseException:
            _release(rt, caller, key)
            raise
        _remember(rt, caller, key, status, result)
        return result

    return idempotent


def apply(router: APIRouter) -> None:
    """Make every POST of `router` honour Idempotency-Key. Each must take `request` and `caller` (checked here)."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or "POST" not in (route.methods or set()):
            continue
        params = route.endpoint.__code__.co_varnames[: route.endpoint.__code__.co_argcount]
        if "request" not in params or "caller" not in params:
            raise RuntimeError(f"{route.name} needs `request` and `caller` parameters for Idempotency-Key")
        route.endpoint = _wrap(route.endpoint, route.status_code or 200)
