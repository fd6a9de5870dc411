"""Container records in state.db: one row per container, the record as JSON, the name unique."""

from __future__ import annotations

import json
from dataclasses import replace

from dockwright.errors import Conflict, InvalidParameter, NotFound
from dockwright.store.db import Database
from dockwright.types.codec import from_plain, to_plain
from dockwright.types.container import Container

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created REAL NOT NULL,
        record TEXT NOT NULL
    )""",
)


class ContainerStore:
    """Persists `Container` records; lookups by full id, name or unique id prefix.

    Records are read on every API call that names a container; decoding the JSON is most of
    that, so the last decoded form of each record is kept and handed out as a copy whose
    mutable part (the state) is its own. The row stays the source of truth: a changed record
    text is decoded again.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._decoded: dict[str, tuple[str, Container]] = {}
        db.ensure_schema(SCHEMA)

    def _load(self, text: str) -> Container:
        cid = _record_id(text)
        hit = self._decoded.get(cid)
        if hit is None or hit[0] != text:
            hit = (text, _load(text))
            self._decoded[hit[1].id] = hit
        c = hit[1]
        return replace(c, state=replace(c.state))

    def insert(self, c: Container) -> None:
        try:
            self.db.execute(
                "INSERT INTO containers (id, name, created, record) VALUES (?, ?, ?, ?)",
                (c.id, c.name, c.created, _dump(c)),
            )
        except Exception as exc:  # sqlite3.IntegrityError
            if "UNIQUE" in str(exc) and "name" in str(exc):
                raise Conflict(f'the container name "/{c.name}" is already in use') from None
            raise

    def save(self, c: Container) -> None:
        """Write the whole record (name included) of an existing container."""
        try:
            changed = self.db.execute(
                "UPDATE containers SET name = ?, record = ? WHERE id = ?", (c.name, _dump(c), c.id)
            )
        except Exception as exc:
            if "UNIQUE" in str(exc):
                raise Conflict(f'the container name "/{c.name}" is already in use') from None
            raise
        if not changed:
            raise NotFound(f"no such container: {c.id}")

    def delete(self, cid: str) -> None:
        self.db.execute("DELETE FROM containers WHERE id = ?", (cid,))
        self._decoded.pop(cid, None)

    def all(self) -> list[Container]:
        rows = self.db.query("SELECT record FROM containers ORDER BY created DESC")
        return [self._load(r["record"]) for r in rows]

    def get(self, ref: str) -> Container:
        """By full id, exact name (with or without leading '/'), or unique id prefix."""
        if not ref:
            raise InvalidParameter("container name or id cannot be empty")
        row = self.db.query_one(
            "SELECT record FROM containers WHERE id = ? OR name = ?", (ref, ref.lstrip("/"))
        )
        if row is not None:
            return self._load(row["record"])
        rows = self.db.query(
            "SELECT record FROM containers WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
            (_like_prefix(ref.lower()),),
        )
        if len(rows) == 1:
            return self._load(rows[0]["record"])
        if len(rows) > 1:
            raise InvalidParameter(f"multiple IDs found with provided prefix: {ref}")
        raise NotFound(f"No such container: {ref}")

    def name_taken(self, name: str) -> bool:
        return self.db.query_one("SELECT 1 FROM containers WHERE name = ?", (name,)) is not None


def _like_prefix(ref: str) -> str:
    escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _dump(c: Container) -> str:
    return json.dumps(to_plain(c), separators=(",", ":"))


def _record_id(text: str) -> str:
    """The id of a record's JSON text without decoding it (`_dump` writes `id` first)."""
    return text[7:71] if text.startswith('{"id":"') else ""


def _load(text: str) -> Container:
    return from_plain(Container, json.loads(text))
