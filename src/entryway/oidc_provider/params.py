"""Reading OAuth request parameters (RFC 6749 §3.1): each at most once, empty meaning absent.

"Parameters sent without a value MUST be treated as if they were omitted from the request ... Request and
response parameters MUST NOT be included more than once."
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Protocol


class MultiParams(Protocol):
    """A query string or form: names that may repeat (values are str; a multipart form could hold files)."""

    def getlist(self, key: Any) -> list[Any]: ...

    def __iter__(self) -> Iterator[str]: ...


class RepeatedParameter(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"the parameter {name} was given more than once")
        self.name = name


class MalformedParameter(Exception):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"the parameter {name} {problem}")
        self.name = name


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(value: str) -> bool:
    # A NUL would also be refused by PostgreSQL as a 500; refuse every control character as bad input.
    return _CONTROL.search(value) is not None


def single(params: MultiParams, name: str, *, max_length: int | None = None) -> str | None:
    """The one value of `name`, or None when it is absent or empty."""
    values = params.getlist(name)
    if len(values) > 1:
        raise RepeatedParameter(name)
    if not values or values[0] == "":
        return None
    value = values[0]
    if not isinstance(value, str):
        raise MalformedParameter(name, "is not text")
    if has_control_characters(value):
        raise MalformedParameter(name, "contains control characters")
    if max_length is not None and len(value) > max_length:
        raise MalformedParameter(name, f"is longer than {max_length} characters")
    return value


def first_repeated(params: MultiParams) -> str | None:
    """The name of a parameter that was given more than once, if any."""
    for name in params:
        if len(params.getlist(name)) > 1:
            return name
    return None
