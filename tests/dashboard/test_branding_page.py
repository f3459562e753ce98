"""The dashboard's branding page: saved values reach every hosted page, the preview draws unsaved values,
bad input is refused with the reason and changes nothing."""

from __future__ import annotations

import struct
import zlib

from sqlalchemy import select

from entryway.runtime import Runtime
from entryway.services.bootstrap import DevSeed
from entryway.store.tables import environment_branding
from tests.dashboard.conftest import Browser, hidden


def png(width: int = 64, height: int = 64) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x22\x44\x88" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _row(rt: Runtime, seed: DevSeed):  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return conn.execute(
            select(environment_branding).where(environment_branding.c.environment_id == seed.environment.id)
        ).first()


def _post(browser: Browser, data: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None):  # type: ignore[no-untyped-def]
    csrf = hidden(browser.get("/dashboard/branding").text, "csrf_token")
    return browser.http.post(
        "/dashboard/branding", data={"csrf_token": csrf, **data}, files=files or {}, follow_redirects=False
    )


def test_saved_branding_reaches_the_hosted_error_page(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    response = _post(
        browser, {"display_name": "Acme Login", "accent_color": "#224488"}, {"logo": ("logo.png", png(), "image/png")}
    )
    assert response.status_code == 303, response.text
    row = _row(rt, seed)
    assert row.display_name == "Acme Login" and row.accent_color == "#224488" and row.logo_image_id
    error_page = browser.get("/oauth/authorize?client_id=nope")  # an error page users may meet
    assert "Acme Login" in error_page.text and "#224488" in error_page.text


def test_bad_or_empty_input_changes_nothing(browser: Browser, rt: Runtime, seed: DevSeed) -> None:
    bad = _post(browser, {"display_name": "Acme", "accent_color": "blue-ish"})
    assert bad.status_code == 400 and "accent_color" in bad.text
    assert 'value="blue-ish"' in bad.text  # kept in the form
    assert _row(rt, seed) is None
    empty = _post(browser, {})
    assert empty.status_code == 400 and "Change at least one field" in empty.text
    not_an_image = _post(browser, {}, {"logo": ("logo.png", b"not an image at all", "image/png")})
    assert not_an_image.status_code == 400 and "logo" in not_an_image.text
    assert _row(rt, seed) is None


def test_the_preview_draws_unsaved_values_and_is_framed_only_by_the_dashboard(
    browser: Browser, rt: Runtime, seed: DevSeed
) -> None:
    preview = browser.get(
        "/dashboard/branding/preview", params={"display_name": "Draft Name", "accent_color": "#aa3300"}
    )
    assert preview.status_code == 200
    assert "Draft Name" in preview.text and "#aa3300" in preview.text
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    half_typed = browser.get("/dashboard/branding/preview", params={"accent_color": "#aa"})
    assert half_typed.status_code == 200  # a colour still being typed keeps the stored one
    assert _row(rt, seed) is None  # nothing saved
