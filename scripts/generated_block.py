"""A block of a doc that a script generates, kept between two marker lines so the prose around it
stays hand-written (scripts/import_graph.py and scripts/module_sizes.py write theirs into
docs/ARCHITECTURE.md; tests/test_architecture.py reads them back to check they are not stale).

Each script runs as `python scripts/<name>.py`, so this folder is on its import path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GeneratedBlock:
    doc: Path
    begin: str
    end: str

    def current(self, text: str) -> str | None:
        """The block in `text`, markers included, or None when a marker is missing."""
        start, end = text.find(self.begin), text.find(self.end)
        if start < 0 or end < 0:
            return None
        return text[start : end + len(self.end)]

    def write(self, block: str) -> None:
        """Replace the block in the doc by `block` (which carries the markers itself)."""
        text = self.doc.read_text(encoding="utf-8")
        old = self.current(text)
        if old is None:
            raise SystemExit(f"{self.doc}: add the markers {self.begin!r} and {self.end!r} where it goes")
        self.doc.write_text(text.replace(old, block), encoding="utf-8")
