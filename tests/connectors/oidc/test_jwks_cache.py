"""The IdP key-set cache stays bounded however many IdPs (organizations) log in."""

from __future__ import annotations

from typing import Any

import pytest

from entryway.connectors.oidc import jwks
from entryway.runtime import Runtime


def test_the_key_set_cache_keeps_only_the_most_recently_fetched(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []

    def answer(_method: str, url: str, **_: Any) -> dict[str, Any]:
        fetched.append(url)
        return {"keys": []}

    monkeypatch.setattr(jwks, "request_json", answer)
    urls = [f"https://idp{n}.example/jwks" for n in range(jwks.MAX_KEY_SETS + 1)]
    for url in urls:
        jwks.candidate_keys(rt, url, None)
    cache = rt.caches["oidc_jwks"]
    assert len(cache) == jwks.MAX_KEY_SETS  # type: ignore[arg-type]
    assert urls[0] not in cache and urls[-1] in cache  # type: ignore[operator]
    # A cached set is not fetched again; the dropped one is, at its next login.
    jwks.candidate_keys(rt, urls[-1], None)
    jwks.candidate_keys(rt, urls[0], None)
    assert fetched == [*urls, urls[0]]
