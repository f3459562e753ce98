"""SVG logos and favicons: accepted only when every element and attribute is on a closed allow-list of plain
vector drawing, then stored as Entryway re-serialized them (comments, processing instructions and editor
metadata gone).

Anything that can run script, load something or reach outside the document — `<script>`, `<foreignObject>`,
`<image>`, `<style>`, event attributes, links other than to `#fragments`, `url(…)` other than `url(#id)` — is
refused with the offending name, not silently dropped: the uploader learns why and what we store is what they
sent. The XML is parsed the way SAML is (DESIGN §4): no DTD, no entities, no network. The images are still
served with a sandboxing CSP and `nosniff` (web/brand_assets.py), so a sanitizer miss cannot run in our origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
# Drawing editors' bookkeeping: harmless, and dropped rather than refused so that exported files upload as-is.
EDITOR_NAMESPACES = frozenset(
    {
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.inkscape.org/namespaces/inkscape",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://purl.org/dc/elements/1.1/",
        "http://creativecommons.org/ns#",
        "http://ns.adobe.com/AdobeIllustrator/10.0/",
        "http://ns.adobe.com/Extensibility/1.0/",
        "http://ns.adobe.com/SaveForWeb/1.0/",
        "http://www.bohemiancoding.com/sketch/ns",
        "http://www.figma.com/figma/ns",
    }
)

ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "metadata", "symbol", "use", "path", "rect", "circle", "ellipse",
        "line", "polyline", "polygon", "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath",
        "mask", "pattern",
    }
)  # fmt: skip
ATTRIBUTES = frozenset(
    {
        "id", "class", "width", "height", "viewBox", "preserveAspectRatio", "version", "baseProfile", "x", "y",
        "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "d", "points", "pathLength",
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin",
        "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "stroke-opacity", "opacity", "transform",
        "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "clip-path",
        "clip-rule", "clipPathUnits", "mask", "maskUnits", "maskContentUnits", "patternUnits",
        "patternContentUnits", "patternTransform", "font-family", "font-size", "font-weight", "font-style",
        "text-anchor", "dominant-baseline", "letter-spacing", "word-spacing", "dx", "dy", "rotate", "textLength",
        "lengthAdjust", "style", "display", "visibility", "color", "paint-order", "vector-effect",
        "shape-rendering", "text-rendering", "overflow", "role", "aria-label", "aria-hidden", "focusable",
        "href", "enable-background", "mix-blend-mode", "isolation",
    }
)  # fmt: skip
_URL = re.compile(r"url\s*\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
_FORBIDDEN_IN_VALUES = re.compile(r"javascript:|data:|@import|expression\s*\(|behavior\s*:|-moz-binding", re.I)
MAX_DEPTH = 64
MAX_ELEMENTS = 10_000


class SvgError(ValueError):
    """The SVG is refused; the message names what in it is not accepted."""


@dataclass(frozen=True)
class CleanSvg:
    data: bytes


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _split(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


def _check_value(element: str, attribute: str, value: str) -> None:
    for target in _URL.findall(value):
        if not target.startswith("#"):
            raise SvgError(f"<{element}> {attribute} refers to {target!r}; only url(#id) references are allowed")
    if _FORBIDDEN_IN_VALUES.search(value):
        raise SvgError(f"<{element}> {attribute} holds a script, data URI or stylesheet import")


def sanitize_svg(data: bytes) -> CleanSvg:
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise SvgError("the SVG has a DOCTYPE or entity declarations; remove them")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise SvgError(f"the SVG is not well-formed XML: {exc.msg}") from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise SvgError('the file\'s root element must be <svg xmlns="http://www.w3.org/2000/svg">')
    count = 0
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments and PIs are removed by the parser; entities cannot occur
            continue
        ns, local = _split(element.tag)
        if ns in EDITOR_NAMESPACES:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        count += 1
        if count > MAX_ELEMENTS:
            raise SvgError(f"the SVG has more than {MAX_ELEMENTS:,} elements")
        if sum(1 for _ in element.iterancestors()) >= MAX_DEPTH:
            raise SvgError(f"the SVG nests elements more than {MAX_DEPTH} deep")
        if ns != SVG_NS or local not in ELEMENTS:
            raise SvgError(f"<{local}> is not allowed in a logo or favicon (only plain vector shapes and text)")
        if local == "metadata":
            element.clear()  # free-form content; drop it whatever it holds
            continue
        for name in list(element.attrib):
            ans, alocal = _split(name)
            if ans in EDITOR_NAMESPACES:
                del element.attrib[name]
                continue
            value = element.attrib[name]
            if alocal.lower().startswith("on"):
                raise SvgError(f"<{local}> has an event handler attribute ({alocal}); scripts are not allowed")
            if (ans, alocal) in ((None, "href"), (XLINK_NS, "href")):
                if not value.strip().startswith("#"):
                    raise SvgError(f"<{local}> links to {value!r}; only links within the file (#id) are allowed")
                continue
            if ans == XML_NS and alocal in ("space", "lang"):
                continue
            if ans is not None or alocal not in ATTRIBUTES:
                raise SvgError(f"<{local}> has an attribute {alocal!r} that is not allowed")
            _check_value(local, alocal, value)
        if element.text and element.text.strip() and local not in ("text", "tspan", "title", "desc"):
            raise SvgError(f"<{local}> holds text; only <text>, <tspan>, <title> and <desc> may")
    etree.cleanup_namespaces(root, top_nsmap={None: SVG_NS})
    return CleanSvg(etree.tostring(root, encoding="utf-8", xml_declaration=False))
