"""The voice section as the scorecard and the brand console show it: the per-day stacked
chart (negative, neutral, positive posts), the share-of-voice rows, and the words for the
codes the data carries (polarity, source, language) in the page's language — a reader never
sees a raw code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from babel import Locale
from markupsafe import Markup

from wefirst.domain.clock import as_utc
from wefirst.translations import N_
from wefirst.voice.competitors import Share
from wefirst.voice.daycache import VoiceDay
from wefirst.voice.filters import POLARITIES, SOURCES
from wefirst.web import charts
from wefirst.web.i18n import Translator

POLARITY_WORDS = {"negative": N_("Negative"), "neutral": N_("Neutral"), "positive": N_("Positive")}
SOURCE_WORDS = {
    "file": N_("Imported files"),
    "mastodon": N_("Mastodon"),
    "bluesky": N_("Bluesky"),
    "rss": N_("News and blog feeds"),
}
KIND_WORDS = {"backlash": N_("backlash"), "praise": N_("praise")}
UNDETERMINED = N_("Undetermined language")


def polarity_word(code: str, tr: Translator) -> str:
    return tr.gettext(POLARITY_WORDS.get(code, N_("Neutral")))


def source_choices(tr: Translator) -> list[tuple[str, str]]:
    return [(s, tr.gettext(SOURCE_WORDS[s])) for s in SOURCES]


def polarity_choices(tr: Translator) -> list[tuple[str, str]]:
    return [(p, polarity_word(p, tr)) for p in POLARITIES]


def language_word(code: str, tr: Translator) -> str:
    """A language code in the page's language ("fr" → "French" / "français")."""
    name = Locale.parse(tr.locale).languages.get(code)
    return str(name) if name else tr.gettext(UNDETERMINED)


def stacks(tr: Translator) -> list[charts.Stack]:
    return [
        charts.Stack(key, polarity_word(key, tr), colour, pattern)
        for key, colour, pattern in charts.POLARITY_STACKS
    ]


def _day_of(text: str) -> date:
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00"))).date()


def chart(
    days: Sequence[VoiceDay], episodes: Sequence[dict[str, Any]], tr: Translator, chart_id: str
) -> Markup:
    """Posts per day, stacked by polarity, with the episodes as bands."""
    marks = [
        charts.Episode(
            _day_of(ep["start"]),
            _day_of(str(ep.get("end") or ep.get("updated_at") or ep["start"])),
            tr.gettext(KIND_WORDS.get(ep["kind"], ep["kind"])),
            ep["kind"],
        )
        for ep in episodes
    ]
    total = sum(d.total for d in days)
    split = ", ".join(
        f"{polarity_word(p, tr)}{tr.colon} {tr.number(sum(d.counts.get(p, 0) for d in days))}"
        for p in POLARITIES
    )
    return charts.stacked_chart(
        [charts.StackedDay(d.day, dict(d.counts)) for d in days],
        stacks(tr),
        marks,
        title=tr.gettext("Posts per day by sentiment"),
        desc=f"{tr.gettext('Posts')}{tr.colon} {tr.number(total)} ({split}); "
        f"{tr.gettext('Mobilization episodes')}{tr.colon} {tr.number(len(episodes))}.",
        fmt_day=tr.date,
        fmt=tr.number,
        colon=tr.colon,
        chart_id=chart_id,
    )


def share_rows(rows: Sequence[Share], tr: Translator) -> list[dict[str, Any]]:
    """Share-of-voice rows with their figures written for the page."""
    total = sum(r.mentions for r in rows)
    return [
        {
            "name": r.label,
            "own": r.own,
            "mentions": tr.number(r.mentions),
            "share": tr.percent(r.mentions, total),
            **{p: tr.percent(r.counts.get(p, 0), r.mentions) for p in POLARITIES},
        }
        for r in rows
    ]
