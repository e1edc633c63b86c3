"""Keep the gettext catalogues in step with the code (docs/translations.md).

    python scripts/translations.py update   # extract every string, add new ones to each .po
    python scripts/translations.py check    # exit 1 if a string lacks a translation or drifted

`update` is `pybabel extract` (babel.cfg says where: Python's _(), gettext(), N_() and the
templates' _() and {% trans %}) followed by `pybabel update` without fuzzy matching (a guessed
translation would be shown as if it were checked) and without keeping obsolete entries. The
catalogue is sorted and carries no file/line locations, so two changes in different files do
not collide in it. New strings arrive with an empty msgstr: fill them in, then run `check`."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "wefirst"
LOCALE_DIR = PACKAGE / "locale"
CONFIG = REPO / "babel.cfg"


def catalogues() -> Iterator[tuple[str, Path]]:
    for po in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")):
        yield po.parts[-3], po


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def extracted() -> set[str]:
    """Every msgid the code and the templates ask for, as `pybabel extract` finds them."""
    with CONFIG.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(PACKAGE, method_map, options_map):
        found.add(message if isinstance(message, str) else message[0])
    return found


def problems() -> list[str]:
    """What `check` reports: per locale, strings asked for but missing, entries nothing asks
    for, and entries left empty or fuzzy."""
    wanted = extracted()
    out: list[str] = []
    for locale, path in catalogues():
        catalog = read_catalogue(path)
        ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        out += [f"{locale}: not in the catalogue: {m!r}" for m in sorted(wanted - ids)]
        out += [f"{locale}: nothing asks for: {m!r}" for m in sorted(ids - wanted)]
        out += [f"{locale}: obsolete entry: {m.id!r}" for m in catalog.obsolete.values()]
        for m in catalog:
            if not m.id:
                continue
            if m.fuzzy:
                out.append(f"{locale}: fuzzy: {m.id!r}")
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            if not all(strings):
                out.append(f"{locale}: no translation: {m.id!r}")
    return out


def update() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        pybabel = [sys.executable, "-m", "babel.messages.frontend", "--quiet"]
        subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
            [*pybabel, "extract", "-F", str(CONFIG), "-o", str(pot), "--no-location", "--sort-output",
             "--project", "wefirst", str(PACKAGE)],
            check=True,
        )  # fmt: skip
        subprocess.run(  # noqa: S603
            [*pybabel, "update", "-i", str(pot), "-d", str(LOCALE_DIR), "--no-fuzzy-matching",
             "--ignore-obsolete"],
            check=True,
        )  # fmt: skip


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
    elif argv[1:] != ["check"]:
        print(__doc__)
        return 2
    found = problems()
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
