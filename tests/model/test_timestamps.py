from datetime import UTC, datetime, timedelta, timezone

from entryway.model.timestamps import rfc3339


def test_a_moment_is_written_in_utc_with_z() -> None:
    assert rfc3339(datetime(2026, 11, 28, 16, 30, 5, tzinfo=UTC)) == "2026-11-28T16:30:05Z"


def test_another_offset_is_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 11, 28, 17, 30, 5, 250000, tzinfo=paris)) == "2026-11-28T16:30:05.250000Z"


def test_no_moment_stays_none() -> None:
    assert rfc3339(None) is None
