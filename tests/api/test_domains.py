"""Organization domains over the API, and DNS TXT verification against a real DNS server on loopback."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.api.checks import assert_error, dump
from tests.api.fake_dns import DnsServer


def base(org_id: str) -> str:
    return f"/api/v1/organizations/{org_id}/domains"


@pytest.fixture
def org_id(api: TestClient) -> str:
    response = api.post("/api/v1/organizations", json={"display_name": "Acme"})
    return str(response.json()["organization"]["id"])


def add(api: TestClient, org_id: str, domain: str, **extra: str) -> dict[str, object]:
    response = api.post(base(org_id), json={"domain": domain, **extra})
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()["domain"]
    return created


def test_add_returns_the_domain_pending_with_its_txt_record(api: TestClient, org_id: str) -> None:
    dom = add(api, org_id, "Acme.COM.")
    assert str(dom["id"]).startswith("dom_")
    assert dom["domain"] == "acme.com" and dom["domain_type"] == "ORGANIZATION_DOMAIN"
    assert dom["verification_status"] == "PENDING"
    record = dom["verification_record"]
    assert isinstance(record, dict)
    assert record["type"] == "TXT" and record["name"] == "_entryway-verification.acme.com"
    assert str(record["value"]).startswith("entryway-verification=")
    assert api.get(f"{base(org_id)}/{dom['id']}").json() == {"domain": dom}
    allowed = add(api, org_id, "acme.io", domain_type="ALLOWED_EMAIL_DOMAIN")
    assert allowed["domain_type"] == "ALLOWED_EMAIL_DOMAIN"


def test_internationalized_names_are_stored_as_a_labels_and_found_either_way(
    rt: Runtime, api: TestClient, org_id: str
) -> None:
    dom = add(api, org_id, "bücher.de")
    assert dom["domain"] == "xn--bcher-kva.de"
    from entryway.services.domains import find_by_domain

    with rt.engine.connect() as conn:
        env_id = str(api.get("/api/v1/environment").json()["environment"]["id"])
        assert find_by_domain(conn, env_id, "BÜCHER.de") is not None
        assert find_by_domain(conn, env_id, "xn--bcher-kva.de") is not None


@pytest.mark.parametrize(
    "bad",
    [
        "*.acme.com",
        "acme.*",
        "localhost",
        "com",
        "192.168.1.10",
        "[::1]",
        "https://acme.com",
        "jane@acme.com",
        "acme.com/path",
        "-acme.com",
        "acme-.com",
        "ac_me.com",
        "a..com",
        "acme.123",
        ("a" * 64) + ".com",
        ".".join(["abcdefghi"] * 26) + ".com",
        "",
        "exa mple.com",
    ],
)
def test_invalid_domain_names_are_400(rt: Runtime, api: TestClient, org_id: str, bad: str) -> None:
    before = dump(rt.engine)
    assert_error(api.post(base(org_id), json={"domain": bad}), 400, "domain")
    assert dump(rt.engine) == before


def test_all_violations_are_listed(api: TestClient, org_id: str) -> None:
    response = api.post(base(org_id), json={"domain": "*.acme.com", "domain_type": "WHATEVER", "verified": True})
    assert_error(response, 400, "domain_type", "verified")
    response = api.post(base(org_id), json={"domain": 7})
    assert_error(response, 400, "domain")


def test_a_domain_used_anywhere_in_the_environment_is_409(
    rt: Runtime, api: TestClient, org_id: str, seed: DevSeed
) -> None:
    before = dump(rt.engine)
    assert_error(api.post(base(org_id), json={"domain": "example.com"}), 409, "domain")  # the Test Organization's
    assert_error(api.post(base(org_id), json={"domain": "EXAMPLE.org"}), 409, "domain")
    assert dump(rt.engine) == before


def test_list_get_delete_and_404s(api: TestClient, org_id: str, seed: DevSeed) -> None:
    made = [add(api, org_id, f"d{i}.acme.com")["id"] for i in range(3)]
    page = api.get(base(org_id), params={"page_size": 2}).json()
    assert page["total_size"] == 3 and len(page["domains"]) == 2 and page["next_page_token"]
    rest = api.get(base(org_id), params={"page_token": page["next_page_token"]}).json()
    assert [d["id"] for d in page["domains"] + rest["domains"]] == made
    assert api.delete(f"{base(org_id)}/{made[0]}").json() == {}
    assert_error(api.get(f"{base(org_id)}/{made[0]}"), 404)
    assert_error(api.delete(f"{base(org_id)}/{made[0]}"), 404)
    # a domain is reached only through its own organization
    assert_error(api.get(f"{base(seed.organization_id)}/{made[1]}"), 404)
    assert_error(api.get(base("org_nope")), 404)
    assert_error(api.post(base("org_nope"), json={"domain": "new.acme.com"}), 404)


def test_verify_finds_the_txt_record(api: TestClient, org_id: str, dns_server: DnsServer) -> None:
    dom = add(api, org_id, "acme.com")
    record = dom["verification_record"]
    assert isinstance(record, dict)
    dns_server.txt[str(record["name"])] = ["v=spf1 -all", str(record["value"])]
    response = api.patch(f"{base(org_id)}/{dom['id']}:verify")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["domain"]["verification_status"] == "VERIFIED"
    assert "_entryway-verification.acme.com" in dns_server.queries
    assert api.get(f"{base(org_id)}/{dom['id']}").json()["domain"]["verification_status"] == "VERIFIED"
    # the record removed later: a verified domain stays verified
    dns_server.txt.clear()
    again = api.patch(f"{base(org_id)}/{dom['id']}:verify").json()
    assert again["verified"] is False and again["domain"]["verification_status"] == "VERIFIED"


def test_verify_without_the_record_fails_and_says_what_to_publish(
    api: TestClient, org_id: str, dns_server: DnsServer
) -> None:
    dom = add(api, org_id, "acme.com")
    record = dom["verification_record"]
    assert isinstance(record, dict)
    missing = api.patch(f"{base(org_id)}/{dom['id']}:verify").json()
    assert missing["verified"] is False and missing["domain"]["verification_status"] == "FAILED"
    assert "does not exist" in missing["dns_check"]["message"]
    assert missing["dns_check"]["expected_value"] == record["value"]
    dns_server.txt[str(record["name"])] = ["entryway-verification=someone-elses-token"]
    wrong = api.patch(f"{base(org_id)}/{dom['id']}:verify").json()
    assert wrong["verified"] is False
    assert wrong["dns_check"]["found_values"] == ["entryway-verification=someone-elses-token"]
    # a record on the domain itself, not on the _entryway-verification label, does not count
    dns_server.txt["acme.com"] = [str(record["value"])]
    assert api.patch(f"{base(org_id)}/{dom['id']}:verify").json()["verified"] is False


def test_verify_of_an_unknown_domain_is_404(api: TestClient, org_id: str) -> None:
    assert_error(api.patch(f"{base(org_id)}/dom_nope:verify"), 404)
