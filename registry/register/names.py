"""Names folded for search: case, accents and punctuation do not matter to someone searching."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile("['\\N{RIGHT SINGLE QUOTATION MARK}\\N{LEFT SINGLE QUOTATION MARK}`]")
_SEPARATORS = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """``"Zoë O'Brien-Smith"`` -> ``"zoe obrien smith"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_SEPARATORS.sub(" ", _APOSTROPHES.sub("", bare)).split())


def search_name(given_names: str, family_name: str) -> str:
    """The stored search and sort key: family name first, so results list alphabetically."""
    return fold(f"{family_name} {given_names}")


def search_terms(query: str) -> list[str]:
    """The words of a search, folded the same way; each matches the start of a name's word."""
    return fold(query).split()[:8]
