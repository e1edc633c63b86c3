"""Plain-text rules for what people write in a case, and the normal form used to spot
duplicates.

Decision: markup is *refused*, not escaped. A case is a public record that brands and
journalists quote; silently rewriting what someone wrote (escaping or stripping) changes the
record, while a clear refusal lets the author fix it. Pages still autoescape on output, so the
refusal is a second wall, not the only one."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from wefirst.cases.rules import CaseRuleError, Problem

# `<` directly followed by a letter, `/`, `!` or `?` starts a tag, comment or processing
# instruction in every HTML parser; "a < b" or "<3" stay allowed.
_TAG: Final = re.compile(r"<[A-Za-z/!?]")
# Named (&lt;) and numeric (&#60; &#x3c;) character references: escaping tricks, never needed
# in plain text ("AT&T", "R&D" have no semicolon and stay allowed).
_ENTITY: Final = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Bidirectional overrides/isolates (Trojan Source) and zero-width characters that hide text.
_INVISIBLE: Final = frozenset(
    [
        *(0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x061C, 0x200E, 0x200F),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)
_ALLOWED_CONTROLS: Final = frozenset("\n\t")


def clean_text(field: str, value: str, *, min_len: int, max_len: int, multiline: bool) -> str:
    """Return the NFC form of `value` with outer whitespace and CRLF normalised, or raise
    `CaseRuleError` with every problem found (see `check_text`)."""
    text, problems = check_text(field, value, min_len=min_len, max_len=max_len, multiline=multiline)
    if problems:
        raise CaseRuleError(problems)
    return text


def check_text(
    field: str, value: str, *, min_len: int, max_len: int, multiline: bool
) -> tuple[str, list[Problem]]:
    """Normalise and check one text field, collecting every problem so the author can fix
    them in one go."""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    problems: list[Problem] = []
    if not text:
        return text, [Problem(field, "required")]
    tag = _TAG.search(text)
    if tag:
        found = text[tag.start() : tag.start() + 12]
        problems.append(Problem(field, "markup_refused", {"found": found}))
    entity = _ENTITY.search(text)
    if entity:
        problems.append(Problem(field, "entity_refused", {"found": entity.group(0)}))
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE or (unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS):
            problems.append(Problem(field, "control_refused", {"code": f"{code:04X}"}))
            break
    if not multiline and "\n" in text:
        problems.append(Problem(field, "single_line"))
    if len(text) < min_len:
        problems.append(Problem(field, "too_short", {"min": min_len}))
    if len(text) > max_len:
        problems.append(Problem(field, "too_long", {"max": max_len}))
    return text, problems


_WORD: Final = re.compile(r"[0-9a-z]+")


def normal_words(text: str) -> list[str]:
    """Case-folded, accent-free words: "Évènement, L'USINE!" → ["evenement", "l", "usine"].
    Accents are dropped so that a French text typed with and without accents still matches."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(bare)


def shingles(text: str, size: int = 3) -> frozenset[str]:
    """Word n-grams of the normal form; texts shorter than `size` words give one shingle
    of all their words, so short titles still compare."""
    words = normal_words(text)
    if not words:
        return frozenset()
    if len(words) <= size:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i : i + size]) for i in range(len(words) - size + 1))


def char_grams(text: str, size: int = 4) -> frozenset[str]:
    """Character n-grams over the normal form: robust to one changed word in a short title."""
    joined = " ".join(normal_words(text))
    if len(joined) <= size:
        return frozenset([joined]) if joined else frozenset()
    return frozenset(joined[i : i + size] for i in range(len(joined) - size + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|A∩B| / |A∪B|; two empty sets are not similar (nothing to compare)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
