"""Branding image checks: the type comes from the bytes, sizes are capped, and only plain SVG drawing passes."""

from __future__ import annotations

import struct
import zlib

import pytest
from lxml import etree
from tests.support.images import LOGO_SVG, ico, png, png_bomb, webp_lossless

from entryway.model.brand_images import ImagePurpose, check_brand_image
from entryway.model.raster_images import ImageError

LOGO, FAVICON = ImagePurpose.LOGO, ImagePurpose.FAVICON


def test_a_png_logo_is_accepted_with_its_size() -> None:
    image = check_brand_image(png(120, 40), LOGO)
    assert (image.content_type, image.width, image.height) == ("image/png", 120, 40)
    assert image.data == png(120, 40)


def test_an_interlaced_png_is_measured_by_its_adam7_passes() -> None:
    width, height = 5, 3
    # Adam7 pass sizes for 5x3 RGBA: each reduced image's rows, one filter byte each.
    passes = [(1, 1), (1, 1), (2, 0), (1, 1), (3, 1), (2, 2), (5, 1)]
    raw = b"".join((b"\x00" + b"\x10" * 4 * w) * h for w, h in passes if w and h)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 1))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    assert check_brand_image(data, LOGO).width == 5


def test_the_type_is_sniffed_not_declared() -> None:
    with pytest.raises(ImageError, match="not a PNG, SVG or WebP image"):
        check_brand_image(b"GIF89a" + b"\x00" * 20, LOGO)
    with pytest.raises(ImageError, match="not a PNG, SVG or WebP image"):
        check_brand_image(b"\xff\xd8\xff\xe0 a jpeg", LOGO)


def test_an_ico_is_a_favicon_but_not_a_logo() -> None:
    icon = ico(png(16, 16), png(32, 32))
    image = check_brand_image(icon, FAVICON)
    assert (image.content_type, image.width, image.height) == ("image/x-icon", 32, 32)
    with pytest.raises(ImageError, match="ICO image is not accepted as the logo"):
        check_brand_image(icon, LOGO)


def test_webp_is_a_logo_but_not_a_favicon() -> None:
    image = check_brand_image(webp_lossless(200, 80), LOGO)
    assert (image.content_type, image.width, image.height) == ("image/webp", 200, 80)
    with pytest.raises(ImageError, match="WebP image is not accepted as the favicon"):
        check_brand_image(webp_lossless(32, 32), FAVICON)


def test_oversized_files_are_refused_before_anything_is_parsed() -> None:
    big = png(4, 4) + b"\x00" * (256 * 1024)
    with pytest.raises(ImageError, match="at most 262,144 bytes"):
        check_brand_image(big, LOGO)
    with pytest.raises(ImageError, match="at most 65,536 bytes"):
        check_brand_image(b"\x00" * (64 * 1024 + 1), FAVICON)


def test_too_many_pixels_are_refused() -> None:
    with pytest.raises(ImageError, match="1025x10 pixels; at most 1024x1024"):
        check_brand_image(png(1025, 10), LOGO)
    with pytest.raises(ImageError, match="at most 512x512"):
        check_brand_image(png(600, 600), FAVICON)


def test_a_decompression_bomb_stops_at_the_size_its_header_promises() -> None:
    with pytest.raises(ImageError, match="header calls for"):
        check_brand_image(png_bomb(64), LOGO)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: d[:-5], "truncated"),
        (lambda d: d[:20] + bytes([d[20] ^ 1]) + d[21:], "fails its CRC"),
        (lambda d: d + b"extra", "after its IEND"),
        (lambda d: d[:8] + d[33:], "does not start with an IHDR"),
    ],
)
def test_a_corrupt_png_is_refused(corrupt: object, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        check_brand_image(corrupt(png(8, 8)), LOGO)  # type: ignore[operator]


def test_a_truncated_webp_and_an_ico_pointing_outside_itself_are_refused() -> None:
    with pytest.raises(ImageError, match="RIFF size"):
        check_brand_image(webp_lossless(10, 10)[:-2], LOGO)
    broken = bytearray(ico(png(16, 16)))
    broken[18:22] = struct.pack("<I", 10_000)  # the entry's offset, far past the end
    with pytest.raises(ImageError, match="outside the file"):
        check_brand_image(bytes(broken), FAVICON)


def test_a_clean_svg_is_stored_without_comments_and_editor_metadata() -> None:
    image = check_brand_image(LOGO_SVG, LOGO)
    assert image.content_type == "image/svg+xml" and image.width is None
    assert b"<!--" not in image.data and b"inkscape" not in image.data and b"<?xml" not in image.data
    tree = etree.fromstring(image.data)
    assert tree.find("{http://www.w3.org/2000/svg}rect").get("fill") == "url(#g)"


SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<script>alert(1)</script>", "<script> is not allowed"),
        ('<rect onload="alert(1)"/>', "event handler attribute"),
        ('<a href="https://evil.example"><rect/></a>', "<a> is not allowed"),
        ('<image href="https://tracker.example/p.png"/>', "<image> is not allowed"),
        ('<use xlink:href="https://evil.example/s.svg#x"/>', "only links within the file"),
        ('<use href="data:image/svg+xml;base64,PHN2Zy8+"/>', "only links within the file"),
        ('<rect fill="url(https://tracker.example/x)"/>', r"only url\(#id\) references"),
        ('<rect style="background:url(//tracker.example/x)"/>', r"only url\(#id\) references"),
        ('<rect style="fill:red;behavior:url(#x)"/>', "script, data URI or stylesheet"),
        ("<style>@import url(https://evil.example/x.css);</style>", "<style> is not allowed"),
        ('<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>', "foreignObject"),
        ('<rect xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="click"/>', "'event' that is not allowed"),
        ("<set attributeName='fill' to='red'/>", "<set> is not allowed"),
        ("<animate attributeName='href' values='javascript:alert(1)'/>", "<animate> is not allowed"),
    ],
)
def test_an_svg_that_could_run_or_load_anything_is_refused(body: str, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        check_brand_image(SVG.format(body).encode(), LOGO)


def test_svg_entities_and_doctypes_are_refused_before_parsing() -> None:
    billion = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>'
    )
    with pytest.raises(ImageError, match="DOCTYPE"):
        check_brand_image(billion, LOGO)


def test_an_svg_must_be_well_formed_and_rooted_in_svg() -> None:
    with pytest.raises(ImageError, match="not well-formed"):
        check_brand_image(b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", LOGO)
    with pytest.raises(ImageError, match="root element must be <svg"):
        check_brand_image(b"<svg><rect/></svg>", LOGO)  # no SVG namespace
