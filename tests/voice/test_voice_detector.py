from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

import pytest

from wefirst.voice.detector import (
    DetectorConfig,
    DetectorEvent,
    MobilizationDetector,
    Observation,
    binom_sf,
    nb_threshold,
)

from voice.voice_helpers import T0, diurnal, poisson


def feed(
    det: MobilizationDetector,
    hours: int,
    rng: random.Random,
    surge: dict[int, int] | None = None,
    brand: str = "acme",
) -> list[DetectorEvent]:
    events: list[DetectorEvent] = []
    surge = surge or {}
    n = 0
    for h in range(hours):
        start = T0 + timedelta(hours=h)
        for polarity, share in (("negative", 0.3), ("neutral", 0.5), ("positive", 0.2)):
            count = poisson(rng, diurnal(start.hour) * share * 3)
            if polarity == "negative":
                count += surge.get(h, 0)
            for i in range(count):
                n += 1
                at = start + timedelta(seconds=rng.randrange(3600))
                text = "refund scandal outrage" if polarity == "negative" and h in surge else "ok"
                events += det.observe(
                    Observation(
                        brand, polarity, at, f"p{n}-{i}", text, "Lost Luggage" if h in surge else None, i
                    )
                )
    events += det.advance(T0 + timedelta(hours=hours + 6))
    return events


def test_nb_threshold_matches_a_brute_force_tail() -> None:
    for mu, phi, alpha in [(3.0, 0.0, 1e-3), (12.5, 0.2, 1e-4), (0.2, 0.0, 0.05), (80, 0.05, 1e-3)]:
        t = nb_threshold(mu, phi, alpha)

        # recompute the tail by summing the pmf directly
        def sf(k: int, mu: float = mu, phi: float = phi) -> float:
            if phi == 0:
                return 1 - sum(math.exp(i * math.log(mu) - mu - math.lgamma(i + 1)) for i in range(k))
            r = 1 / phi
            return 1 - sum(
                math.exp(
                    math.lgamma(i + r)
                    - math.lgamma(r)
                    - math.lgamma(i + 1)
                    + r * math.log(r / (r + mu))
                    + i * math.log(mu / (r + mu))
                )
                for i in range(k)
            )

        assert sf(t) < alpha <= sf(t - 1)


def test_binomial_tail() -> None:
    assert binom_sf(0, 10, 0.5) == 1.0
    assert binom_sf(11, 10, 0.5) == 0.0
    assert binom_sf(10, 10, 0.5) == pytest.approx(0.5**10)
    assert binom_sf(6, 10, 0.5) == pytest.approx(386 / 1024)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="alpha"):
        DetectorConfig(alpha=0.1, end_alpha=0.05)
    with pytest.raises(ValueError, match="share_alpha"):
        DetectorConfig(share_alpha=1.5)
    with pytest.raises(ValueError, match="coverage_guard"):
        DetectorConfig(coverage_guard="sometimes")
    with pytest.raises(ValueError, match="cooldown"):
        DetectorConfig(cooldown_hours=0)


def test_a_surge_opens_and_closes_one_episode_with_evidence() -> None:
    det = MobilizationDetector(DetectorConfig(share_alpha=None))
    surge_hour = 24 * 4 + 14  # Friday 14:00, after warm-up
    events = feed(det, 24 * 6, random.Random(1), surge={surge_hour: 40, surge_hour + 1: 25})
    started = [e for e in events if e.kind == "started"]
    ended = [e for e in events if e.kind == "ended"]
    assert len(started) == 1
    assert len(ended) == 1
    ep = ended[0].episode
    surge_start = T0 + timedelta(hours=surge_hour)
    assert ep.polarity == "negative"
    assert ep.kind == "backlash"
    assert ep.start == surge_start
    assert surge_start <= started[0].episode.detected_at < surge_start + timedelta(minutes=40)
    assert ep.peak_hour == surge_start
    assert ep.peak_count >= 40
    assert ep.end is not None
    assert timedelta(hours=2) <= ep.end - surge_start <= timedelta(hours=4)
    assert ep.posts >= 65
    assert ep.excess > 50
    assert ep.ratio > 3
    assert ep.top_reasons[0][0] == "Lost Luggage"
    assert {t for t, _ in ep.top_terms[:3]} == {"refund", "scandal", "outrage"}
    assert len(ep.samples) == 5
    assert det.open_episodes() == []


def test_no_alarm_during_warm_up_even_on_a_jump() -> None:
    """The README's American Airlines case: 4 posts in days, then ~100 an hour."""
    det = MobilizationDetector(DetectorConfig(share_alpha=None))
    events: list[DetectorEvent] = []
    for i in range(4):
        events += det.observe(Observation("aa", "negative", T0 + timedelta(days=i), f"a{i}"))
    jump = T0 + timedelta(days=5)
    for h in range(30):
        for i in range(60):
            at = jump + timedelta(hours=h, seconds=i * 50)
            events += det.observe(Observation("aa", "negative", at, f"b{h}-{i}"))
    assert [e for e in events if e.kind == "started"] == []


def test_false_alarm_rate_on_null_data_is_near_alpha() -> None:
    """Quiet synthetic streams (Poisson, diurnal): alarms per stream-hour stay near alpha."""
    cfg = DetectorConfig(alpha=1e-3, share_alpha=None)
    alarms = hours = 0
    for seed in range(4):
        det = MobilizationDetector(cfg)
        events = feed(det, 24 * 14, random.Random(100 + seed))
        alarms += sum(e.kind == "started" for e in events)
        hours += 24 * 14 * 2  # two watched polarities
    assert alarms / hours < 5 * cfg.alpha


