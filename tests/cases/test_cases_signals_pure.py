from datetime import UTC, datetime, timedelta, timezone

from wefirst.cases.signals_pure import (
    MILESTONES,
    crossed_milestones,
    densify,
    hour_of,
    hourly_counts,
    recent_velocity,
)

T0 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_milestones_crossed_exactly_once() -> None:
    assert crossed_milestones(0, 9) == []
    assert crossed_milestones(9, 10) == [10]
    assert crossed_milestones(10, 11) == []
    assert crossed_milestones(5, 150) == [10, 100]
    assert crossed_milestones(99, 1000) == [100, 1000]
    assert MILESTONES[:3] == (10, 100, 1000)


def test_hour_of_handles_naive_and_other_zones() -> None:
    assert hour_of(datetime(2026, 11, 26, 7, 59, 59)) == T0
    paris = timezone(timedelta(hours=1))
    assert hour_of(datetime(2026, 11, 26, 8, 30, tzinfo=paris)) == T0


def test_hourly_counts_are_sparse_and_sorted() -> None:
    times = [T0 + timedelta(minutes=m) for m in (130, 5, 59, 61)]
    assert hourly_counts(times) == [
        (T0, 2),
        (T0 + timedelta(hours=1), 1),
        (T0 + timedelta(hours=2), 1),
    ]
    assert hourly_counts([]) == []


def test_densify_and_velocity() -> None:
    series = [(T0, 2), (T0 + timedelta(hours=3), 5)]
    dense = densify(series, T0, T0 + timedelta(hours=3, minutes=10))
    assert [c for _, c in dense] == [2, 0, 0, 5]
    now = T0 + timedelta(hours=3, minutes=40)
    assert recent_velocity(series, now) == 5
    assert recent_velocity(series, now, hours=4) == 7
    assert recent_velocity(series, now + timedelta(hours=1)) == 0
