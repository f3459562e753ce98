"""SAML protocol bindings (SAML bindings §3.4, §3.5): HTTP-Redirect (DEFLATE + base64 in the query) and
HTTP-POST (an auto-submitting form), in both directions: requests to the IdP, responses to the ACS.
"""

from __future__ import annotations

import base64
import re
import zlib
from urllib.parse import urlsplit

from starlette.responses import Response

from entryway.connectors.saml.parsing import decode_base64, inflate, malformed
from entryway.web.pages import BASE_CSP, render
from entryway.web.redirects import no_store_redirect
from entryway.web.urls import with_query

_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def b64(xml: bytes) -> str:
    return base64.b64encode(xml).decode("ascii")


def deflate_and_encode(xml: bytes) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return base64.b64encode(compressor.compress(xml) + compressor.flush()).decode("ascii")


def redirect(destination: str, params: dict[str, str]) -> Response:
    return no_store_redirect(with_query(destination, params))


def form_action_csp(target: str) -> str:
    """The page CSP, with form-action opened to the one origin the auto-submitting form posts to."""
    parts = urlsplit(target)
    origin = f"{parts.scheme}://{parts.netloc}"
    if not _ORIGIN.match(origin):
        raise ValueError("the form target is not an http(s) URL")
    return BASE_CSP.replace("form-action 'self'", f"form-action {origin}")


def post_form(target: str, fields: dict[str, str], *, title: str) -> Response:
    """The HTTP-POST binding: a page whose form posts `fields` to `target` as soon as it loads."""
    return render(
        "saml_post.html",
        {"title": title, "action": target, "fields": fields},
        csp=form_action_csp(target),
    )


def decode_request(value: str) -> bytes:
    """A SAMLRequest as an IdP receives it: base64, DEFLATE-compressed in the redirect binding, plain in POST."""
    raw = decode_base64(value, what="SAMLRequest")
    if raw.lstrip()[:1] == b"<":
        return raw
    try:
        return inflate(raw, what="SAMLRequest")
    except Exception as exc:
        raise malformed("The SAMLRequest is neither XML nor DEFLATE-compressed XML", "XML", "other bytes") from exc
