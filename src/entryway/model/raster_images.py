"""Raster image checks for branding uploads (PNG, WebP, ICO), from the bytes alone: the type is sniffed, never
taken from a file name or a declared content type.

PNG is checked through and through: every chunk's CRC, IHDR first and IEND last, and the zlib stream
inflated (within a bound set by the image's own size) to exactly the bytes its dimensions call for. WebP and
ICO are checked structurally (RIFF and directory bounds, the dimensions their headers declare); ICO's images
must themselves be PNG (checked as above) or BMP. Entryway never decodes pixels, and serves every image with
`nosniff`, so a browser can read it only as the type it was checked as.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass


class ImageError(ValueError):
    """The bytes are not an acceptable image; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class RasterImage:
    content_type: str
    width: int
    height: int


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# colour type -> (channels, allowed bit depths)
_PNG_COLOUR_TYPES = {0: (1, {1, 2, 4, 8, 16}), 2: (3, {8, 16}), 3: (1, {1, 2, 4, 8}), 4: (2, {8, 16}), 6: (4, {8, 16})}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def sniff(data: bytes) -> str | None:
    """The content type the bytes start like, or None."""
    if data.startswith(PNG_SIGNATURE):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"\x00\x00\x01\x00":
        return "image/x-icon"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def _png_scanline_bytes(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        pw = math.ceil((width - x0) / dx) if width > x0 else 0
        ph = math.ceil((height - y0) / dy) if height > y0 else 0
        if pw and ph:
            total += ph * (1 + math.ceil(pw * bits_per_pixel / 8))
    return total


def check_png(data: bytes) -> RasterImage:
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError("not a PNG file")
    pos, chunks = len(PNG_SIGNATURE), []
    idat = bytearray()
    while pos < len(data):
        if pos + 12 > len(data):
            raise ImageError("the PNG is truncated (a chunk header is cut off)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ImageError(f"the PNG is truncated (chunk {kind!r} runs past the end)")
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : end])
        if zlib.crc32(kind + body) != crc:
            raise ImageError(f"the PNG is corrupt (chunk {kind.decode('latin-1')!r} fails its CRC)")
        chunks.append((kind, body))
        if kind == b"IDAT":
            idat += body
        pos = end
        if kind == b"IEND":
            break
    if pos != len(data):
        raise ImageError("the PNG has data after its IEND chunk")
    if not chunks or chunks[0][0] != b"IHDR" or len(chunks[0][1]) != 13:
        raise ImageError("the PNG does not start with an IHDR header")
    if chunks[-1][0] != b"IEND":
        raise ImageError("the PNG is truncated (no IEND chunk)")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if width == 0 or height == 0:
        raise ImageError("the PNG has zero width or height")
    if colour not in _PNG_COLOUR_TYPES or depth not in _PNG_COLOUR_TYPES[colour][1]:
        raise ImageError(f"the PNG's colour type {colour} with bit depth {depth} is not valid")
    if compression != 0 or filtering != 0 or interlace not in (0, 1):
        raise ImageError("the PNG uses an unknown compression, filter or interlace method")
    if colour == 3 and not any(kind == b"PLTE" for kind, _ in chunks):
        raise ImageError("the PNG is palette-based but has no palette")
    if not idat:
        raise ImageError("the PNG has no image data")
    return RasterImage("image/png", width, height)


def check_png_pixels(data: bytes, image: RasterImage, max_pixels: int) -> None:
    """Inflate the image data, bounded: a decompression bomb stops at the size its header promises."""
    if image.width * image.height > max_pixels:
        raise ImageError(f"the image is {image.width}x{image.height} pixels; at most {max_pixels:,} pixels")
    ihdr = data[16:29]
    _, _, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    expected = _png_scanline_bytes(image.width, image.height, _PNG_COLOUR_TYPES[colour][0] * depth, interlace == 1)
    stream = bytearray()
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            stream += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(bytes(stream), expected + 1)
    except zlib.error as exc:
        raise ImageError("the PNG's image data is not a valid zlib stream") from exc
    if len(out) != expected or not inflater.eof:
        raise ImageError(f"the PNG's image data inflates to {len(out):,}+ bytes; its header calls for {expected:,}")


def check_webp(data: bytes) -> RasterImage:
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ImageError("not a WebP file")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 != len(data):
        raise ImageError("the WebP file's RIFF size does not match its length (truncated or padded)")
    pos, size = 12, None
    while pos < len(data):
        if pos + 8 > len(data):
            raise ImageError("the WebP file is truncated (a chunk header is cut off)")
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            raise ImageError(f"the WebP file is truncated (chunk {kind!r} runs past the end)")
        if size is None:
            size = _webp_size(kind, body)
        pos += 8 + length + (length & 1)
    if size is None:
        raise ImageError("the WebP file has no image chunk")
    return RasterImage("image/webp", *size)


def _webp_size(kind: bytes, body: bytes) -> tuple[int, int]:
    if kind == b"VP8X" and len(body) >= 10:
        return 1 + int.from_bytes(body[4:7], "little"), 1 + int.from_bytes(body[7:10], "little")
    if kind == b"VP8 " and len(body) >= 10 and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L" and len(body) >= 5 and body[0] == 0x2F:
        bits = int.from_bytes(body[1:5], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    raise ImageError("the WebP file does not start with a VP8, VP8L or VP8X image chunk")


MAX_ICO_IMAGES = 16


def check_ico(data: bytes) -> RasterImage:
    if len(data) < 6 or data[:4] != b"\x00\x00\x01\x00":
        raise ImageError("not an ICO file")
    (count,) = struct.unpack("<H", data[4:6])
    if not 1 <= count <= MAX_ICO_IMAGES:
        raise ImageError(f"the ICO file holds {count} images; 1 to {MAX_ICO_IMAGES} are accepted")
    if len(data) < 6 + 16 * count:
        raise ImageError("the ICO file is truncated (its directory is cut off)")
    largest = (0, 0)
    for i in range(count):
        entry = data[6 + 16 * i : 22 + 16 * i]
        width, height = entry[0] or 256, entry[1] or 256
        size, offset = struct.unpack("<II", entry[8:16])
        if offset < 6 + 16 * count or size == 0 or offset + size > len(data):
            raise ImageError(f"the ICO file's image {i + 1} lies outside the file")
        image = data[offset : offset + size]
        if image.startswith(PNG_SIGNATURE):
            check_png(image)
        elif len(image) < 40 or struct.unpack("<I", image[:4])[0] != 40:
            raise ImageError(f"the ICO file's image {i + 1} is neither PNG nor BMP")
        largest = max(largest, (width, height))
    return RasterImage("image/x-icon", *largest)
