"""Subject access: everything the service holds about one person, gathered from every domain.

A person is found from a registration number or an email address, then each domain in force
adds what it knows identifies them (accounts: the user behind an email; the register: the
practitioner behind a number, their applications), round after round until nothing new is
found. Each domain then writes its own part of ``person.json`` from those keys, and names the
files to copy beside it. A domain never puts a secret in its part (a password, token, session,
reset-link or recovery-code hash, a second-factor secret, a live link): an export may be sent
by post or email, and must not be a way into the account.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.core import clock

if TYPE_CHECKING:
    from registry.core.domain import Domain

PERSON_FILE = "person.json"
FILES = "files"
EMAIL = "email"
REGISTRATION_NUMBER = "register_entry"  # the audit trail's target type for an entry
MAX_ROUNDS = 10
UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class PersonKeys:
    """What identifies one person in the records, by kind: the audit trail's target types
    (``user``, ``api_token``, ``register_entry``, ``register_application``, …) plus ``email``
    and whatever else a domain keys its records by, each with the ids found so far (as text,
    as the audit trail keeps them)."""

    ids: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def of(self, kind: str) -> frozenset[str]:
        return self.ids.get(kind, frozenset())

    def numbers(self, kind: str) -> list[int]:
        """The ids of ``kind`` that are numbers (row ids), in order."""
        return sorted(int(value) for value in self.of(kind) if value.isdigit())

    def adding(self, kind: str, values: Iterable[object]) -> PersonKeys:
        found = frozenset(str(value) for value in values if value is not None and value != "")
        if found <= self.of(kind):
            return self
        return PersonKeys({**self.ids, kind: self.of(kind) | found})

    def as_json(self) -> dict[str, list[str]]:
        return {kind: sorted(values) for kind, values in sorted(self.ids.items()) if values}


@dataclass(frozen=True)
class SubjectFile:
    """A file held about the person, copied into the export as ``name``."""

    name: str
    path: Path


@dataclass(frozen=True)
class SubjectRecords:
    """One domain's part of the export: JSON-ready data and the files to copy beside it."""

    data: Mapping[str, Any]
    files: Sequence[SubjectFile] = ()


# (keys so far) -> the keys with whatever this domain adds; must not remove any.
Identify = Callable[[PersonKeys], Awaitable[PersonKeys]]
# (keys, data directory) -> this domain's part of the export.
ExportPart = Callable[[PersonKeys, Path], Awaitable[SubjectRecords]]


async def _found_nothing(person: PersonKeys) -> PersonKeys:
    return person


@dataclass(frozen=True)
class SubjectAccess:
    """What a domain adds to a subject access export, under ``part`` in ``person.json``."""

    part: str
    export: ExportPart
    identify: Identify = _found_nothing


class UnknownPerson(Exception):
    """No domain holds anything about the person asked for."""


def starting_keys(who: str) -> PersonKeys:
    """An email address or a registration number, as typed."""
    text = who.strip()
    if "@" in text:
        return PersonKeys().adding(EMAIL, [text.casefold()])
    return PersonKeys().adding(REGISTRATION_NUMBER, [text.upper()])


async def identify(domains: Sequence[Domain], who: str) -> PersonKeys:
    """Every key of the person ``who`` names, as every domain in force knows them."""
    start = starting_keys(who)
    person = start
    for _ in range(MAX_ROUNDS):
        before = person
        for domain in domains:
            for access in domain.subject_access:
                person = await access.identify(person)
        if person == before:
            break
    if person == start:
        raise UnknownPerson(f"No one is known by {who.strip()!r}: no account or register entry")
    return person


@dataclass(frozen=True)
class Export:
    """Everything held about one person: ``person.json``'s content and the files to copy."""

    document: dict[str, Any]
    files: Sequence[tuple[str, SubjectFile]]  # (the part that holds it, the file)


async def gather(domains: Sequence[Domain], who: str, data_dir: Path) -> Export:
    """Every domain's part of the export about the person ``who`` names."""
    person = await identify(domains, who)
    document: dict[str, Any] = {
        "exported_at": clock.now().isoformat(),
        "asked_for": who.strip(),
        "identified_by": person.as_json(),
    }
    files: list[tuple[str, SubjectFile]] = []
    for domain in domains:
        for access in domain.subject_access:
            records = await access.export(person, data_dir)
            document[access.part] = records.data
            files.extend((access.part, held) for held in records.files)
    return Export(document, files)


def check_new_folder(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: give the export a new folder")


def write(export: Export, out: Path) -> Path:
    """Write ``person.json`` and copies of the files into ``out`` (new or empty)."""
    check_new_folder(out)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data
    listed = [_copy(out, part, held) for part, held in export.files]
    document = {**export.document, "files": listed}
    target = out / PERSON_FILE
    target.write_text(json.dumps(document, indent=2, default=_plain) + "\n")
    return target


def _copy(out: Path, part: str, held: SubjectFile) -> dict[str, str]:
    name = f"{FILES}/{part}/{UNSAFE_IN_NAME.sub('_', Path(held.name).name)}"
    target = out / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if held.path.is_file():
        shutil.copyfile(held.path, target)
        return {"file": name, "from": part}
    return {"file": name, "from": part, "missing": "the file is no longer in the data directory"}


def _plain(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
