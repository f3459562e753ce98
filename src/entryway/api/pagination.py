"""List pages (CONTRACT §5): `page_size` 1-100 and an opaque `page_token` naming where the last page ended.

Lists are ordered by ID, and IDs never change, so a token stays valid while items are added or removed: the
next page starts after the last ID seen. The token names the kind of list it belongs to, so one list's token
is refused by another.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from entryway.model.errors import FieldViolation, invalid

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
_MAX_TOKEN = 512

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    kind: str
    size: int
    after: str | None  # the sort key of the last item of the previous page

    @property
    def fetch(self) -> int:
        """How many rows to ask for: one more than a page, to learn whether another page follows."""
        return self.size + 1

    def respond(self, name: str, items: Sequence[T], render: Any, total: int, key: Any = None) -> dict[str, Any]:
        shown = list(items[: self.size])
        more = len(items) > self.size
        last_key = (key or (lambda item: item.id))(shown[-1]) if shown and more else None
        return {
            name: [render(item) for item in shown],
            "next_page_token": encode_token(self.kind, last_key) if last_key else "",
            "total_size": total,
        }


def encode_token(kind: str, key: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_token(kind: str, token: str) -> str | None:
    """The sort key in a token of this kind of list, or None when the token is not one."""
    if len(token) > _MAX_TOKEN:
        return None
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, sep, key = text.partition(":")
    if not sep or prefix != kind or not key or not key.isprintable():
        return None
    return key


def page_request(kind: str, page_size: str | None, page_token: str | None) -> PageRequest:
    problems: list[FieldViolation] = []
    size = DEFAULT_PAGE_SIZE
    if page_size not in (None, ""):
        try:
            size = int(page_size)
        except ValueError:
            problems.append(FieldViolation("page_size", f"must be a whole number from 1 to {MAX_PAGE_SIZE}"))
        else:
            if not 1 <= size <= MAX_PAGE_SIZE:
                problems.append(FieldViolation("page_size", f"must be from 1 to {MAX_PAGE_SIZE}"))
    after: str | None = None
    if page_token:
        after = decode_token(kind, page_token)
        if after is None:
            problems.append(FieldViolation("page_token", "is not a page token of this list (use next_page_token)"))
    if problems:
        raise invalid(problems, "The paging parameters are not valid")
    return PageRequest(kind, size, after)