def test_quiet_hours_close_an_episode_without_new_posts() -> None:
    det = MobilizationDetector(DetectorConfig(share_alpha=None, warmup_hours=2, min_posts=5))
    for h in range(30):
        det.observe(Observation("x", "negative", T0 + timedelta(hours=h, minutes=5), f"q{h}"))
    surge_at = T0 + timedelta(hours=30)
    started = []
    for i in range(30):
        started += det.observe(Observation("x", "negative", surge_at + timedelta(seconds=i), f"s{i}"))
    assert [e.kind for e in started] == ["started"]
    assert len(det.open_episodes()) == 1
    ended = [e for e in det.advance(surge_at + timedelta(hours=5)) if e.kind == "ended"]
    assert len(ended) == 1
    assert ended[0].episode.end == surge_at + timedelta(hours=1)
    assert ended[0].episode.posts == 30


def test_late_posts_are_counted_but_do_not_reopen_closed_hours() -> None:
    det = MobilizationDetector()
    det.observe(Observation("x", "negative", T0 + timedelta(hours=5), "a"))
    assert det.observe(Observation("x", "negative", T0 + timedelta(hours=1), "late")) == []
    assert det.late_posts == 1


def _coverage_jump(det: MobilizationDetector) -> int:
    """Posts of every polarity, interleaved as they would arrive; ×10 from hour 48."""
    started = n = 0
    for h in range(60):
        mult = 10 if h >= 48 else 1
        mix = ["negative"] * 3 + ["neutral"] * 3 + ["positive"] * 2
        for _ in range(mult):
            for polarity in mix:
                n += 1
                at = T0 + timedelta(hours=h, seconds=n % 3600)
                started += sum(
                    e.kind == "started" for e in det.observe(Observation("x", polarity, at, str(n)))
                )
    return started


def test_surges_of_every_polarity_are_not_mobilizations() -> None:
    """More posts of every kind (a coverage change, like the airline data's American Airlines
    sampling jump) is not a backlash: the coverage guard (default) and the share test each
    reject it; the bare volume test flags it."""
    small: dict[str, Any] = {"warmup_hours": 6, "min_posts": 20}
    assert _coverage_jump(MobilizationDetector(DetectorConfig(**small))) == 0
    assert (
        _coverage_jump(MobilizationDetector(DetectorConfig(coverage_guard=None, share_alpha=0.01, **small)))
        == 0
    )
    assert (
        _coverage_jump(MobilizationDetector(DetectorConfig(coverage_guard=None, share_alpha=None, **small)))
        >= 1
    )


def test_unwatched_polarity_and_unknown_brand() -> None:
    det = MobilizationDetector()
    assert det.observe(Observation("x", "neutral", T0, "n")) == []
    assert det.baseline("nope", "negative") is None
    assert det.baseline("x", "neutral") is None
    assert det.baseline("x", "negative") is not None


def _mixed_praise(cfg: DetectorConfig, jump: int = 1) -> list[str]:
    """Model-scored posts (probabilities, distinct authors): a calm baseline, then at hour 48 a
    wave of praise whose replies also leak some probability into the negative stream, the way
    the shipped model read JetBlue's "fleek" hour. ``jump`` > 1 multiplies every post instead
    (a coverage change)."""
    det = MobilizationDetector(cfg)
    kinds: list[str] = []
    n = 0
    calm = [(0.7, 0.1)] * 3 + [(0.2, 0.2)] * 3 + [(0.1, 0.7)] * 2  # (P(neg), P(pos)) per post
    for h in range(52):
        posts = list(calm) * (jump if h >= 48 else 1)
        if h == 48 and jump == 1:
            posts = [(0.6, 0.3)] * 6 + posts + [(0.15, 0.8)] * 16
        for p_neg, p_pos in posts:
            n += 1
            at = T0 + timedelta(hours=h, seconds=(n * 37) % 3600)
            polarity = "negative" if p_neg > p_pos else "positive" if p_pos > p_neg else "neutral"
            obs = Observation("x", polarity, at, str(n), "ok", None, 0, f"a{n}", p_neg, p_pos)
            kinds += [f"{e.episode.polarity}" for e in det.observe(obs) if e.kind == "started"]
    return kinds


def test_guard_lets_a_mixed_praise_through_with_model_probabilities() -> None:
    """Issue 17: with the model's probabilities a real praise surge lifts the negative stream
    to "elevated" too, and the guard held the praise (JetBlue's "fleek"). The default "auto"
    guard, when posts carry probabilities, holds an alarm only when the opposite polarity rose
    nearly as much (``model_coverage_ratio``), which the mixed praise's negative side did not."""
    small: dict[str, Any] = {"warmup_hours": 6, "min_posts": 20}
    assert _mixed_praise(DetectorConfig(coverage_guard="elevated", **small)) == []
    assert _mixed_praise(DetectorConfig(**small)) == ["positive"]


@pytest.mark.parametrize("jump", [6, 10, 40])
def test_a_jump_of_every_polarity_stays_held_with_model_probabilities(jump: int) -> None:
    """Issue 17 #6: the guard that let mixed praise through ("alarm" level) also let a rise of
    every polarity alarm the stream that crossed first (a coverage change, and what the
    labels-shuffled null is made of); the ratio guard holds it and still passes the praise."""
    small: dict[str, Any] = {"warmup_hours": 6, "min_posts": 20}
    assert _mixed_praise(DetectorConfig(coverage_guard="alarm", **small), jump=jump) == ["negative"]
    assert _mixed_praise(DetectorConfig(**small), jump=jump) == []
    assert _mixed_praise(DetectorConfig(**small)) == ["positive"]
