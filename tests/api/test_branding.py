"""The branding API: validated, field-named 400s that change nothing, contrast warnings, previews that save nothing."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from tests.api.conftest import client_with, token_for
from tests.support.images import LOGO_SVG, ico, png

ENV_URL = "http://localhost:8000"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def violations(answer: object) -> dict[str, str]:
    body = answer.json()  # type: ignore[attr-defined]
    found = body["details"][0]["validation_error_info"]["field_violations"]
    return {v["field"]: v["description"] for v in found}


def test_an_unbranded_environment_shows_the_defaults(api: TestClient) -> None:
    answer = api.get("/api/v1/environment/branding")
    assert answer.status_code == 200
    branding = answer.json()["branding"]
    assert branding["display_name"] is None and branding["logo"] is None
    assert branding["resolved"] == {
        "display_name": "Entryway",
        "accent_color": "#3b5bdb",
        "accent_foreground": "#ffffff",
        "link_color": "#3b5bdb",
        "logo_url": None,
        "favicon_url": f"{ENV_URL}/branding/default/favicon.svg",
    }
    assert answer.json()["warnings"] == []


def test_branding_is_saved_and_served(api: TestClient) -> None:
    answer = api.patch(
        "/api/v1/environment/branding",
        json={
            "display_name": "  Acme  ",
            "accent_color": "#1A237E",
            "logo": "data:image/png;base64," + b64(png(120, 40)),
            "favicon": b64(ico(png(16, 16))),
        },
    )
    assert answer.status_code == 200, answer.text
    branding = answer.json()["branding"]
    assert (branding["display_name"], branding["accent_color"]) == ("Acme", "#1a237e")
    assert branding["logo"]["content_type"] == "image/png" and branding["logo"]["width"] == 120
    assert branding["favicon"]["content_type"] == "image/x-icon"
    logo = api.get(branding["logo"]["url"])
    assert logo.status_code == 200 and logo.content == png(120, 40) and logo.headers["content-type"] == "image/png"
    icon = api.get(branding["favicon"]["url"])
    assert icon.headers["content-type"] == "image/x-icon"
    page = api.get("/oauth/authorize").text  # a branded error page
    assert branding["logo"]["url"].removeprefix(ENV_URL) in page and "--accent: #1a237e;" in page
    # An absent field is unchanged; null goes back to the default.
    again = api.patch("/api/v1/environment/branding", json={"logo": None}).json()["branding"]
    assert again["logo"] is None and again["display_name"] == "Acme" and again["favicon"] is not None
    assert api.get(branding["logo"]["url"]).status_code == 404  # an image nothing uses is deleted


def test_an_svg_logo_is_stored_sanitized_and_served_in_a_sandbox(api: TestClient) -> None:
    branding = api.patch("/api/v1/environment/branding", json={"logo": b64(LOGO_SVG)}).json()["branding"]
    served = api.get(branding["logo"]["url"])
    assert served.headers["content-type"] == "image/svg+xml"
    assert b"inkscape" not in served.content and b"<!--" not in served.content
    assert "sandbox" in served.headers["content-security-policy"]


def test_bad_input_names_every_field_and_changes_nothing(api: TestClient) -> None:
    api.patch("/api/v1/environment/branding", json={"display_name": "Acme", "accent_color": "#1a237e"})
    before = api.get("/api/v1/environment/branding").json()
    script_svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    answer = api.patch(
        "/api/v1/environment/branding",
        json={
            "display_name": "",
            "accent_color": "blue",
            "logo": b64(script_svg),
            "favicon": b64(png(4, 4) + b"trailing"),
        },
    )
    assert answer.status_code == 400
    found = violations(answer)
    assert set(found) == {"display_name", "accent_color", "logo", "favicon"}
    assert "#rrggbb" in found["accent_color"] and "<script>" in found["logo"] and "IEND" in found["favicon"]
    assert api.get("/api/v1/environment/branding").json() == before


def test_a_valid_field_is_not_saved_when_another_is_invalid(api: TestClient) -> None:
    answer = api.patch("/api/v1/environment/branding", json={"display_name": "Acme", "logo": "not base64!"})
    assert answer.status_code == 400 and set(violations(answer)) == {"logo"}
    assert api.get("/api/v1/environment/branding").json()["branding"]["display_name"] is None


def test_oversized_images_and_unknown_fields_are_400s(api: TestClient) -> None:
    big = png(4, 4) + b"\x00" * (300 * 1024)
    answer = api.patch("/api/v1/environment/branding", json={"logo": b64(big)})
    assert answer.status_code == 400 and "262,144 bytes" in violations(answer)["logo"]
    answer = api.patch("/api/v1/environment/branding", json={"colour": "#fff"})
    assert answer.status_code == 400 and violations(answer) == {"colour": "unknown field"}
    answer = api.patch("/api/v1/environment/branding", json={"logo": "A" * (600 * 1024)})
    assert answer.status_code == 413


def test_a_hard_to_read_accent_is_saved_with_a_warning(api: TestClient) -> None:
    answer = api.patch("/api/v1/environment/branding", json={"accent_color": "#ffeb3b"})
    assert answer.status_code == 200
    assert answer.json()["branding"]["accent_color"] == "#ffeb3b"
    warnings = answer.json()["warnings"]
    assert warnings[0]["field"] == "accent_color" and warnings[0]["contrast_ratio"] < 3
    assert answer.json()["branding"]["resolved"]["accent_foreground"] == "#1d2330"


def test_organization_overrides(api: TestClient, seed: DevSeed) -> None:
    api.patch("/api/v1/environment/branding", json={"display_name": "Acme", "accent_color": "#1a237e"})
    url = f"/api/v1/organizations/{seed.organization_id}/branding"
    answer = api.patch(url, json={"display_name": "Acme for Test Org", "logo": b64(png(64, 32))})
    assert answer.status_code == 200, answer.text
    branding = answer.json()["branding"]
    assert branding["resolved"]["display_name"] == "Acme for Test Org"
    assert branding["resolved"]["accent_color"] == "#1a237e"
    assert branding["resolved"]["logo_url"] == branding["logo"]["url"]
    # The environment's own branding is untouched by an organization's override.
    assert api.get("/api/v1/environment/branding").json()["branding"]["resolved"]["display_name"] == "Acme"
    assert api.patch(url, json={"accent_color": "#000000"}).status_code == 400  # environment-wide only
    assert api.get("/api/v1/organizations/org_doesnotexist/branding").status_code == 404
    reset = api.patch(url, json={"display_name": None, "logo": None}).json()["branding"]
    assert reset["resolved"]["display_name"] == "Acme" and reset["logo"] is None


def test_a_preview_renders_unsaved_branding_and_saves_nothing(api: TestClient) -> None:
    answer = api.post(
        "/api/v1/environment/branding:preview",
        json={"branding": {"display_name": "Preview Co", "accent_color": "#ffeb3b", "logo": b64(png(10, 10))}},
    )
    assert answer.status_code == 200, answer.text
    preview = answer.json()["preview"]
    assert preview["branding"]["display_name"] == "Preview Co"
    assert preview["branding"]["logo_url"].startswith("data:image/png;base64,")
    assert 'alt="Preview Co"' in preview["html"] and "not saved" in preview["html"]
    assert answer.json()["warnings"][0]["field"] == "accent_color"
    assert api.get("/api/v1/environment/branding").json()["branding"]["display_name"] is None
    html = api.post(
        "/api/v1/environment/branding:preview",
        json={"page": "error", "branding": {"accent_color": "#1a237e"}},
        headers={"Accept": "text/html"},
    )
    assert html.headers["content-type"].startswith("text/html")
    assert "Sign-in failed" in html.text and "--accent: #1a237e;" in html.text
    assert "frame-ancestors 'none'" in html.headers["content-security-policy"]


def test_a_preview_with_bad_input_is_a_field_named_400(api: TestClient, seed: DevSeed) -> None:
    answer = api.post(
        "/api/v1/environment/branding:preview",
        json={"organization_id": seed.organization_id, "organization_branding": {"logo": b64(b"GIF89a....")}},
    )
    assert answer.status_code == 400 and "not a PNG, SVG or WebP image" in violations(answer)["logo"]


def test_reading_and_writing_need_their_scopes(rt: Runtime, seed: DevSeed) -> None:
    with client_with(rt, seed, token_for(rt, seed, ["environment:read"])) as reader:
        assert reader.get("/api/v1/environment/branding").status_code == 200
        assert reader.patch("/api/v1/environment/branding", json={"display_name": "x"}).status_code == 403
    with client_with(rt, seed, None) as anonymous:
        assert anonymous.get("/api/v1/environment/branding").status_code == 401
