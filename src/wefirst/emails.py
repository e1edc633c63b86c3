"""E-mail addresses: one syntax check and the two normal forms the product really needs.

- `mailbox(raw)`: the address mail is delivered to, as a login identity or a contact. Case is
  folded (nobody has two accounts differing by case) but `+tags` and dots stay: they can be
  different mailboxes, and the magic link must reach the one the person typed.
- `person_key(raw)`: the form that counts one person once (one signature per person): also drops
  the `+tag` and, for Gmail, the dots, which would otherwise be free extra identities.

Both refuse what no mail server would accept (one @, local part of RFC 5322 atoms, a domain of
valid labels with a non-numeric top level), so a sign-in address and a signature address are
judged by the same rule.
"""

from __future__ import annotations

import re
from typing import Final

_LOCAL: Final = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_LABEL: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_GMAIL: Final = frozenset({"gmail.com", "googlemail.com"})


class BadEmailError(ValueError):
    """The text is not an address we can send mail to; the message says which part is wrong."""


def _parts(raw: str) -> tuple[str, str, str]:
    """(local part as typed, domain lower-cased as typed, domain in IDNA ASCII)."""
    addr = raw.strip()
    if len(addr) > 254 or addr.count("@") != 1:
        raise BadEmailError("an e-mail address has exactly one @ and at most 254 characters")
    local, domain = addr.rsplit("@", 1)
    domain = domain.lower().rstrip(".")
    if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise BadEmailError("the part before @ is not valid")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadEmailError("the domain is not valid") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(lb) for lb in labels) or labels[-1].isdigit():
        raise BadEmailError("the domain is not valid")
    return local, domain, ascii_domain


def mailbox(raw: str) -> str:
    """The deliverable address, case-folded: the key of a console user or a contact."""
    local, domain, _ascii = _parts(raw)
    return f"{local.lower()}@{domain}"


def person_key(raw: str) -> str:
    """The canonical form used to count a person once: lower case, `+tag` removed, Gmail's
    dots removed, the domain in IDNA ASCII."""
    local, _domain, domain = _parts(raw)
    local = local.lower().split("+", 1)[0]
    if not local:
        raise BadEmailError("the part before @ is not valid")
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"
