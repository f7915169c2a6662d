"""bench/RESULTS.md is written by more than one script: bench/register_bench.py writes the file
and each other script (bench/certificate_pdf.py, bench/certificate_verify.py) its own section
between markers, ``<!-- NAME: start -->`` and ``<!-- NAME: end -->``. These write it so that no
script drops another's figures."""

from __future__ import annotations

import re
from pathlib import Path

# A section another script keeps in RESULTS.md: ``<!-- NAME: start -->`` … ``<!-- NAME: end -->``.
_SECTION = re.compile(r"<!-- (?P<name>[\w.-]+): start -->.*?<!-- (?P=name): end -->\n?", re.DOTALL)


def write_section(text: str, path: Path, start: str, end: str) -> None:
    """Put ``text`` (which begins with ``start`` and ends with ``end``) in place of the section
    between those markers in ``path``, or after the rest of the file the first time."""
    current = path.read_text() if path.exists() else ""
    if start in current and end in current:
        head, rest = current.split(start, 1)
        _, tail = rest.split(end + "\n", 1) if end + "\n" in rest else rest.split(end, 1)
        path.write_text(head + text + tail)
    else:
        path.write_text(current.rstrip("\n") + "\n\n" + text)


def write_results(text: str, path: Path) -> None:
    """Write ``text`` as ``path``, keeping every section other scripts wrote there (between
    their markers, as :func:`write_section` writes them) after it, in the order they were in."""
    current = path.read_text() if path.exists() else ""
    kept = [(m.group(0), m.group("name")) for m in _SECTION.finditer(current)]
    path.write_text(text)
    for section, name in kept:
        end = f"<!-- {name}: end -->"
        write_section(section.rstrip("\n") + "\n", path, f"<!-- {name}: start -->", end)
