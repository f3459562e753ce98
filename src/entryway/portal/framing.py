"""Who may frame the portal: the origins of the environment's registered redirect URIs, and no one else.

The portal's Content-Security-Policy `frame-ancestors` lists exactly those origins, so a page of any other
origin that frames it gets a blank frame (the browser refuses to render it), and the UI events the portal
posts to its parent go to those origins only, never to "*".
"""

from __future__ import annotations

from urllib.parse import urlsplit

from entryway.model.environments import RedirectKind
from entryway.runtime import Runtime
from entryway.web.pages import BASE_CSP


def _origin(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None  # custom app schemes (myapp://) are native apps: they cannot frame a web page
    host = parts.hostname
    if "*" in host and not (host.startswith("*.") and "*" not in host[2:]):
        return None  # CSP accepts a wildcard only as a whole leftmost label (auth-*.acme.com cannot be said)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def app_origins(rt: Runtime, env_id: str) -> list[str]:
    """The registered app origins, in a stable order (wildcard ones included, in CSP syntax)."""
    from entryway.services.environments import cached_redirect_uris  # the redirect-URI cache, invalidated on edit

    found: dict[str, None] = {}
    for kind in RedirectKind:
        for redirect in cached_redirect_uris(rt, env_id, kind):
            origin = _origin(redirect.uri)
            if origin:
                found[origin] = None
    return list(found)


def exact_origins(origins: list[str]) -> list[str]:
    """The origins postMessage can target (a wildcard origin is not a targetOrigin)."""
    return [o for o in origins if "*" not in o]


def portal_csp(origins: list[str]) -> str:
    ancestors = " ".join(["'self'", *origins])
    return BASE_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
