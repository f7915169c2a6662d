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
# Pair keys, for searches of two words or more ("smi jo"): the start of one word of the name,
# a space, and the start of another word of it, both ways round. The first part is its word's
# first 1 to 5 letters; the second its word's first 1 or 2 letters after a first part of up to
# 3, or its first letter after a longer one. So "smi jo", "wils ja" and "jones e" are each one
# short range of keys that nearly all match, however large the register grows.
PAIR_FIRST_LENGTHS = (1, 2, 3, 4, 5)
PAIR_SECOND_LENGTHS = {1: (1, 2), 2: (1, 2), 3: (1, 2), 4: (1,), 5: (1,)}
KEY_MAX_LENGTH = max(n + 1 + max(PAIR_SECOND_LENGTHS[n]) for n in PAIR_FIRST_LENGTHS)


def name_keys(folded_name: str) -> set[str]:
    """The keys of each word alone: ``"smith jo"`` -> ``{"s", "sm", "smi", "smith", "j", "jo"}``."""
    return {word[:n] for word in folded_name.split() for n in KEY_LENGTHS if len(word) >= n}


def pair_keys(folded_name: str) -> set[str]:
    """``"smith jo"`` -> ``{"s j", "s jo", ..., "smit j", "smith j", "j s", "j sm", "jo s", ...}``:
    the start of a word, then the start of another word (not the same one) of the name."""
    words = folded_name.split()
    return {
        f"{first[:n]} {second[:m]}"
        for i, first in enumerate(words)
        for j, second in enumerate(words)
        if i != j
        for n in PAIR_FIRST_LENGTHS
        if len(first) >= n
        for m in PAIR_SECOND_LENGTHS[n]
        if len(second) >= m
    }


def search_keys(folded_name: str) -> set[str]:
    """Every key a name is found under: its words' keys and its pair keys."""
    return name_keys(folded_name) | pair_keys(folded_name)


def lookup_key(term: str) -> str:
    """The key under which every name with a word starting ``term`` is found."""
    return term[: max(n for n in KEY_LENGTHS if n <= len(term))]


def lookup_pair(first: str, second: str) -> str:
    """The pair key under which every name with a word starting ``first`` and another word
    starting ``second`` is found."""
    head = first[: max(n for n in PAIR_FIRST_LENGTHS if n <= len(first))]
    tail = second[: max(m for m in PAIR_SECOND_LENGTHS[len(head)] if m <= len(second))]
    return f"{head} {tail}"
