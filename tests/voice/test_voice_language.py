from __future__ import annotations

import pytest

from wefirst.voice.language import LANGUAGES, UNDETERMINED, detect, detect_many

ENGLISH = [
    "@united my flight was delayed three hours and nobody told us anything",
    "Thanks for the great service this morning, the crew was lovely",
    "What is the baggage allowance for international flights? http://t.co/abc",
    "I can't believe the store closed early again, so annoying #fail",
]
FRENCH = [
    "@SNCF mon train a encore deux heures de retard, c'est inadmissible",
    "Merci beaucoup pour votre aide, le problème est réglé",
    "Quels sont vos horaires d'ouverture le dimanche ? http://t.co/xyz",
    "La centrale solaire va alimenter dix mille foyers de la région #energie",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_posts(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", FRENCH)
def test_french_posts(text: str) -> None:
    assert detect(text) == "fr"


def test_other_languages_in_the_set() -> None:
    assert detect("Das ist wirklich ein sehr schlechter Kundenservice, ich bin enttäuscht") == "de"
    assert detect("El vuelo llegó con tres horas de retraso y nadie nos ayudó") == "es"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀😡👍",
        "http://t.co/abc https://example.org/x?y=1",
        "@united @AmericanAir #fail",
        "ok",
        "12345 678 !!!",
        "&amp; &lt;3",
    ],
)
def test_too_little_text_is_undetermined(text: str) -> None:
    assert detect(text) == UNDETERMINED


def test_links_and_mentions_do_not_decide_the_language() -> None:
    # A French post full of English-looking handles and a URL is still French.
    text = "@DeltaAssist @JetBlue @united franchement ce service client est une honte http://t.co/q"
    assert detect(text) == "fr"


def test_answers_are_iso_codes_from_the_closed_set() -> None:
    samples = [*ENGLISH, *FRENCH, "Questo volo è stato un disastro totale, mai più", "x"]
    for code in detect_many(samples):
        assert code == UNDETERMINED or code in LANGUAGES
        assert len(code) in (2, 3)


def test_detect_many_matches_detect() -> None:
    texts = [*ENGLISH, *FRENCH, ""]
    assert detect_many(texts) == [detect(t) for t in texts]


def test_batch_detection_gives_the_per_post_answers_on_mixed_posts() -> None:
    """``detect_many`` walks py3langid's automaton for a whole batch at once (the pipeline's
    largest cost per post was this step); it must answer exactly what ``detect`` answers, for
    posts of every length, case and script, in any order."""
    texts = [
        *ENGLISH,
        *FRENCH,
        "",
        "@united ✈️",
        "TOUT EN MAJUSCULES CE VOL EST ANNULÉ ENCORE UNE FOIS",
        "Questo volo è stato un disastro totale, mai più",
        "Этот рейс задержали на пять часов, ужасно",
        "このフライトは最高でした、ありがとう",
        "Der Flug war pünktlich und das Personal sehr freundlich " * 6,
        "ok",
        "😡😡😡 @JetBlue #fail http://t.co/x",
    ]
    texts = texts + texts[::-1]
    assert detect_many(texts) == [detect(t) for t in texts]
