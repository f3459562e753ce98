"""X-Forwarded-Host/-Proto/-For are believed only from ENTRYWAY_TRUSTED_PROXIES: a real server on loopback, whose
peer (127.0.0.1) is configured as a trusted proxy or not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from entryway.config import ConfigError, load_settings
from entryway.model.environments import EnvironmentType
from entryway.runtime import Runtime
from entryway.services import environments
from entryway.store.tables import auth_events
from entryway.store.tables import environments as environments_table
from entryway.web.requests import is_trusted_proxy
from tests.support.server import free_port, running_server

BASE = "https://acme.entryway.test"
CUSTOM = "sso.acme.test"


@pytest.fixture
def env(rt: Runtime) -> environments.Environment:
    with rt.engine.begin() as conn:
        created, _ = environments.create_environment(
            rt, conn, env_type=EnvironmentType.PRODUCTION, url=BASE, display_name="Production"
        )
        conn.execute(
            environments_table.update()
            .where(environments_table.c.id == created.id)
            .values(custom_domain=CUSTOM, custom_domain_verified=True)
        )
    return created


def _serve(rt: Runtime, proxies: tuple[str, ...]) -> Iterator[str]:
    rt.settings = replace(rt.settings, trusted_proxies=proxies)
    with running_server(rt, free_port()) as url:
        yield url


@pytest.fixture
def behind_trusted_proxy(rt: Runtime, env: environments.Environment) -> Iterator[str]:
    yield from _serve(rt, ("10.9.0.0/16", "127.0.0.0/8"))


@pytest.fixture
def untrusted_peer(rt: Runtime, env: environments.Environment) -> Iterator[str]:
    yield from _serve(rt, ("10.9.0.0/16",))


def _discovery(url: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{url}/.well-known/openid-configuration", headers=headers, timeout=10)


def _logged_ip(rt: Runtime) -> str | None:
    with rt.engine.connect() as conn:
        return conn.execute(select(auth_events.c.client_ip).order_by(auth_events.c.create_time.desc())).scalar()


def test_a_trusted_proxy_chooses_the_host_and_the_custom_domain_issuer(behind_trusted_proxy: str) -> None:
    answer = _discovery(behind_trusted_proxy, **{"X-Forwarded-Host": CUSTOM, "X-Forwarded-Proto": "https"})
    assert answer.status_code == 200 and answer.json()["issuer"] == f"https://{CUSTOM}"
    answer = _discovery(behind_trusted_proxy, **{"X-Forwarded-Host": "acme.entryway.test"})
    assert answer.json()["issuer"] == BASE


def test_an_untrusted_peer_cannot_choose_the_host(untrusted_peer: str) -> None:
    answer = _discovery(untrusted_peer, **{"X-Forwarded-Host": CUSTOM})
    assert answer.status_code == 404  # routed by the real Host (127.0.0.1:port), which no environment serves
    assert _discovery(untrusted_peer, Host=CUSTOM).json()["issuer"] == f"https://{CUSTOM}"


def test_plain_http_reported_by_a_trusted_proxy_is_sent_to_https(behind_trusted_proxy: str) -> None:
    headers = {"X-Forwarded-Host": CUSTOM, "X-Forwarded-Proto": "http"}
    answer = httpx.get(f"{behind_trusted_proxy}/.well-known/openid-configuration?x=1", headers=headers, timeout=10)
    assert answer.status_code == 308
    assert answer.headers["location"] == f"https://{CUSTOM}/.well-known/openid-configuration?x=1"
    posted = httpx.post(f"{behind_trusted_proxy}/oauth/token", headers=headers, data={"a": "b"}, timeout=10)
    assert posted.status_code == 400 and "HTTPS required" in posted.text


def test_an_untrusted_peers_proto_is_ignored(untrusted_peer: str) -> None:
    answer = _discovery(untrusted_peer, Host=CUSTOM, **{"X-Forwarded-Proto": "http"})
    assert answer.status_code == 200


def test_the_client_address_is_the_right_most_untrusted_one(rt: Runtime, behind_trusted_proxy: str) -> None:
    # The client forged the first entry; the edge proxy (10.9.0.4, trusted) appended the address it saw.
    chain = "203.0.113.66, 198.51.100.23, 10.9.0.4"
    httpx.get(
        f"{behind_trusted_proxy}/oauth/authorize",
        params={"client_id": "skc_unknown", "redirect_uri": "https://app.example.com/cb", "response_type": "code"},
        headers={"X-Forwarded-Host": CUSTOM, "X-Forwarded-For": chain},
        timeout=10,
    )
    assert _logged_ip(rt) == "198.51.100.23"


def test_an_untrusted_peers_forwarded_for_is_ignored(rt: Runtime, untrusted_peer: str) -> None:
    httpx.get(
        f"{untrusted_peer}/oauth/authorize",
        params={"client_id": "skc_unknown", "redirect_uri": "https://app.example.com/cb", "response_type": "code"},
        headers={"Host": CUSTOM, "X-Forwarded-For": "198.51.100.23"},
        timeout=10,
    )
    assert _logged_ip(rt) == "127.0.0.1"


def test_a_garbled_chain_falls_back_to_the_peer(rt: Runtime, behind_trusted_proxy: str) -> None:
    httpx.get(
        f"{behind_trusted_proxy}/oauth/authorize",
        params={"client_id": "skc_unknown", "redirect_uri": "https://app.example.com/cb", "response_type": "code"},
        headers={"X-Forwarded-Host": CUSTOM, "X-Forwarded-For": "<script>, 10.9.0.4"},
        timeout=10,
    )
    assert _logged_ip(rt) == "127.0.0.1"


def test_trusted_proxy_matching() -> None:
    proxies = ("10.0.0.0/8", "192.0.2.7", "2001:db8::/32")
    assert is_trusted_proxy(proxies, "10.1.2.3")
    assert is_trusted_proxy(proxies, "192.0.2.7")
    assert is_trusted_proxy(proxies, "::ffff:10.1.2.3")  # an IPv4 peer on a dual-stack socket
    assert is_trusted_proxy(proxies, "2001:db8::1")
    assert not is_trusted_proxy(proxies, "192.0.2.8")
    assert not is_trusted_proxy(proxies, "testclient")
    assert not is_trusted_proxy((), "10.1.2.3")


def test_a_malformed_trusted_proxy_setting_stops_startup() -> None:
    env = {
        "ENTRYWAY_MASTER_KEY": "dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM",
        "ENTRYWAY_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local",
    }
    with pytest.raises(ConfigError, match=r"'proxy\.local' is not an IP address or CIDR range"):
        load_settings(env=env)
