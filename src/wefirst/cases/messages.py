"""French and English wording for what a person reads about cases (refusals, states,
milestones). The API answers in English; pages and e-mails pick the case's or reader's
language, so each message exists in both and a test fails when one is missing."""

from __future__ import annotations

from typing import Final, Literal

Lang = Literal["fr", "en"]

CATALOGUE: Final[dict[str, dict[Lang, str]]] = {
    "markup_refused": {
        "en": "HTML markup is not accepted; write plain text (found {found!r}).",
        "fr": "Le balisage HTML n'est pas accepté ; écrivez du texte simple (trouvé {found!r}).",
    },
    "entity_refused": {
        "en": "HTML character references are not accepted; type the character itself (found {found!r}).",
        "fr": "Les entités HTML ne sont pas acceptées ; tapez le caractère lui-même (trouvé {found!r}).",
    },
    "control_refused": {
        "en": "Invisible control or text-direction characters are not accepted (U+{code}).",
        "fr": "Les caractères de contrôle ou de direction invisibles ne sont pas acceptés (U+{code}).",
    },
    "too_short": {
        "en": "Too short: at least {min} characters.",
        "fr": "Trop court : au moins {min} caractères.",
    },
    "too_long": {
        "en": "Too long: at most {max} characters.",
        "fr": "Trop long : au plus {max} caractères.",
    },
    "required": {"en": "Required.", "fr": "Obligatoire."},
    "single_line": {
        "en": "Must fit on one line.",
        "fr": "Doit tenir sur une seule ligne.",
    },
    "too_many_links": {
        "en": "At most {max} evidence links per case (got {count}).",
        "fr": "Au plus {max} liens de preuve par dossier ({count} reçus).",
    },
    "bad_url": {
        "en": "Not a usable link: {why}.",
        "fr": "Lien inutilisable : {why}.",
    },
    "duplicate_link": {
        "en": "The same link appears twice.",
        "fr": "Le même lien apparaît deux fois.",
    },
    "too_many_commitments": {
        "en": "At most {max} commitments per answer (got {count}).",
        "fr": "Au plus {max} engagements par réponse ({count} reçus).",
    },
    "date_in_past": {
        "en": "Must not be in the past.",
        "fr": "Ne doit pas être dans le passé.",
    },
    "bad_choice": {
        "en": "Must be one of: {choices}.",
        "fr": "Doit être l'un de : {choices}.",
    },
    "duplicate_case": {
        "en": "A nearly identical case is already open against this brand; co-sign it instead: {case_id}.",
        "fr": "Un dossier presque identique est déjà ouvert contre cette marque ; "
        "cosignez-le plutôt : {case_id}.",
    },
    "bad_transition": {
        "en": "A case that is {state} cannot be {action}.",
        "fr": "Un dossier à l'état « {state} » ne peut pas être {action}.",
    },
    "milestone": {
        "en": "{count} people have co-signed this case.",
        "fr": "{count} personnes ont cosigné ce dossier.",
    },
    "state_open": {"en": "open", "fr": "ouvert"},
    "state_answered": {"en": "answered", "fr": "répondu"},
    "state_resolved": {"en": "resolved", "fr": "résolu"},
    "state_not_accepted": {"en": "answer not accepted", "fr": "réponse non acceptée"},
    "state_unanswered": {"en": "unanswered", "fr": "sans réponse"},
    "state_hidden": {"en": "hidden by moderation", "fr": "masqué par la modération"},
    "verify_subject": {
        "en": "Confirm your signature: {title}",
        "fr": "Confirmez votre signature : {title}",
    },
    "verify_body": {
        "en": 'You asked to co-sign the case "{title}" on wefirst.\n\n'
        "Confirm with this link (valid {hours} hours):\n{link}\n\n"
        "If you did not ask for this, ignore this message: nothing is counted without it.\n"
        "Your address is kept for contact about this case only, never shown, "
        "and erased on request.\n",
        "fr": "Vous avez demandé à cosigner le dossier « {title} » sur wefirst.\n\n"
        "Confirmez avec ce lien (valable {hours} heures) :\n{link}\n\n"
        "Si vous n'avez rien demandé, ignorez ce message : rien n'est compté sans lui.\n"
        "Votre adresse sert uniquement à vous contacter au sujet de ce dossier, n'est "
        "jamais affichée, et est effacée sur demande.\n",
    },
    "erase_subject": {
        "en": "Erase your address from wefirst cases",
        "fr": "Effacer votre adresse des dossiers wefirst",
    },
    "erase_body": {
        "en": "Someone (hopefully you) asked to erase this address from the cases it "
        "co-signed on wefirst.\n\nConfirm with this link (valid {hours} hours):\n{link}\n\n"
        "Your signatures stay counted, without any way to contact you. If you did not ask, "
        "ignore this message.\n",
        "fr": "Quelqu'un (vous, espérons-le) a demandé d'effacer cette adresse des dossiers "
        "qu'elle a cosignés sur wefirst.\n\nConfirmez avec ce lien (valable {hours} heures) :"
        "\n{link}\n\nVos signatures restent comptées, sans aucun moyen de vous contacter. "
        "Si vous n'avez rien demandé, ignorez ce message.\n",
    },
    "alert_subject": {
        "en": "New case about your brand: {title}",
        "fr": "Nouveau dossier concernant votre marque : {title}",
    },
    "alert_body": {
        "en": "A {kind} case was opened about your brand on wefirst:\n\n{title}\n\n"
        "Read it and answer in public: {link}\n",
        "fr": "Un dossier ({kind}) a été ouvert concernant votre marque sur wefirst :\n\n"
        "{title}\n\nLisez-le et répondez publiquement : {link}\n",
    },
}


def message(key: str, lang: Lang = "en", /, **params: object) -> str:
    """Render one catalogue entry; unknown keys are a programming error, so they raise.
    Positional-only, so a placeholder may itself be called `key` or `code`."""
    return CATALOGUE[key][lang].format(**params)
