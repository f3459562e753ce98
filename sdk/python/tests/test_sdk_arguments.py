"""Construction, URLs, and argument checks that fail before any network call."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from entryway_sdk import ArgumentError, EntrywayClient
from entryway_sdk.pkce import code_challenge
from sdk_fakes import CLIENT_ID, ENV_URL, SECRET, FakeServer


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def offline() -> tuple[EntrywayClient, FakeServer]:
    server = FakeServer()
    return EntrywayClient(ENV_URL + "/", CLIENT_ID, SECRET, http_client=server.sync_client()), server


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ArgumentError, match="env_url"):
        EntrywayClient("sso.example.test", CLIENT_ID, SECRET)
    with pytest.raises(ArgumentError, match="client_id"):
        EntrywayClient(ENV_URL, "", SECRET)
    with pytest.raises(ArgumentError, match="skc_"):
        EntrywayClient(ENV_URL, "abc", SECRET)
    with pytest.raises(ArgumentError, match="client_secret"):
        EntrywayClient(ENV_URL, CLIENT_ID, None)  # type: ignore[arg-type]


def test_from_env_reads_the_three_values_and_names_the_missing_ones() -> None:
    client = EntrywayClient.from_env(
        {"ENTRYWAY_ENV_URL": ENV_URL, "ENTRYWAY_CLIENT_ID": CLIENT_ID, "ENTRYWAY_CLIENT_SECRET": SECRET}
    )
    assert (client.env_url, client.client_id) == (ENV_URL, CLIENT_ID)
    with pytest.raises(ArgumentError, match="ENTRYWAY_CLIENT_ID, ENTRYWAY_CLIENT_SECRET"):
        EntrywayClient.from_env({"ENTRYWAY_ENV_URL": ENV_URL})


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENTRYWAY_ENV_URL", ENV_URL)
    monkeypatch.setenv("ENTRYWAY_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ENTRYWAY_CLIENT_SECRET", SECRET)
    assert EntrywayClient.from_env().client_id == CLIENT_ID


@pytest.mark.parametrize(
    ("selector", "value"),
    [
        ("connection_id", "conn_1"),
        ("organization_id", "org_1"),
        ("domain", "acme.com"),
        ("domain_hint", "acme.com"),
        ("login_hint", "jane@acme.com"),
    ],
)
def test_authorization_url_carries_each_selector(offline, selector: str, value: str) -> None:
    client, server = offline
    url = client.get_authorization_url(
        "https://app.test/cb", state="s", nonce="n", code_challenge="c" * 43, **{selector: value}
    )
    assert url.startswith(ENV_URL + "/oauth/authorize?")
    got = params(url)
    assert got[selector] == value
    assert got["response_type"] == "code"
    assert got["client_id"] == CLIENT_ID
    assert got["redirect_uri"] == "https://app.test/cb"
    assert got["scope"] == "openid profile email"
    assert (got["state"], got["nonce"]) == ("s", "n")
    assert got["code_challenge_method"] == "S256"
    assert server.requests == []


def test_authorization_request_generates_state_nonce_and_pkce(offline) -> None:
    client, _ = offline
    first = client.create_authorization_request("https://app.test/cb", login_hint="jane@acme.com")
    second = client.create_authorization_request("https://app.test/cb", login_hint="jane@acme.com")
    got = params(first.url)
    assert got["state"] == first.state and got["nonce"] == first.nonce
    assert got["code_challenge"] == code_challenge(first.code_verifier)
    assert first.state != second.state and first.code_verifier != second.code_verifier


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "connection selector"),
        ({"connection_id": "org_1"}, "conn_"),
        ({"organization_id": "conn_1"}, "org_"),
        ({"login_hint": "not-an-email"}, "email"),
        ({"domain": ""}, "domain"),
        ({"domain": "acme.com", "code_challenge": "c" * 43, "code_challenge_method": "plain"}, "S256"),
        ({"domain": "acme.com", "code_challenge_method": "S256"}, "code_challenge"),
        ({"domain": "acme.com", "scopes": ["profile"]}, "openid"),
        ({"domain": "acme.com", "scopes": "openid"}, "list"),
        ({"domain": "acme.com", "state": "a\nb"}, "control"),
    ],
)
def test_bad_authorization_arguments(offline, kwargs: dict[str, object], message: str) -> None:
    client, server = offline
    with pytest.raises(ArgumentError, match=message):
        client.get_authorization_url("https://app.test/cb", **kwargs)
    with pytest.raises(ArgumentError):
        client.get_authorization_url("/relative", domain="acme.com")
    assert server.requests == []


def test_logout_url(offline) -> None:
    client, _ = offline
    assert client.get_logout_url() == ENV_URL + "/oidc/logout"
    url = client.get_logout_url(id_token_hint="t", post_logout_redirect_uri="https://app.test/bye", state="s")
    assert params(url) == {"id_token_hint": "t", "post_logout_redirect_uri": "https://app.test/bye", "state": "s"}
    with pytest.raises(ArgumentError, match="post_logout_redirect_uri"):
        client.get_logout_url(post_logout_redirect_uri="bye")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.authenticate_with_code("", "https://app.test/cb"),
        lambda c: c.authenticate_with_code("code", "no-url"),
        lambda c: c.authenticate_with_code("code", "https://app.test/cb", code_verifier=""),
        lambda c: c.validate_token(""),
        lambda c: c.get_idp_initiated_login_claims(None),
        lambda c: c.organizations.create(""),
        lambda c: c.organizations.create("Acme", metadata={"a": 1}),
        lambda c: c.organizations.create("Acme", colour="red"),
        lambda c: c.organizations.create("Acme", logo_url="logo.png"),
        lambda c: c.organizations.get("conn_1"),
        lambda c: c.organizations.update("org_1"),
        lambda c: c.organizations.list(page_size=0),
        lambda c: c.organizations.list(page_size=101),
        lambda c: c.organizations.list_all(page_size=True),
        lambda c: c.organizations.get_by_external_id(""),
        lambda c: c.domains.create("org_1", "acme.com", "WEIRD"),
        lambda c: c.domains.get("org_1", "org_2"),
        lambda c: c.domains.list_all("nope"),
        lambda c: c.connections.create("org_1", type="LDAP", provider="OKTA"),
        lambda c: c.connections.create("org_1", type="SAML", provider="ACME"),
        lambda c: c.connections.create("org_1", type="SAML", provider="OKTA", saml_config=["x"]),
        lambda c: c.connections.update("org_1", "conn_1"),
        lambda c: c.connections.enable("org_1", "dom_1"),
        lambda c: c.connections.list(organization_id="x"),
    ],
)
def test_management_arguments_are_checked_before_any_request(offline, call) -> None:
    client, server = offline
    with pytest.raises(ArgumentError):
        call(client)
    assert server.requests == []
