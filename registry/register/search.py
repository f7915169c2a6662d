"""The public register's search: by name (any case or accents; the start of each word is
enough) or by registration number, filtered by region, role and status, in name order. A page
past the last (the count limit included) is not found.

Names are read from ``register_name_key`` (written with the entry by ``service``): one word by
its own key, two words or more by a pair key ("smi jo"), a region or status by the entry's copies
in the keys. So a page, and the count up to ``COUNT_LIMIT``, is a short index range that nearly
all matches however large the register grows. No HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import permutations
from typing import Any

from registry.db import bound_engine, fetch_all_by_key, fetch_all_now
from registry.errors import InvalidInput, NotFound
from registry.register import names, numbers
from registry.register.schemas import PublicEntry
from registry.register.service import reference_data
from registry.register.tables import RegisterStatus

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class SearchResult:
    entries: list[PublicEntry]
    total: int  # counted up to COUNT_LIMIT: past that, ``more`` says so
    page: int
    page_size: int
    more: bool = False

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.page_size))


# Counting every match of "smith" in a register of a million would cost more than finding the
# page: past this many, a search says "more than 1,000" and asks for more of the name.
COUNT_LIMIT = 1_000


@dataclass
class _SearchPlan:
    """The rows a search reads (``source``), in name order, narrowed by ``conditions``."""

    source: str = "register_entry e JOIN register_practitioner p ON p.id = e.practitioner"
    order: str = "p.search_name, e.id"
    # How to reach the entry (``e``) when the source does not hold it: only when needed, so
    # counting the names under a key reads that index alone.
    entry_join: str = ""
    conditions: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    filtered: bool = False  # a condition on the entry (a role; region or status without keys)
    filters: str = "e"  # the table the region and status are read from: "k" holds copies
    # Read by one key (a name key, or a registration number) and nothing else: every plan of
    # its statements is that key's range of an index in the order asked for, however many rows
    # the key has, so PostgreSQL need not plan it again for each key (``fetch_all_by_key``).
    keyed: bool = False

    def where(self, condition: str, *args: Any) -> None:
        self.conditions.append(condition)
        self.args.extend(args)

    def sql(self, select: str, *, entries: bool) -> str:
        source = self.source + (self.entry_join if entries or self.filtered else "")
        where = f" WHERE {' AND '.join(self.conditions)}" if self.conditions else ""
        return f"SELECT {select} FROM {source}{where}"  # noqa: S608 - values are parameters

    def page(self, page: int, page_size: int) -> tuple[str, list[Any]]:
        sql = self.sql("e.public_document", entries=True)
        return f"{sql} ORDER BY {self.order} LIMIT {{}} OFFSET {{}}", [
            *self.args,
            page_size,
            (page - 1) * page_size,
        ]

    def count(self) -> tuple[str, list[Any]]:
        sql = self.sql("1", entries=False)
        counted = f"SELECT COUNT(*) AS n FROM ({sql} LIMIT {{}}) c"  # noqa: S608
        return counted, [*self.args, COUNT_LIMIT + 1]

    def counted_page(self, page: int, page_size: int) -> tuple[str, list[Any]]:
        """:meth:`count` and :meth:`page` as one statement: one row per entry of the page, in
        order, each with the count (``n``); one row with the count and no entry when the page
        is empty. One round trip, and on PostgreSQL one pooled connection and one plan, instead
        of two. Only for a page whose offset is within the count limit: a page further on is
        past the last one anyway, and its offset could reach far along the index."""
        counted, count_args = self.count()
        ordered = ", ".join(f"{column} AS o{i}" for i, column in enumerate(self.order.split(", ")))
        columns = ", ".join(f"p.o{i}" for i in range(self.order.count(",") + 1))
        sql = self.sql(f"e.public_document, {ordered}", entries=True)
        return (
            f"SELECT c.n, p.public_document FROM ({counted}) c "  # noqa: S608
            f"LEFT JOIN ({sql} ORDER BY {self.order} LIMIT {{}} OFFSET {{}}) p ON TRUE "
            f"ORDER BY {columns}",
            [*count_args, *self.args, page_size, (page - 1) * page_size],
        )


async def search(
    *,
    query: str = "",
    region: str = "",
    role: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
) -> SearchResult:
    """The public register, by name (any case or accents; the start of each word is enough) or
    by registration number, filtered by region, role and status, in name order."""
    found, documents = await search_documents(
        query=query, region=region, role=role, status=status, page=page, page_size=page_size
    )
    return replace(found, entries=[PublicEntry.model_validate_json(d) for d in documents])


async def search_documents(
    *,
    query: str = "",
    region: str = "",
    role: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
) -> tuple[SearchResult, list[str]]:
    """:func:`search` with each entry as its public document (JSON, as the lookup serves it),
    not parsed: the API returns them as they are. The result's ``entries`` are left empty."""
    if page < 1:
        raise InvalidInput("Page must be 1 or more", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"Page size must be from 1 to {MAX_PAGE_SIZE}", field="page_size")
    plan = await _plan(query, region=region, role=role, status=status)
    # Both reads are short index ranges (the count stops at COUNT_LIMIT + 1, a page is at most
    # MAX_PAGE_SIZE rows past an offset under COUNT_LIMIT): read without a thread hop.
    if bound_engine().engine_type == "postgres" and (page - 1) * page_size < COUNT_LIMIT:
        # One round trip. SQLite has none to save, and sorts the joined rows again (~10 µs).
        read = fetch_all_by_key if plan.keyed else fetch_all_now
        rows = await read(*_flat(plan.counted_page(page, page_size)))
        total = int(rows[0]["n"])
        documents = [row["public_document"] for row in rows if row["public_document"] is not None]
    else:
        rows = await fetch_all_now(*_flat(plan.count()))
        total = int(rows[0]["n"])
        documents = []
    found = SearchResult([], min(total, COUNT_LIMIT), page, page_size, more=total > COUNT_LIMIT)
    if page > found.last_page:
        # An empty "page 151" reads as a register with nobody on it; past the count limit the
        # search asks for more of the name instead of paging on.
        raise NotFound(
            f"There is no page {page:,} of these results: they end at page {found.last_page:,}"
        )
    if not documents and total:
        rows = await fetch_all_now(*_flat(plan.page(page, page_size)))
        documents = [row["public_document"] for row in rows]
    return found, documents


