"""`entryway branding show|set|preview`."""

from __future__ import annotations

from pathlib import Path

from entryway.services.bootstrap import DevSeed
from tests.cli.conftest import Run, as_json
from tests.support.images import LOGO_SVG, png


def test_set_show_and_clear(run: Run, seed: DevSeed, tmp_path: Path) -> None:
    logo = tmp_path / "logo.svg"
    logo.write_bytes(LOGO_SVG)
    result = run("branding", "set", "--name", "Acme", "--accent", "#ffeb3b", "--logo", str(logo))
    assert "display_name: Acme" in result.stdout and "logo: image/svg+xml" in result.stdout
    assert "warning: accent_color:" in result.stderr  # saved, with the contrast warning
    shown = as_json(run("branding", "show", "--json"))
    assert shown["branding"]["accent_color"] == "#ffeb3b" and shown["warnings"]
    run("branding", "set", "--clear", "logo", "--clear", "accent_color")
    shown = as_json(run("branding", "show", "--json"))["branding"]
    assert shown["logo"] is None and shown["accent_color"] is None and shown["display_name"] == "Acme"


def test_bad_values_name_the_field_and_save_nothing(run: Run, seed: DevSeed, tmp_path: Path) -> None:
    fake = tmp_path / "logo.png"
    fake.write_bytes(b"GIF89a not a png")
    result = run("branding", "set", "--name", "Acme", "--accent", "blue", "--logo", str(fake), ok=False)
    assert "accent_color:" in result.output and "logo:" in result.output
    assert as_json(run("branding", "show", "--json"))["branding"]["display_name"] is None


def test_organization_overrides(run: Run, seed: DevSeed, tmp_path: Path) -> None:
    logo = tmp_path / "org.png"
    logo.write_bytes(png(32, 32))
    run("branding", "set", "--name", "Acme")
    run("branding", "set", "--org", seed.organization_id, "--name", "Acme for Test Org", "--logo", str(logo))
    shown = as_json(run("branding", "show", "--org", seed.organization_id, "--json"))["branding"]
    assert shown["resolved"]["display_name"] == "Acme for Test Org" and shown["logo"]["width"] == 32
    result = run("branding", "set", "--org", seed.organization_id, "--accent", "#000000", ok=False)
    assert "accent_color: unknown field" in result.output


def test_preview_writes_a_page_and_saves_nothing(run: Run, seed: DevSeed, tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(20, 20))
    out = tmp_path / "preview.html"
    run("branding", "preview", "--name", "Preview Co", "--accent", "#1a237e", "--logo", str(logo), "--out", str(out))
    html = out.read_text()
    assert 'alt="Preview Co"' in html and "data:image/png;base64," in html and "--accent: #1a237e;" in html
    assert as_json(run("branding", "show", "--json"))["branding"]["display_name"] is None
