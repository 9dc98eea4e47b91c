"""Size limits of the package: no function over 80 lines in the analysis and command-line
layers, no module over 600 lines anywhere.

Long functions there mixed reading, choosing and formatting (the chart command once picked its
benchmarks inside a 100-line function); long modules hide more than one responsibility. A
function counts from its ``def`` line to its last line (nested functions count on their own
too); a module counts every line.

    python scripts/check_sizes.py [PACKAGE]   # default: tensorbench/ beside this script

Prints one line per offender and exits 1 if there is any, else 0.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 600
FUNCTION_LIMITED = ("analysis", "cli")  # subpackages whose functions are held to the limit
DEFAULT_PACKAGE = Path(__file__).resolve().parents[1] / "tensorbench"


def long_functions(path: Path, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function in ``path`` over ``limit``."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    length = (child.end_lineno or child.lineno) - child.lineno + 1
                    if length > limit:
                        found.append((name, child.lineno, length))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), "")
    return found


def offenders(package: Path) -> list[str]:
    """One line per function or module over its limit under ``package``, in path order."""
    lines = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            lines.append(f"{rel}: module of {n} lines (limit {MAX_MODULE_LINES})")
        if path.relative_to(package).parts[0] in FUNCTION_LIMITED:
            for name, first, length in long_functions(path):
                lines.append(
                    f"{rel}:{first}: {name}() is {length} lines (limit {MAX_FUNCTION_LINES})"
                )
    return lines


def main(argv: list[str]) -> int:
    package = Path(argv[0]) if argv else DEFAULT_PACKAGE
    if not package.is_dir():
        print(f"check_sizes: not a folder: {package}", file=sys.stderr)
        return 2
    found = offenders(package)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
