"""What text may hold, whichever way it arrives: a form, the API, an address, an import.

Control characters never belong in what a person types: PostgreSQL refuses a NUL byte outright,
and the rest corrupt the open data and the emails text reaches. Characters that change the
direction of text (a right-to-left override) make a name or a file name read as something it is
not, so they are refused too. Services and the web edge share these rules, so there is one list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Line breaks and tabs are how multi-line text (an address, a declaration's details) is typed.
LINE_BREAKS = frozenset("\t\n\r")
# Embeddings, overrides and isolates, the left-to-right and right-to-left marks, and the Arabic
# letter mark: each reorders or redirects the text around it without being seen.
DIRECTION_CHARACTERS = frozenset(
    [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
# Letters of these scripts look alike (Latin "S", Cyrillic "\u0405"): mixed, they may impersonate.
LOOKALIKE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _one_of(characters: Iterable[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(character) for character in sorted(characters)) + "]")


# Unicode's control characters (category Cc: U+0000-U+001F and U+007F-U+009F, a set fixed for
# good) and surrogates (Cs), as character classes: every text field of every request is checked,
# and the regular expression engine looks at each character for a fraction of what Python does.
_CONTROLS = frozenset(chr(code) for code in (*range(0x00, 0x20), *range(0x7F, 0xA0)))
_CONTROL = re.compile(_one_of(_CONTROLS).pattern[:-1] + "\ud800-\udfff]")
_CONTROL_BUT_LINE_BREAKS = re.compile(
    _one_of(_CONTROLS - LINE_BREAKS).pattern[:-1] + "\ud800-\udfff]"
)
_DIRECTION = _one_of(DIRECTION_CHARACTERS)


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """True if ``text`` holds a control character (or half a surrogate pair, which no encoding
    can store); line breaks and tabs are allowed in ``multiline`` text."""
    return (_CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL).search(text) is not None


def has_direction_characters(text: str) -> bool:
    return _DIRECTION.search(text) is not None


def control_message(label: str) -> str:
    return f"{label} must not contain control characters"


def direction_message(label: str) -> str:
    return f"{label} must not contain characters that change the direction of text"


def text_problem(text: str, label: str, *, multiline: bool = False) -> str | None:
    """What is wrong with ``text`` as anything a person types, in their words, if anything."""
    if has_control_characters(text, multiline=multiline):
        return control_message(label)
    if has_direction_characters(text):
        return direction_message(label)
    return None


def scripts_of(text: str) -> frozenset[str]:
    """The look-alike scripts whose letters ``text`` uses (accented Latin is still Latin)."""
    found: set[str] = set()
    for character in text:
        if not character.isalpha():
            continue
        script = unicodedata.name(character, "").split(" ", 1)[0]
        if script in LOOKALIKE_SCRIPTS:
            found.add(script)
    return frozenset(found)


def mixes_scripts(text: str) -> bool:
    """True if ``text`` mixes letters of Latin, Cyrillic and Greek, as a look-alike name does."""
    return len(scripts_of(text)) > 1
