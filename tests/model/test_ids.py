"""Resource IDs: prefixed, and in creation order (pagination and `ORDER BY id` rely on it)."""

from __future__ import annotations

import pytest

from entryway.ids import has_prefix, new_id


def test_ids_made_in_one_millisecond_are_still_ordered() -> None:
    made = [new_id("org") for _ in range(2000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_prefix() -> None:
    value = new_id("conn")
    assert value.startswith("conn_") and has_prefix(value, "conn")
    assert not has_prefix(value, "org")


def test_unknown_prefix_is_refused() -> None:
    with pytest.raises(ValueError):
        new_id("bogus")
