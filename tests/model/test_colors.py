"""Brand colour format and WCAG contrast arithmetic."""

from __future__ import annotations

import pytest

from entryway.model.colors import (
    DARK,
    WHITE,
    ColorError,
    contrast_ratio,
    contrast_warnings,
    parse_color,
    readable_foreground,
)


@pytest.mark.parametrize(("given", "stored"), [("#3B5BDB", "#3b5bdb"), ("#abc", "#aabbcc"), (" #000000 ", "#000000")])
def test_accepted_colours_are_stored_as_lower_case_rrggbb(given: str, stored: str) -> None:
    assert parse_color(given) == stored


@pytest.mark.parametrize(
    "given",
    ["red", "3b5bdb", "#3b5bd", "#3b5bdbff", "#ggg", "rgb(0,0,0)", "#fff;}body{display:none", "", None, 12],
)
def test_anything_else_is_refused(given: object) -> None:
    with pytest.raises(ColorError, match="#rrggbb"):
        parse_color(given)


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#3b5bdb", "#3b5bdb") == pytest.approx(1.0)


def test_foreground_is_whichever_reads_better() -> None:
    assert readable_foreground("#1a237e") == WHITE
    assert readable_foreground("#ffeb3b") == DARK


def test_a_readable_accent_has_no_warning() -> None:
    assert contrast_warnings("#3b5bdb") == []


def test_a_pale_accent_warns_about_the_page_not_the_buttons() -> None:
    warnings = contrast_warnings("#ffeb3b")
    assert [w.field for w in warnings] == ["accent_color"]
    assert "white page" in warnings[0].description and warnings[0].ratio < 3


def test_a_mid_tone_accent_warns_about_button_text() -> None:
    warnings = contrast_warnings("#888888")  # neither white nor dark text reaches 4.5:1 on it
    assert any("button text" in w.description for w in warnings)