async def search_statements(
    query: str, *, region: str = "", status: str = "", page: int = 1, page_size: int = 20
) -> dict[str, tuple[str, list[Any]]]:
    """The SQL search() runs for a query (``{}`` for each value), for benchmarks and EXPLAIN."""
    plan = await _plan(query, region=region, role="", status=status)
    return {"page": plan.page(page, page_size), "count": plan.count()}


def _flat(statement: tuple[str, list[Any]]) -> list[Any]:
    return [statement[0], *statement[1]]


async def _plan(query: str, *, region: str, role: str, status: str) -> _SearchPlan:
    if status and status not in RegisterStatus.__members__:
        raise InvalidInput(
            f"'{status}' is not a status. Use one of: {', '.join(RegisterStatus)}",
            field="status",
        )
    if query.strip() and numbers.looks_like_a_number(query):
        plan = _SearchPlan(keyed=True)
        plan.where("e.registration_number = {}", numbers.parse_registration_number(query))
    else:
        plan = await _name_plan(names.search_terms(query))
    await _filter(plan, region=region, role=role, status=status)
    return plan


async def _name_plan(terms: list[str]) -> _SearchPlan:
    """Names are read from the name keys in name order, so a page of a common name is a short
    range scan, however large the register grows."""
    if not terms:
        return _SearchPlan()
    plan = _SearchPlan(
        source="register_name_key k",
        entry_join=" JOIN register_entry e ON e.id = k.entry",
        order="k.name, k.entry",
        filters="k",
        keyed=True,
    )
    key = _narrowest_key(terms)
    plan.where("k.key = {}", key)
    parts = key.split(" ")
    for term in dict.fromkeys(terms):
        if term not in parts:
            # The key holds the term's first letters (or none); the name must hold the term.
            plan.where("(' ' || k.name) LIKE {}", f"% {term}%")
    return plan


def _narrowest_key(terms: list[str]) -> str:
    """The key that fixes the most letters of the search: a pair key for two words that cannot
    be the start of one word of the name, else the longest word's own key."""
    keys = [names.lookup_key(term) for term in terms]
    keys += [
        names.lookup_pair(first, second)
        for first, second in permutations(dict.fromkeys(terms), 2)
        if not (first.startswith(second) or second.startswith(first))
    ]
    return max(keys, key=lambda key: len(key.replace(" ", "")))


async def _filter(plan: _SearchPlan, *, region: str, role: str, status: str) -> None:
    # Region and status are read from the name keys when searching by name (their copies there
    # are indexed with the key), so only a role needs the entry.
    plan.filtered = bool(role) or (plan.filters == "e" and bool(region or status))
    # A filter makes how rare each value is matter (which index, whether to walk the name's
    # range or the filter's): planned for each search, on the pool.
    plan.keyed = plan.keyed and not (region or role or status)
    if region or role:
        reference = await reference_data(active_only=False)
        if region:
            plan.where(f"{plan.filters}.region = {{}}", reference.region(region).id)
        if role:
            plan.where(
                "EXISTS (SELECT 1 FROM register_entry_role r WHERE r.entry = e.id AND r.role = {})",
                reference.role(role).id,
            )
    if status:
        plan.where(f"{plan.filters}.status = {{}}", status)
