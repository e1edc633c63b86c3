"""per_social_action: carried remainders, the rule's own cap, matching, the anti-farm criteria
(each bounds an attack: see wefirst.domain.social), commitments and the FR/EN disclosure."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from wefirst.catalog.disclosure import disclosure
from wefirst.domain.campaigns import (
    Campaign,
    CampaignStatus,
    Caps,
    ImpactUnit,
    PerSocialActionRule,
    UnitLabel,
)
from wefirst.domain.money import Money
from wefirst.domain.rules import DEN, CapRoom, Carry, apply_caps, pledge_for_social, social_rule_room
from wefirst.domain.social import (
    Account,
    AccountCriteria,
    SocialAction,
    action_commitment,
    assess_account,
)

AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
POST = "at://did:plc:brand123/app.bsky.feed.post/3kabc"


def campaign(rules: tuple[PerSocialActionRule, ...], match_bps: int = 0) -> Campaign:
    unit = ImpactUnit(
        "iu_x",
        1,
        {"en": UnitLabel("dose", "doses"), "fr": UnitLabel("dose", "doses")},
        Money(30, "EUR"),
        "price list",
        date(2026, 1, 1),
        "funds",
    )
    return Campaign(
        "cmp_x", "brd_x", "ben_x", "c", "EUR", AT - timedelta(days=1), None,
        CampaignStatus.active, rules, unit, Caps(), match_bps,
    )  # fmt: skip


@settings(max_examples=150)
@given(st.integers(1, 400), st.integers(1, 20), st.integers(0, 20_000))
def test_social_pledges_sum_to_the_rule_on_the_total_with_matching(n: int, per: int, match: int) -> None:
    rule = PerSocialActionRule("like", "bluesky", POST, per)
    c = campaign((rule,), match_bps=match)
    carry, units = Carry(), 0
    for _ in range(n):
        draft, carry = pledge_for_social(c, rule, carry)
        units += draft.units
    assert units == n * per * (10_000 + match) // DEN
    assert carry.units_rem == n * per * (10_000 + match) % DEN


@settings(max_examples=150)
@given(
    st.integers(1, 50),
    st.one_of(st.none(), st.integers(0, 200)),
    st.lists(st.integers(1, 9), min_size=1, max_size=80),
)
def test_a_rules_own_cap_is_never_exceeded(cap: int, campaign_room: int | None, drafts: list[int]) -> None:
    rule = PerSocialActionRule("repost", "mastodon", "https://m.example/@b/1", 1, cap_units=cap)
    c = campaign((rule,))
    spent = 0
    for units in drafts:
        left = None if campaign_room is None else campaign_room - spent
        room = social_rule_room(CapRoom(left, None, None), rule.cap_units, spent)
        draft, _ = pledge_for_social(c, rule, Carry())
        capped = apply_caps(draft.__class__(units, units * 30, draft.rule), room, 30)
        spent += capped.units
        assert spent <= cap
        if campaign_room is not None:
            assert spent <= campaign_room


def test_matching_is_by_network_action_and_normalised_target() -> None:
    tag = PerSocialActionRule("hashtag_post", "mastodon", "#DoudouVaccins", 1)
    assert tag.matches("mastodon", "hashtag_post", "doudouvaccins")
    assert tag.matches("mastodon", "hashtag_post", "#DOUDOUVACCINS")
    assert not tag.matches("bluesky", "hashtag_post", "#DoudouVaccins")
    assert not tag.matches("mastodon", "reply", "#DoudouVaccins")
    like = PerSocialActionRule("like", "mastodon", "https://m.example/@brand/111", 1)
    assert like.matches("mastodon", "like", "https://m.example/@brand/111/")
    assert not like.matches("mastodon", "like", "https://m.example/@brand/112")
    assert like.key != PerSocialActionRule("repost", "mastodon", "https://m.example/@brand/111", 1).key


def _account(age_days: float = 400, posts: int = 50, bot: bool = False) -> Account:
    return Account("https://m.example/@a", AT - timedelta(days=age_days), posts, bot)


def test_each_criterion_refuses_with_its_reason() -> None:
    k = AccountCriteria(min_account_age_days=30, min_posts=5, burst_window_hours=24, burst_max=2)
    assert assess_account(k, _account(), AT, []) is None
    assert assess_account(k, _account(age_days=29.9), AT, []) == "too_young"
    assert assess_account(k, _account(posts=4), AT, []) == "too_few_posts"
    assert assess_account(k, _account(bot=True), AT, []) == "bot"
    assert assess_account(AccountCriteria(allow_bots=True), _account(bot=True), AT, []) is None
    assert assess_account(k, Account("x", None, 99), AT, []) == "no_profile"
    born = AT - timedelta(days=400)
    assert (
        assess_account(k, _account(), AT, [born + timedelta(hours=1), born - timedelta(hours=2)]) == "burst"
    )
    assert assess_account(k, _account(), AT, [born + timedelta(hours=30), born - timedelta(hours=2)]) is None


@settings(max_examples=200)
@given(st.lists(st.integers(0, 24 * 20), min_size=1, max_size=120), st.integers(1, 6), st.integers(1, 48))
def test_a_farm_created_together_adds_at_most_burst_max_per_window(
    hours: list[int], top: int, w: int
) -> None:
    """Whatever the order the accounts act in, counted accounts created within any window of
    `burst_window_hours` are at most `burst_max`."""
    k = AccountCriteria(min_account_age_days=0, min_posts=0, burst_window_hours=w, burst_max=top)
    base = AT - timedelta(days=60)
    counted: list[datetime] = []
    for h in hours:
        acc = Account(f"a{h}", base + timedelta(hours=h), 10)
        if assess_account(k, acc, AT, counted) is None:
            counted.append(base + timedelta(hours=h))
    for start in counted:
        inside = [c for c in counted if start <= c < start + timedelta(hours=w)]
        assert len(inside) <= top


def test_commitment_is_sha256_of_the_public_uri_and_never_the_handle() -> None:
    like_uri = "at://did:plc:alice/app.bsky.feed.like/3kxyz"
    a = SocialAction("bluesky", "like", POST, Account("did:plc:alice", AT, 9), AT, uri=like_uri)
    assert action_commitment(a) == hashlib.sha256(like_uri.encode()).hexdigest()
    fav = SocialAction("mastodon", "like", "https://m.example/@brand/111/", _account(), AT)
    expected = "https://m.example/@a like https://m.example/@brand/111"
    assert action_commitment(fav) == hashlib.sha256(expected.encode()).hexdigest()


def test_disclosure_says_what_counts_and_what_does_not_in_both_languages() -> None:
    rule = PerSocialActionRule(
        "repost", "bluesky", POST, 1, cap_units=500, period="day",
        criteria=AccountCriteria(min_account_age_days=45, min_posts=10, burst_max=15),
    )  # fmt: skip
    tag = PerSocialActionRule("hashtag_post", "mastodon", "#DoudouVaccins", 2)
    c = campaign((rule, tag))
    en = disclosure(c, "Pampy", "Vaccins Pour Tous", "en")
    assert f"For each public repost (boost) of the post {POST} on Bluesky, Pampy funds 1 dose" in en
    assert "per account per day" in en
    assert "at least 45 days old" in en
    assert "at least 10 posts" in en
    assert "not flagged as bots" in en
    assert "at most 15 accounts created within 24 hours" in en
    assert "Not counted:" in en
    assert "reposts deleted before settlement" in en
    assert "This rule gives at most 500 doses." in en
    assert "original post with #DoudouVaccins on Mastodon, Pampy funds 2 doses" in en
    fr = disclosure(c, "Pampy", "Vaccins Pour Tous", "fr")
    assert "Pour chaque repartage (boost) de la publication" in fr
    assert "par compte et par jour" in fr
    assert "Non compté\u00a0:" in fr  # French typography (domain/disclosure.py)
    assert "non signalés comme robots" in fr
    assert "Cette règle donne au plus 500 doses." in fr
