"""Words too common to explain anything, dropped from an episode's top terms.

Why a list at all: top terms rank words by lift against the brand's usual posts, and in a
small episode a function word ("ourselves", "first") can out-lift the words that say what
happened. English comes from scikit-learn's list (BSD-3, already a dependency; Glasgow IR
group's list), French is a short list written for this project (articles, pronouns, auxiliary
and modal forms, prepositions, conjunctions), plus social-media noise in both. Words are stored
lower-case and accent-folded, as ``matching.normalize`` leaves tokens.
"""

from __future__ import annotations

from functools import cache

_FRENCH = """
a au aux avec ce ces cet cette ceci cela ca celui celle ceux celles chez dans de des du elle
elles en et eux il ils je j'ai jai la le les leur leurs lui ma mais me meme mes moi mon ne ni
nos notre nous on ou par pas plus pour qu que qui quoi sa sans se ses si son sur ta te tes toi
ton tu un une vos votre vous y est sont etait etaient ete etre suis es sommes etes sera serait
ai as avons avez ont avait avaient eu avoir fait faire fais font peut peux pouvez veux veut
doit faut tout tous toute toutes autre autres aussi alors apres avant bien comme donc encore
ici deja car dont tres trop peu encore quand comment pourquoi ou c'est qu'il qu'elle n'est
d'un d'une l'on s'il cest quil nest dun dune ya va vont vais
"""
_NOISE = """
amp rt via http https www com im ive id dont cant wont didnt doesnt isnt arent wasnt
i'm i've i'd don't can't won't didn't doesn't isn't aren't wasn't you're it's that's
get got just really still even yes lol
"""


@cache
def stopwords() -> frozenset[str]:
    """Built on first use: importing scikit-learn costs every process (server, workers, CLI) a
    second or more of start-up, and most of them never rank an episode's terms."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | frozenset((_FRENCH + _NOISE).split())
