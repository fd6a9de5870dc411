"""The daemon's state database: SQLite in WAL mode, one writer (the daemon).

Each store module registers its own tables with `Database.ensure_schema`; every API mutation runs
inside one `transaction()` so it is all-or-nothing. Calls are synchronous and short: the daemon runs
them on its event loop (each is well under a millisecond) rather than paying for a thread hop.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Params = Sequence[Any] | dict[str, Any]


class Database:
    """A SQLite connection with nested transactions (savepoints inside an outer BEGIN)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._lock = threading.RLock()

    def ensure_schema(self, statements: Iterable[str]) -> None:
        """Apply idempotent DDL (`CREATE TABLE IF NOT EXISTS …`)."""
        with self.transaction():
            for sql in statements:
                self._conn.execute(sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing block; nested blocks become savepoints of the outer one."""
        with self._lock:
            depth = self._depth
            self._conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                self._conn.execute("ROLLBACK" if depth == 0 else f"ROLLBACK TO sp{depth}")
                if depth:
                    self._conn.execute(f"RELEASE sp{depth}")
                raise
            self._depth -= 1
            self._conn.execute("COMMIT" if depth == 0 else f"RELEASE sp{depth}")

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    def close(self) -> None:
        self._conn.close()
