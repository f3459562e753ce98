"""Real image files made from their specifications (PNG, ICO, WebP headers), for the branding tests."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int = 4, height: int = 4, *, rgba: tuple[int, int, int, int] = (59, 91, 219, 255)) -> bytes:
    """A solid RGBA PNG, every chunk and CRC as the PNG specification has them."""
    row = b"\x00" + bytes(rgba) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(row * height))
        + _chunk(b"IEND", b"")
    )


def png_bomb(side: int) -> bytes:
    """A tiny file whose header claims `side`x`side` pixels and whose zlib stream inflates far past it."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(b"\x00" * (side * side * 4 * 10)))
        + _chunk(b"IEND", b"")
    )


def ico(*images: bytes) -> bytes:
    """An ICO directory over PNG images (each given as PNG bytes)."""
    offset = 6 + 16 * len(images)
    head = struct.pack("<HHH", 0, 1, len(images))
    entries, body = b"", b""
    for image in images:
        width, height = struct.unpack(">II", image[16:24])
        entries += struct.pack("<BBBBHHII", width % 256, height % 256, 0, 0, 1, 32, len(image), offset + len(body))
        body += image
    return head + entries + body


def webp_lossless(width: int, height: int) -> bytes:
    """A RIFF/WEBP file with a VP8L chunk header declaring the size (the pixel stream is not decoded)."""
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 3
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


LOGO_SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by an editor -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" viewBox="0 0 100 40" inkscape:version="1.3">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#3b5bdb"/><stop offset="1" stop-color="#1a237e"/>
  </linearGradient></defs>
  <title>Acme</title>
  <rect width="40" height="40" rx="8" fill="url(#g)"/>
  <use xlink:href="#g"/>
  <text x="48" y="27" font-size="20">Acme</text>
</svg>
"""
