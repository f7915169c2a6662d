"""Evidence files: what an upload really is, and keeping it in the data directory.

A file is judged by its content, never its name: its first bytes must be those of a PDF, a PNG
or a JPEG. A ``.pdf`` whose bytes are a PNG is kept, as the PNG it is (its real type is what is
stored and served); a ``.pdf`` holding text is refused, whatever it is called.

Files live under ``<data_dir>/files/<first two of sha256>/<sha256>``, so the same file uploaded
twice is kept once and a name can never reach outside that directory. Every check runs before
anything is written: a refused upload stores nothing, on disk or in the database.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import File

from registry.core import clock
from registry.db import transaction
from registry.errors import InvalidInput, NotFound
from registry.register.tables import EvidenceFile

MAX_BYTES = 10 * 1024 * 1024  # 10 MB
# A request carrying one file of MAX_BYTES: the body around it needs a little more room.
UPLOAD_BODY_LIMIT = MAX_BYTES + 2 * 1024 * 1024
MAX_FILENAME = 200
FIELD = "evidence"

# The first bytes of each accepted type, and the extension a download of it is given.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
EXTENSIONS = {content_type: extension for _, content_type, extension in SIGNATURES}
ALIASES = {".jpeg": ".jpg", ".jpe": ".jpg"}


@dataclass
class EvidenceUpload:
    """The multipart form of an evidence upload through the API: the file in its ``data`` part.
    Named, so the description says which part, and a form without it is told to choose a file;
    a bare ``UploadFile`` body made Litestar fail with a 500 on a form that held no file at all."""

    data: UploadFile | None = None


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed every check, not yet stored."""

    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class StoredFile:
    id: int
    sha256: str
    filename: str
    content_type: str
    size: int

    @property
    def download_name(self) -> str:
        """The name with the extension of what the file really is."""
        return download_name(self.filename, self.content_type)

    @property
    def size_label(self) -> str:
        if self.size >= 1024 * 1024:
            return f"{self.size / (1024 * 1024):.1f} MB"
        return f"{max(1, round(self.size / 1024))} KB"

    @property
    def type_label(self) -> str:
        return {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}.get(
            self.content_type, self.content_type
        )


def sniff(data: bytes) -> str | None:
    """The content type ``data`` really has, from its first bytes; None if not one we take."""
    for signature, content_type, _ in SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


def clean_filename(name: str) -> str:
    """The last part of whatever path a browser sent, without control characters, trimmed."""
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = "".join(
        char for char in unicodedata.normalize("NFC", base) if unicodedata.category(char)[0] != "C"
    ).strip()
    if len(cleaned) > MAX_FILENAME:
        stem, dot, extension = cleaned.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            cleaned = f"{stem[: MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            cleaned = cleaned[:MAX_FILENAME]
    return cleaned or "evidence"


def download_name(filename: str, content_type: str) -> str:
    extension = EXTENSIONS.get(content_type, "")
    stem, dot, current = filename.rpartition(".")
    if dot and stem and ALIASES.get(f".{current.lower()}", f".{current.lower()}") == extension:
        return filename
    return f"{stem if dot and stem else filename}{extension}"


async def read_upload(value: object) -> tuple[str, bytes | None]:
    """A posted file field as (its name, at most one byte more than the limit of its bytes), or
    ("", None) when no file was posted: enough to tell a file over the limit from one at it."""
    if not isinstance(value, UploadFile):
        return "", None
    return value.filename or "", await value.read(MAX_BYTES + 1)


def check_upload(
    filename: str,
    data: bytes | None,
    *,
    missing: str = "Select a file showing your qualification",
) -> CheckedFile:
    """Refuse a missing, empty, oversized or unrecognised file; say what is wrong with it
    (``missing``: what to say when no file was chosen, in the words of the page asking)."""
    if data is None or (not data and not filename):
        raise InvalidInput(missing, field=FIELD)
    if not data:
        raise InvalidInput("The selected file is empty", field=FIELD)
    if len(data) > MAX_BYTES:
        raise InvalidInput("The selected file must be smaller than 10 MB", field=FIELD)
    content_type = sniff(data)
    if content_type is None:
        raise InvalidInput("The selected file must be a PDF, PNG or JPEG", field=FIELD)
    return CheckedFile(clean_filename(filename), content_type, data)


def files_root(data_dir: Path) -> Path:
    return data_dir / "files"


