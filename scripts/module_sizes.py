"""Module and function sizes of the package, to keep modules small and functions short.

    python scripts/module_sizes.py [SRC_DIR] [--top N]

Prints the largest modules (lines), then every function longer than 80 lines or taking 10 or
more parameters (the issue's thresholds for a split or a parameter object), then totals.
SRC_DIR defaults to src/wefirst; point it at an unpacked older tree to compare."""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass
from pathlib import Path

LONG = 80
MANY = 10


@dataclass(frozen=True)
class Function:
    where: str
    lines: int
    params: int


def functions(path: Path, root: Path) -> list[Function]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            params = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
            params -= 1 if a.args and a.args[0].arg in ("self", "cls") else 0
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            found.append(Function(f"{path.relative_to(root)}:{node.lineno} {node.name}", lines, params))
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("src", nargs="?", default="src/wefirst")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    root = Path(args.src)
    files = sorted(p for p in root.rglob("*.py") if "migrations" not in p.parts)
    sizes = sorted(((len(p.read_text(encoding="utf-8").splitlines()), p) for p in files), reverse=True)
    print(f"{'lines':>6}  module (largest {args.top})")
    for n, p in sizes[: args.top]:
        print(f"{n:>6}  {p.relative_to(root)}")
    every = [f for p in files for f in functions(p, root)]
    flagged = sorted((f for f in every if f.lines > LONG or f.params >= MANY), key=lambda f: -f.lines)
    print(f"\n{'lines':>6} {'params':>6}  function over {LONG} lines or with {MANY}+ parameters")
    for f in flagged:
        print(f"{f.lines:>6} {f.params:>6}  {f.where}")
    total = sum(n for n, _ in sizes)
    print(
        f"\nmodules {len(files)}, lines {total}, modules over 500 lines "
        f"{sum(1 for n, _ in sizes if n > 500)}, functions {len(every)}, "
        f"over {LONG} lines {sum(1 for f in every if f.lines > LONG)}, "
        f"{MANY}+ parameters {sum(1 for f in every if f.params >= MANY)}"
    )


if __name__ == "__main__":
    main()
