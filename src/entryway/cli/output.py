"""Human-readable output: aligned tables for lists, `field: value` lines for one resource."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from entryway.cli.context import emit_json


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items()) or "-"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[_text(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def fields(data: dict[str, Any], *, skip: Sequence[str] = ()) -> None:
    width = max((len(k) for k in data if k not in skip), default=0)
    for key, value in data.items():
        if key in skip:
            continue
        click.echo(f"{key.ljust(width)}  {_text(value)}")


def show(data: dict[str, Any], as_json: bool, *, skip: Sequence[str] = ()) -> None:
    """One resource: JSON as the API renders it, or `field value` lines."""
    if as_json:
        emit_json(data)
    else:
        fields(data, skip=skip)


def show_list(
    items: list[dict[str, Any]], as_json: bool, name: str, headers: Sequence[str], columns: Sequence[str]
) -> None:
    if as_json:
        emit_json({name: items, "total_size": len(items)})
    else:
        table(headers, [[item.get(c) for c in columns] for item in items])
