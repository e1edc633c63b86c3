import re

import pytest

from wefirst.cases.messages import CATALOGUE, message
from wefirst.translations import gettext_for


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_exists_in_both_languages_with_the_same_placeholders(code: str) -> None:
    english = CATALOGUE[code]
    french = gettext_for("fr").gettext(english)
    fields = [set(re.findall(r"\{(\w+)", text)) for text in (english, french)]
    assert fields[0] == fields[1]
    assert english != french or code.startswith("state_")


def test_render() -> None:
    assert message("too_many_links", "fr", max=10, count=12) == (
        "Au plus 10 liens de preuve par dossier (12 reçus)."
    )
    assert message("milestone", count=100) == "100 people have co-signed this case."
    with pytest.raises(KeyError):
        message("no_such_code")


@pytest.mark.parametrize("code", sorted(CATALOGUE))
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_message_renders_with_its_placeholders(code: str, lang: str) -> None:
    names = set(re.findall(r"\{(\w+)", CATALOGUE[code]))
    text = message(code, lang, **{n: f"<{n}>" for n in names})  # type: ignore[arg-type]
    assert all(f"<{n}>" in text for n in names)


def test_confirmation_pages_escape_and_count_in_both_languages() -> None:
    from wefirst.cases import confirm_pages

    page = confirm_pages.cosign_form("fr", "Prix < promesses & <b>", "/v1/cosign-confirmations/t")
    assert "Prix &lt; promesses &amp; &lt;b&gt;" in page
    assert "<b>" not in page
    assert 'lang="fr"' in page
    assert "1 person has co-signed." in confirm_pages.cosign_result("en", True, 1)
    assert "12 personnes ont cosigné." in confirm_pages.cosign_result("fr", False, 12)
    assert "(masqué par la modération)" in confirm_pages.cosign_form("fr", None, "/x")
