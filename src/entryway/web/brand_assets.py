"""Branding images, served by Entryway on each environment's own host (pages never load third-party content).

Stored images are content-addressed, so their URLs are cached for a year (`immutable`); a new logo is a new URL.
Every image answer carries `nosniff` and a sandboxing CSP: an SVG opened directly (not through `<img>`) can run
no script and load nothing, whatever the sanitizer might have missed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from entryway.services.branding import DEFAULT_FAVICON_URL, EXTENSIONS
from entryway.store.tables import brand_images
from entryway.web.requests import UnknownHost, current_environment, runtime

router = APIRouter(include_in_schema=False)

IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_DEFAULT_FAVICON = (Path(__file__).parent / "static" / "favicon.svg").read_bytes()
_YEAR = 365 * 24 * 3600


def _image_headers(etag: str, max_age: int, *, immutable: bool) -> dict[str, str]:
    cache = f"public, max-age={max_age}" + (", immutable" if immutable else "")
    return {
        "Cache-Control": cache,
        "ETag": f'"{etag}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": IMAGE_CSP,
        "Cross-Origin-Resource-Policy": "same-site",
    }


def _not_found() -> Response:
    return Response("no such image\n", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})


@router.get(DEFAULT_FAVICON_URL)
def default_favicon() -> Response:
    return Response(
        _DEFAULT_FAVICON, media_type="image/svg+xml", headers=_image_headers("default-1", 86400, immutable=False)
    )


@router.get("/branding/images/{name}")
def branding_image(request: Request, name: str) -> Response:
    """`<sha256>.<ext>`: the extension must be the one the stored type has, so a URL names exactly one answer."""
    digest, _, ext = name.partition(".")
    if len(digest) != 64 or ext not in EXTENSIONS.values():
        return _not_found()
    try:
        env = current_environment(request)
    except UnknownHost:
        return _not_found()
    etag = f'"{digest}"'
    with runtime(request).engine.connect() as conn:
        row = conn.execute(
            select(brand_images.c.content_type, brand_images.c.data).where(
                brand_images.c.environment_id == env.id, brand_images.c.id == digest
            )
        ).first()
    if row is None or EXTENSIONS.get(row.content_type) != ext:
        return _not_found()
    headers = _image_headers(digest, _YEAR, immutable=True)
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(bytes(row.data), media_type=row.content_type, headers=headers)
