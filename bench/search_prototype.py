"""A bench-only prototype of a name search whose cost does not grow with the number of matches.

Not used by the service: register_bench.py times it beside ``registry.register.service.search``
to show what the proposal in bench/RESULTS.md would buy. Name queries only (no filters), page 1
onwards. What it changes, and why:

1. The total is counted up to ``CAP + 1`` rows only: past that the answer is "more than 1,000"
   (``capped=True``). Counting every match of "smi" in a million names costs as much as
   listing them.
2. With at most ``CAP`` matches the page is sorted as now, from the name index's matches (on
   PostgreSQL the matches are taken from the GIN index first, in a materialised CTE: left to
   itself the planner walks the whole ``search_name`` B-tree looking for 20 matches, seconds at
   a million names).
3. With more than ``CAP`` matches, sorting them all by name is what costs: instead page 1 is
   the names whose first word (the family name) starts with one of the terms, read in order from
   the ``search_name`` B-tree (a range scan that stops after a page), the other terms checked on
   the name itself. Names that match only on a later word (a given name) are left to a narrower
   search, and the page says so. When the ranges hold less than a page (a given name alone,
   "olivia"), it falls back to sorting every match, as now.

Ties are broken on the practitioner's id rather than the registration number, so the B-tree's
own order (name, rowid) serves the ORDER BY without a sort.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from registry.db import bound_engine
from registry.register import names
from registry.register.schemas import PublicEntry
from registry.register.tables import RegisterEntry

CAP = 1000
FTS_TABLE = "register_search"


@dataclass(frozen=True)
class PrototypeResult:
    entries: list[PublicEntry]
    total: int
    capped: bool  # True: more than CAP matches; total is CAP + 1
    strategy: str  # "sorted" (every match sorted), "ranges", or "ranges+sorted"


def _upper(term: str) -> str:
    """The first string after every string starting with ``term``."""
    return term[:-1] + chr(ord(term[-1]) + 1)


async def search(query: str, *, page: int = 1, page_size: int = 20) -> PrototypeResult:
    terms = names.search_terms(query)
    if not terms:
        raise ValueError("the prototype searches names only")
    postgres = bound_engine().engine_type == "postgres"
    if postgres:
        matched = (
            "SELECT p.id, p.search_name FROM register_practitioner p"
            " WHERE to_tsvector('simple', p.search_name) @@ to_tsquery('simple', {})"
        )
        argument = " & ".join(f"{term}:*" for term in terms)
        counted = await RegisterEntry.raw(
            f"WITH m AS MATERIALIZED ({matched}) SELECT COUNT(*) AS n FROM"
            f" (SELECT 1 FROM m JOIN register_entry e ON e.practitioner = m.id"
            f" LIMIT {CAP + 1}) c",
            argument,
        )
    else:
        matched = (
            f"SELECT p.id, p.search_name FROM {FTS_TABLE} s"
            f" JOIN register_practitioner p ON p.id = s.rowid WHERE {FTS_TABLE} MATCH {{}}"
        )
        argument = " AND ".join(f'"{term}"*' for term in terms)
        counted = await RegisterEntry.raw(
            f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {FTS_TABLE} s"
            " JOIN register_entry e ON e.practitioner = s.rowid"
            f" WHERE {FTS_TABLE} MATCH {{}} LIMIT {CAP + 1}) c",
            argument,
        )
    total = int(counted[0]["n"])
    wanted = page * page_size

    async def sorted_matches() -> list[str]:
        # Keys first: only the page's 20 documents are read, not every match's.
        cte = "WITH m AS MATERIALIZED" if postgres else "WITH m AS"
        rows = await RegisterEntry.raw(
            f"{cte} ({matched}) SELECT e.public_document FROM"
            " (SELECT m.id, m.search_name FROM m WHERE EXISTS"
            " (SELECT 1 FROM register_entry x WHERE x.practitioner = m.id)"
            " ORDER BY m.search_name, m.id LIMIT {} OFFSET {}) k"
            " JOIN register_entry e ON e.practitioner = k.id ORDER BY k.search_name, k.id",
            argument,
            page_size,
            (page - 1) * page_size,
        )
        return [r["public_document"] for r in rows]

    if total <= CAP:
        documents, strategy = await sorted_matches(), "sorted"
    else:
        runs: list[list[tuple[str, int, str]]] = []
        for term in dict.fromkeys(terms):
            others = [t for t in terms if t != term]
            conditions = ["p.search_name >= {}", "p.search_name < {}"]
            args: list[Any] = [term, _upper(term)]
            for other in others:
                conditions.append("(' ' || p.search_name) LIKE {}")
                args.append(f"% {other}%")
            rows = await RegisterEntry.raw(
                "SELECT p.search_name AS name, p.id AS id, e.public_document AS document"
                " FROM register_practitioner p JOIN register_entry e ON e.practitioner = p.id"
                f" WHERE {' AND '.join(conditions)} ORDER BY p.search_name, p.id LIMIT {{}}",
                *args,
                wanted,
            )
            runs.append([(r["name"], int(r["id"]), r["document"]) for r in rows])
        merged: list[tuple[str, int, str]] = []
        seen: set[int] = set()
        for row in heapq.merge(*runs):
            if row[1] not in seen:
                seen.add(row[1])
                merged.append(row)
        documents = [row[2] for row in merged[(page - 1) * page_size : wanted]]
        strategy = "ranges"
        if len(merged) < wanted:  # the ranges cannot fill the page: sort every match after all
            documents, strategy = await sorted_matches(), "ranges+sorted"
    return PrototypeResult(
        [PublicEntry.model_validate_json(d) for d in documents], total, total > CAP, strategy
    )