def path_for(data_dir: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
        raise NotFound("There is no such file")
    return files_root(data_dir) / sha256[:2] / sha256


def write(data_dir: Path, checked: CheckedFile) -> bool:
    """Put the bytes in place (atomically); True if this call created the file."""
    target = path_for(data_dir, checked.sha256)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{checked.sha256}.{os.getpid()}.partial")
    with partial.open("wb") as out:
        out.write(checked.data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, target)
    return True


def discard(data_dir: Path, sha256: str) -> None:
    """Remove a file this request wrote, when what it was for was then refused."""
    path_for(data_dir, sha256).unlink(missing_ok=True)


async def record(checked: CheckedFile, *, uploaded_by: int | None) -> StoredFile:
    """The database row for a file already written; call it inside the caller's transaction."""
    inserted = await EvidenceFile.insert(
        EvidenceFile(
            sha256=checked.sha256,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=uploaded_by,
            uploaded_at=clock.now().astimezone(UTC),
        )
    ).returning(EvidenceFile.id)
    return StoredFile(
        inserted[0]["id"], checked.sha256, checked.filename, checked.content_type, checked.size
    )


async def store(
    data_dir: Path,
    checked: CheckedFile,
    *,
    uploaded_by: int | None,
    then: Callable[[StoredFile], Awaitable[None]],
) -> StoredFile:
    """Keep a checked file: its bytes in place, its row, and what it is attached to (``then``,
    run in the same transaction). If any of that is refused, a file this call wrote is taken
    away again, unless another row already stands for the same bytes."""

    async def then_one(stored: list[StoredFile]) -> None:
        await then(stored[0])

    [stored] = await store_many(data_dir, [checked], uploaded_by=uploaded_by, then=then_one)
    return stored


async def store_many(
    data_dir: Path,
    checked: Sequence[CheckedFile],
    *,
    uploaded_by: int | None,
    then: Callable[[list[StoredFile]], Awaitable[None]],
) -> list[StoredFile]:
    """:func:`store` for several files kept together: all of them and ``then`` in one
    transaction, or none of them (a file this call wrote is taken away again)."""
    created = [each.sha256 for each in checked if write(data_dir, each)]
    try:
        async with transaction():
            stored = [await record(each, uploaded_by=uploaded_by) for each in checked]
            await then(stored)
    except BaseException:
        for sha256 in dict.fromkeys(created):
            if not await EvidenceFile.exists().where(EvidenceFile.sha256 == sha256):
                discard(data_dir, sha256)
        raise
    return stored


def _claims() -> list[tuple[str, str]]:
    """Every (table, column) that holds an evidence file's id, read from the tables' own
    foreign keys, so a domain that adds one is counted without being named here."""
    from registry.db import registry_tables

    return [
        (table._meta.tablename, column._meta.db_column_name)
        for table in registry_tables()
        for column in table._meta.foreign_key_columns
        if column._foreign_key_meta.resolved_references is EvidenceFile
    ]


async def sweep_unclaimed(data_dir: Path, uploaded_before: datetime) -> int:
    """Remove files uploaded before ``uploaded_before`` that nothing holds (a concern's
    attachment whose concern was never sent): their rows, and their bytes where no other row
    stands for them. Every other upload is attached in the transaction that keeps it, and a
    concern's upload token lasts a day, so a file this old that nothing holds never will be."""
    table = EvidenceFile._meta.tablename
    unclaimed = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {holder} h WHERE h.{column} = {table}.id)"  # noqa: S608
        for holder, column in _claims()
    )
    async with transaction():
        removed = await EvidenceFile.raw(
            f"DELETE FROM {table} WHERE uploaded_at < {{}} AND {unclaimed} RETURNING sha256",  # noqa: S608
            uploaded_before.astimezone(UTC),
        )
    for sha256 in {row["sha256"] for row in removed}:
        if not await EvidenceFile.exists().where(EvidenceFile.sha256 == sha256):
            discard(data_dir, sha256)
    return len(removed)


async def get(file_id: int) -> StoredFile:
    row = await EvidenceFile.select().where(EvidenceFile.id == file_id).first()
    if row is None:
        raise NotFound("There is no such file")
    return StoredFile(row["id"], row["sha256"], row["filename"], row["content_type"], row["size"])


def open_stored(data_dir: Path, stored: StoredFile) -> Path:
    """The path of a stored file, checked to be there and to be what the database says."""
    path = path_for(data_dir, stored.sha256)
    if not path.is_file():
        raise NotFound("The file is missing from storage. Ask the service team to restore it.")
    return path


# How the API describes a download: the file's bytes, typed as what it is (PDF, PNG or JPEG).
# Litestar's own description of a File names no media type at all and gives Last-Modified as an
# ISO date-time where an HTTP date is sent; a client generated from it would refuse the answer.
DOWNLOAD_RESPONSES = {
    200: ResponseSpec(
        bytes, generate_examples=False, description="The file (PDF, PNG or JPEG)", media_type="*/*"
    )
}


def download(request: Request[Any, Any, Any], stored: StoredFile) -> File:
    """A stored file as a download (never shown in the browser, never cached): the one way
    every domain serves its evidence files."""
    return File(
        path=open_stored(request.app.state.settings.data_dir, stored),
        filename=stored.download_name,
        media_type=stored.content_type,
        content_disposition_type="attachment",
        headers={"Cache-Control": "no-store"},
    )
