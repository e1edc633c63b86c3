"""Cues that a post's praise is sarcastic ("thanks for nothing", "great job losing my bag 🙄").

Why: a linear sentiment model reads "great", "love", "thanks" as praise, and on customer-service
streams a large share of those words are sarcastic complaints. The detector discounts the
positive probability of a post with such a cue (``discount``), so sarcasm neither builds a
"wave of praise" nor shows up among its samples. The cues are deliberately few and specific:
a missed sarcasm costs a little evidence, a false cue would silence real praise.
"""

from __future__ import annotations

import re

from wefirst.voice.matching import normalize

_CUES = [
    r"#sarcasm\b",
    r"#not\b",
    r"(?:^|\s)/s\b",
    r"thanks? (?:a lot |so much )?for nothing",
    r"thanks? for (?:ruining|wasting|losing|breaking|nothing|the (?:delay|runaround))",
    r"\byeah,? right\b",
    r"\boh,? (?:great|wonderful|perfect|joy|good)\b",
    r"\bjust what i (?:needed|wanted)\b",
    r"\bnothing (?:like|says|beats) .{0,40}\b(?:delay|cancel|wait|lost|stuck|hold)",
    r"\bso much for\b",
    r"\blove (?:how|that|it when) .{0,60}"
    r"\b(?:delay|cancel|late|lost|wait|hold|stuck|broke|never|no one|nobody)",
    r"\b(?:great|nice|awesome|fantastic|amazing|stellar|wonderful) (?:job|work)\b.{0,40}"
    r"\b(?:lost|losing|cancel|stuck|broke|strand)",
    r"\bmerci pour rien\b",
    r"\bbravo pour\b.{0,60}\b(?:retard|annul|perdu|attente|panne)",
    r"\bbien joue\b.{0,60}\b(?:retard|annul|perdu|attente|panne)",
    "\U0001f644",  # face with rolling eyes
    "\U0001f612",  # unamused face
    "\U0001f643",  # upside-down face
]
_IRONY = re.compile("|".join(f"(?:{c})" for c in _CUES))

#: share of the positive probability kept when a cue fires; the rest moves to negative
#: (a sarcastic "thanks" is a complaint, not nothing)
KEEP = 0.2


#: Every cue above contains one of these literally: a post with none of them skips the regex,
#: whose bounded gaps cost ~60 µs a post (a tenth of the pipeline's time per post), while a
#: substring test costs about one. Keep in step with ``_CUES`` (a test checks each cue).
HINTS = (
    "sarcasm",
    "#not",
    "/s",
    "thank",
    "yeah",
    "oh",
    "just what i",
    "nothing",
    "so much for",
    "love",
    "job",
    "work",
    "merci",
    "bravo",
    "bien joue",
    "\U0001f644",
    "\U0001f612",
    "\U0001f643",
)


def _by_hint() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Per hint, one regex of the cues that can only match where that hint occurs: a post that
    holds "thank" (a fifth of airline tweets) runs the two thanks cues, not all eighteen."""
    out = []
    for hint in HINTS:
        cues = [c for c in _CUES if _needs(c, hint)]
        out.append((hint, re.compile("|".join(f"(?:{c})" for c in cues))))
    return tuple(out)


def _needs(cue: str, hint: str) -> bool:
    """Whether every match of ``cue`` may contain ``hint`` (the cue's literal text names it).
    A cue listed under several hints ("job" or "work") runs where any of them occurs."""
    literal = cue.replace("\\b", "").replace("\\s", " ").replace("(?:", "").replace("?", "")
    return hint in literal


_HINTED = _by_hint()


def has_irony_cue(text: str) -> bool:
    low = normalize(text)
    return any(h in low and rx.search(low) is not None for h, rx in _HINTED)


def discount(text: str, p_negative: float, p_positive: float) -> tuple[float, float]:
    """``(p_negative, p_positive)`` after moving a sarcastic post's praise to complaint."""
    if p_positive <= 0.0:
        return p_negative, p_positive
    return discounted(p_negative, p_positive, has_irony_cue(text))


def discounted(p_negative: float, p_positive: float, cue: bool) -> tuple[float, float]:
    """``discount`` for a post whose cue was read already (the pipeline reads it once, stores
    it with the post, and the live detector and a re-detection from the store both use it)."""
    if p_positive <= 0.0 or not cue:
        return p_negative, p_positive
    moved = p_positive * (1.0 - KEEP)
    return p_negative + moved, p_positive - moved
