"""URLs Entryway sends a browser to: another party's endpoint with parameters added to its query string."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode


def with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added after whatever query it already has, and before its fragment if it has one.

    The endpoints this is given are checked to have no fragment when they are saved; placing the query before
    one anyway keeps a URL that slipped through from carrying the parameters where its server never sees them.
    """
    base, hash_mark, fragment = url.partition("#")
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(params)}{hash_mark}{fragment}"
