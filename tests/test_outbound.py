"""Outbound fetches connect to the address they checked: a DNS server that answers an allowed address to the
first question and a forbidden one to the next (DNS rebinding) never gets Entryway to the forbidden one.

The DNS server is real (tests/api/fake_dns.py, reached through ENTRYWAY_FETCH_NAMESERVER's resolver); two HTTP
servers listen on the same port of 127.0.0.1 (the allowed address) and 127.0.0.2 (the one rebinding points to).
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from entryway.config import ConfigError, load_settings
from entryway.connectors.oidc.fetch import FetchError, request_json
from entryway.connectors.saml.idp_metadata import MetadataProblem
from entryway.connectors.saml.metadata_fetch import fetch_metadata
from entryway.outbound import OutboundPolicy, nameserver_resolver, policy_for
from tests.api.fake_dns import DnsServer, dns_server

NAME = "idp.rebind.test"


@dataclass
class Listener:
    address: str
    hosts: list[str] = field(default_factory=list)  # the Host header of each request it got


def _serve(address: str, port: int, listener: Listener) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            listener.hosts.append(self.headers.get("host", ""))
            body = json.dumps({"served_by": address}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((address, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def listeners() -> Iterator[tuple[int, Listener, Listener]]:
    checked, rebound = Listener("127.0.0.1"), Listener("127.0.0.2")
    for _ in range(20):  # the same port free on both addresses
        first = _serve(checked.address, 0, checked)
        port = first.server_address[1]
        try:
            second = _serve(rebound.address, port, rebound)
        except OSError:
            first.shutdown()
            first.server_close()
            continue
        break
    else:
        pytest.fail("no port free on both loopback addresses")
    yield port, checked, rebound
    for server in (first, second):
        server.shutdown()
        server.server_close()


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with dns_server() as server:
        yield server


def _policy(dns: DnsServer) -> OutboundPolicy:
    # Only 127.0.0.1 may be reached, as an operator allows one internal IdP (ENTRYWAY_ALLOW_PRIVATE_FETCH=…/32).
    return OutboundPolicy(
        allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), resolver=nameserver_resolver(dns.address)
    )


def test_oidc_fetches_connect_to_the_checked_address(dns: DnsServer, listeners: tuple[int, Listener, Listener]) -> None:
    port, checked, rebound = listeners
    dns.a[NAME] = [["127.0.0.1"], ["127.0.0.2"]]
    url = f"http://{NAME}:{port}/.well-known/openid-configuration"
    assert request_json("GET", url, policy=_policy(dns)) == {"served_by": "127.0.0.1"}
    assert dns.a_queries == [NAME]  # one lookup: the answer checked is the answer connected to
    assert checked.hosts == [f"{NAME}:{port}"]  # the Host header still names the IdP
    assert rebound.hosts == []
    # The next fetch asks again and gets the rebinding answer: refused before any connection.
    with pytest.raises(FetchError) as refused:
        request_json("GET", url, policy=_policy(dns))
    assert "127.0.0.2" in refused.value.message and "non-public" in refused.value.message
    assert refused.value.diagnosis["got"] == "127.0.0.2"
    assert rebound.hosts == []


def test_metadata_fetches_connect_to_the_checked_address(
    dns: DnsServer, listeners: tuple[int, Listener, Listener]
) -> None:
    port, _checked, rebound = listeners
    dns.a[NAME] = [["127.0.0.1"], ["127.0.0.2"]]
    url = f"http://{NAME}:{port}/metadata.xml"
    assert json.loads(fetch_metadata(url, allow_http=True, policy=_policy(dns))) == {"served_by": "127.0.0.1"}
    assert dns.a_queries == [NAME] and rebound.hosts == []
    with pytest.raises(MetadataProblem, match="non-public"):
        fetch_metadata(url, allow_http=True, policy=_policy(dns))
    assert rebound.hosts == []


def test_an_answer_mixing_allowed_and_forbidden_addresses_is_refused(
    dns: DnsServer, listeners: tuple[int, Listener, Listener]
) -> None:
    port, checked, rebound = listeners
    dns.a[NAME] = [["127.0.0.1", "127.0.0.2"]]
    with pytest.raises(FetchError, match="non-public"):
        request_json("GET", f"http://{NAME}:{port}/x", policy=_policy(dns))
    assert checked.hosts == [] and rebound.hosts == []


def test_a_name_that_does_not_resolve(dns: DnsServer) -> None:
    with pytest.raises(FetchError, match="could not be resolved"):
        request_json("GET", "http://nothing.rebind.test/x", policy=_policy(dns))


def test_the_settings_build_the_policy(dns: DnsServer) -> None:
    settings = load_settings(
        env={
            "ENTRYWAY_MASTER_KEY": "dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM",
            "ENTRYWAY_ALLOW_PRIVATE_FETCH": "127.0.0.1/32, 10.1.0.0/16",
            "ENTRYWAY_FETCH_NAMESERVER": dns.address,
        }
    )
    assert settings.allow_private_fetch is False
    assert settings.private_fetch_networks == ("127.0.0.1/32", "10.1.0.0/16")
    policy = policy_for(settings)
    assert policy.permits(ipaddress.ip_address("10.1.2.3")) and policy.permits(ipaddress.ip_address("127.0.0.1"))
    assert not policy.permits(ipaddress.ip_address("127.0.0.2"))
    assert not policy.permits(ipaddress.ip_address("169.254.169.254"))  # cloud metadata stays out of reach
    assert not policy.permits(ipaddress.ip_address("::ffff:127.0.0.2"))
    dns.a[NAME] = [["127.0.0.1"]]
    assert policy.resolver(NAME, 80) == ["127.0.0.1"] and dns.a_queries == [NAME]
    everything = load_settings(
        env={"ENTRYWAY_MASTER_KEY": "dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM", "ENTRYWAY_ALLOW_PRIVATE_FETCH": "1"}
    )
    assert policy_for(everything).permits(ipaddress.ip_address("127.0.0.2"))
    with pytest.raises(ConfigError, match="ENTRYWAY_ALLOW_PRIVATE_FETCH"):
        load_settings(
            env={
                "ENTRYWAY_MASTER_KEY": "dGVzdC1tYXN0ZXIta2V5LWZvci1lbnRyeXdheS10ZXM",
                "ENTRYWAY_ALLOW_PRIVATE_FETCH": "intranet",
            }
        )
