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


# Search keys: the first 1, 2, 3 and 5 letters of each word of a name. A term of up to 3
# letters is its own key; a longer one is looked up by its first 3 (4 letters) or 5, and the rest
# of the term is checked on the name itself.
KEY_LENGTHS = (1, 2, 3, 5)


def name_keys(folded_name: str) -> set[str]:
    """``"smith jo"`` -> ``{"s", "sm", "smi", "smith", "j", "jo"}``."""
    return {word[:n] for word in folded_name.split() for n in KEY_LENGTHS if len(word) >= n}


def lookup_key(term: str) -> str:
    """The key under which every name with a word starting ``term`` is found."""
    return term[: max(n for n in KEY_LENGTHS if n <= len(term))]
