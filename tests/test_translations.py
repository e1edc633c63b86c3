"""The gettext catalogues: every string the code and the templates ask for has its French
line (not empty, not fuzzy), the catalogue holds nothing the code no longer asks for (what
`scripts/translations.py check` reports), placeholders survive translation, and the pages
read the catalogue through `Translator` and Jinja's {% trans %}."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from wefirst.translations import french_typography, gettext_for, translations
from wefirst.web.i18n import Translator
from wefirst.web.templating import environment

REPO = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("translations_script", REPO / "scripts" / "translations.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["translations_script"] = module
    spec.loader.exec_module(module)
    return module


script = _load_script()


def test_every_string_asked_for_is_translated_and_nothing_else_is_kept() -> None:
    assert [locale for locale, _ in script.catalogues()] == ["fr"]
    assert script.problems() == []


def test_the_check_sees_a_missing_string(tmp_path: Path, monkeypatch: object) -> None:
    # the extraction really reads the templates and Python calls (not an empty set)
    wanted = script.extracted()
    assert "Verify a receipt" in wanted  # a template's _()
    assert "Payment reported" in wanted  # an N_() in a label table
    assert "Late: {amount} was due on {date} and is not reported paid." in wanted  # tr.gettext()


def test_placeholders_survive_translation() -> None:
    names = re.compile(r"\{(\w*)\}")
    wrong = [
        m.id
        for _, path in script.catalogues()
        for m in script.read_catalogue(path)
        if m.id and sorted(names.findall(m.id)) != sorted(names.findall(m.string))
    ]
    assert wrong == []


def test_french_comes_from_the_catalogue_with_french_typography() -> None:
    fr = Translator("fr")
    assert fr.gettext("Verify a receipt") == "Vérifier un reçu"
    assert fr.gettext("wefirst: promises you can check") == "wefirst\u00a0: des promesses vérifiables"
    assert french_typography("« oui » ?") == "«\u00a0oui\u00a0»\u00a0?"
    assert fr.gettext("a string nobody translated") == "a string nobody translated"
    assert Translator("en").gettext("Verify a receipt") == "Verify a receipt"
    assert gettext_for("FR-fr").gettext("Verify a receipt") == "Vérifier un reçu"
    assert gettext_for(None).gettext("Verify a receipt") == "Verify a receipt"
    assert gettext_for("de").gettext("Verify a receipt") == "Verify a receipt"
    assert translations("fr") is translations("fr")  # compiled once per process


def test_templates_translate_trans_blocks_per_render() -> None:
    template = environment().from_string('{% trans %}Verify a receipt{% endtrans %} · {{ _("Home") }}')
    assert template.render(Translator("fr").functions) == "Vérifier un reçu · Accueil"
    assert template.render(Translator("en").functions) == "Verify a receipt · Home"
