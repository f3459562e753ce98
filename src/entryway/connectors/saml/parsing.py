"""Strict decoding and parsing of SAML messages (DESIGN §4 SAML 1), shared by the SP and the IdP simulator.

One lxml parser configuration for every SAML message: no DTD loading, no entity resolution, no network, no
huge-tree mode. A document that declares a DOCTYPE at all is refused, whatever it contains, so entity tricks
(billion laughs, XXE) never reach the code that reads values. Values are read with `text_of`, which joins
every text node, so a comment or processing instruction can never truncate them.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import zlib
from datetime import UTC, datetime

from lxml import etree

from entryway.model.errors import LoginError

# A SAML message of any real IdP is a few KB; the inflate limit stops deflate bombs in the redirect binding.
MAX_INFLATED_BYTES = 128 * 1024
# The line breaks and spaces IdPs wrap base64 with, dropped by bytes.translate: a regex substitution cost about
# 0.2 ms on a 9 kB SAMLResponse, twenty times as much.
_WHITESPACE = b" \t\r\n"

_local = threading.local()


def parser() -> etree.XMLParser:
    """This thread's strict parser (lxml parsers must not be shared between threads)."""
    found: etree.XMLParser | None = getattr(_local, "parser", None)
    if found is None:
        found = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
            remove_pis=False,
            collect_ids=False,
        )
        _local.parser = found
    return found


def malformed(message: str, wanted: str, got: str) -> LoginError:
    return LoginError.wanted_got("malformed_saml_response", message, wanted, got)


def decode_base64(value: str | bytes, *, what: str = "SAMLResponse") -> bytes:
    """Strict base64: line breaks and spaces (IdPs wrap at 64 or 76 columns) are the only tolerated extras."""
    raw = value.encode("ascii", "replace") if isinstance(value, str) else value
    compact = raw.translate(None, _WHITESPACE)
    if not compact:
        raise malformed(f"The {what} is empty", "base64-encoded XML", "an empty value")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise malformed(f"The {what} is not valid base64", "base64-encoded XML", "invalid base64") from exc


def inflate(data: bytes, *, what: str = "SAMLRequest") -> bytes:
    """Raw DEFLATE (the HTTP-Redirect binding), refusing output beyond MAX_INFLATED_BYTES."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise malformed(f"The {what} is not DEFLATE-compressed", "raw DEFLATE data", "undecodable data") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise malformed(
            f"The {what} inflates beyond the size limit or is truncated",
            f"at most {MAX_INFLATED_BYTES} bytes of XML",
            "more, or an incomplete stream",
        )
    return out


def parse_xml(data: bytes, *, what: str = "SAML message") -> etree._Element:
    """Parse one SAML message strictly; a DOCTYPE (and so any entity declaration) is refused outright."""
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as exc:
        raise malformed(f"The {what} is not well-formed XML", "well-formed XML", "unparsable XML") from exc
    if root is None:
        raise malformed(f"The {what} is empty", "an XML document", "nothing")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise malformed(f"The {what} declares a DOCTYPE", "XML without a DOCTYPE", "a DOCTYPE declaration")
    for _ in root.iter(etree.Entity):
        raise malformed(f"The {what} uses entity references", "XML without entities", "an entity reference")
    return root


def text_of(element: etree._Element | None) -> str | None:
    """The element's whole text content: every text node joined, so comments or PIs cannot cut a value short.

    lxml's itertext() yields the text and tails around comments and processing instructions but not their
    content, which is exactly the value that exclusive canonicalization (without comments) signed.
    """
    if element is None:
        return None
    return "".join(element.itertext()).strip()


def has_comment_or_pi(element: etree._Element) -> bool:
    return any(True for _ in element.iter(etree.Comment, etree.ProcessingInstruction))


def parse_instant(value: str | None) -> datetime | None:
    """An xs:dateTime as SAML sends it (UTC, 'Z', any fraction length); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?", text)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    fraction = (fraction or ".0")[:7]  # microseconds at most (Entra sends 7 digits)
    try:
        parsed = datetime.fromisoformat(base + fraction + ("+00:00" if zone in (None, "Z") else zone))
    except ValueError:
        return None
    return parsed.astimezone(UTC)


def format_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
