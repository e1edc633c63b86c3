"""Which brands a post mentions.

All terms of all brands go into ONE compiled regular expression, shaped as a prefix trie so
the engine never retries a shared prefix, and one ``finditer`` pass over the normalised text
finds every hit; a dict maps each hit back to the brands and kinds it stands for. Cost per post
is linear in the text, whatever the number of brands.

Rules:
- case- and accent-insensitive (``Nestlé`` = ``nestle`` = ``NESTLÉ``), on whole words only;
- a handle (``@AmericanAir``) or a hashtag (``#pampers``) is unambiguous: it always counts;
- a name or alias is ambiguous ("Dove" the soap or the bird): if any of the brand's exclusion
  terms occurs in the post, the brand's name/alias hits in that post are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

KIND_NAME = "name"
KIND_HANDLE = "handle"
KIND_HASHTAG = "hashtag"
KIND_EXCLUDE = "exclude"

_COMBINING = {cp: None for cp in range(0x10000) if unicodedata.combining(chr(cp))}
_WS = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Case-fold and strip accents; ASCII text takes the fast path."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).translate(_COMBINING).casefold()


@dataclass(frozen=True, slots=True)
class BrandTerms:
    brand_id: str
    names: Sequence[str] = ()
    aliases: Sequence[str] = ()
    handles: Sequence[str] = ()
    hashtags: Sequence[str] = ()
    exclusions: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Match:
    brand_id: str
    #: the normalised terms that matched (for explaining a match, and to leave them out of
    #: an episode's "top terms": the brand's own name is not news)
    terms: tuple[str, ...] = field(default=())


def _handle(value: str) -> str:
    value = value.strip()
    # "@user@server" (fediverse) and "user.bsky.social" handles are matched as written
    return value if value.startswith("@") else "@" + value


def _hashtag(value: str) -> str:
    value = value.strip()
    return value if value.startswith("#") else "#" + value


def _term_key(term: str) -> str:
    return _WS.sub(" ", normalize(term).strip())


class _Trie:
    __slots__ = ("children", "end")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.end = False

    def add(self, word: str) -> None:
        node = self
        for ch in word:
            node = node.children.setdefault(ch, _Trie())
        node.end = True

    def pattern(self) -> str:
        alts: list[str] = []
        for ch in sorted(self.children):
            # a space in a term matches any run of whitespace in the post
            atom = r"\s+" if ch == " " else re.escape(ch)
            alts.append(atom + self.children[ch].pattern())
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        # greedy optional: the longer term wins at the same start ("mourning dove" over "dove")
        return "(?:" + body + ")?" if self.end else body


class BrandMatcher:
    """Built once from every brand's terms; ``match`` is then a single regex pass."""

    def __init__(self, brands: Iterable[BrandTerms]) -> None:
        self._lookup: dict[str, list[tuple[str, str]]] = {}
        trie = _Trie()
        self.brand_ids: list[str] = []
        for brand in brands:
            self.brand_ids.append(brand.brand_id)
            entries = [
                *((n, KIND_NAME) for n in (*brand.names, *brand.aliases)),
                *((_handle(h), KIND_HANDLE) for h in brand.handles),
                *((_hashtag(t), KIND_HASHTAG) for t in brand.hashtags),
                *((x, KIND_EXCLUDE) for x in brand.exclusions),
            ]
            for raw, kind in entries:
                key = _term_key(raw)
                if not key or key in {"@", "#"}:
                    continue
                pair = (brand.brand_id, kind)
                slot = self._lookup.setdefault(key, [])
                if pair not in slot:
                    slot.append(pair)
                trie.add(key)
        body = trie.pattern()
        # whole words: no word character right before or after ("#Pampers" still mentions
        # the name Pampers; "Pampersland" does not)
        self._regex = re.compile(r"(?<!\w)" + body + r"(?!\w)") if body else None

    def match(self, text: str, tags: Sequence[str] = ()) -> list[Match]:
        """Brands mentioned in ``text`` (plus explicit hashtags a source lists separately)."""
        if self._regex is None:
            return []
        hits: dict[str, list[str]] = {}
        excluded: set[str] = set()
        strong: set[str] = set()
        # a hit never starts or ends with whitespace: " ".join(split()) is _WS.sub(" ", …)
        keys = [" ".join(m.group(0).split()) for m in self._regex.finditer(normalize(text))]
        if tags:
            keys.extend(_term_key(_hashtag(t)) for t in tags)
        for key in keys:
            for brand_id, kind in self._lookup.get(key, ()):
                if kind == KIND_EXCLUDE:
                    excluded.add(brand_id)
                    continue
                if kind != KIND_NAME:
                    strong.add(brand_id)
                terms = hits.setdefault(brand_id, [])
                if key not in terms:
                    terms.append(key)
        return [
            Match(brand_id, tuple(terms))
            for brand_id, terms in hits.items()
            if brand_id not in excluded or brand_id in strong
        ]

    def brand_terms(self) -> frozenset[str]:
        """Every normalised term (all brands), for leaving brand words out of top terms."""
        return frozenset(self._lookup)
