"""Networks and endpoints in state.db (one row each, the record as JSON).

Endpoints are the source of truth for address and port allocations: a restarted daemon
recomputes the free addresses and the nft rules from them.
"""

from __future__ import annotations

import json
from typing import Any

from dockwright.errors import Conflict, InvalidParameter, NotFound
from dockwright.network.model import Endpoint, Network, Wanted
from dockwright.store.db import Database
from dockwright.types.codec import from_plain, to_plain

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS endpoints (
        id TEXT PRIMARY KEY,
        network_id TEXT NOT NULL,
        container_id TEXT NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (network_id, container_id)
    )""",
    """CREATE TABLE IF NOT EXISTS wanted (
        container_id TEXT NOT NULL,
        network_id TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (container_id, network_id)
    )""",
)


def _dump(value: Any) -> str:
    return json.dumps(to_plain(value), separators=(",", ":"))


class NetworkRecords:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema(SCHEMA)

    def insert_network(self, n: Network) -> None:
        try:
            self.db.execute(
                "INSERT INTO networks (id, name, record) VALUES (?, ?, ?)", (n.id, n.name, _dump(n))
            )
        except Exception as exc:  # sqlite3.IntegrityError
            if "UNIQUE" in str(exc):
                raise Conflict(f"network with name {n.name} already exists") from None
            raise

    def delete_network(self, nid: str) -> None:
        self.db.execute("DELETE FROM networks WHERE id = ?", (nid,))

    def networks(self) -> list[Network]:
        rows = self.db.query("SELECT record FROM networks ORDER BY name")
        return [from_plain(Network, json.loads(r["record"])) for r in rows]

    def network(self, ref: str) -> Network:
        """By full id, exact name, or unique id prefix (Docker's order)."""
        if not ref:
            raise InvalidParameter("network name or id cannot be empty")
        nets = self.networks()
        for match in (
            lambda n: n.id == ref,
            lambda n: n.name == ref,
            lambda n: n.id.startswith(ref),
        ):
            found = [n for n in nets if match(n)]
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise NotFound(f"network {ref} is ambiguous ({len(found)} matches found on id)")
        raise NotFound(f"network {ref} not found")

    def save_endpoint(self, ep: Endpoint) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO endpoints (id, network_id, container_id, record) "
            "VALUES (?, ?, ?, ?)",
            (ep.id, ep.network_id, ep.container_id, _dump(ep)),
        )

    def delete_endpoint(self, eid: str) -> None:
        self.db.execute("DELETE FROM endpoints WHERE id = ?", (eid,))

    def endpoints(
        self, network_id: str | None = None, container_id: str | None = None
    ) -> list[Endpoint]:
        sql, args = "SELECT record FROM endpoints WHERE 1=1", list[str]()
        if network_id is not None:
            sql, args = sql + " AND network_id = ?", [*args, network_id]
        if container_id is not None:
            sql, args = sql + " AND container_id = ?", [*args, container_id]
        rows = self.db.query(sql, args)
        return [from_plain(Endpoint, json.loads(r["record"])) for r in rows]

    def save_wanted(self, w: Wanted) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO wanted (container_id, network_id, record) VALUES (?, ?, ?)",
            (w.container_id, w.network_id, _dump(w)),
        )

    def delete_wanted(self, container_id: str, network_id: str | None = None) -> None:
        if network_id is None:
            self.db.execute("DELETE FROM wanted WHERE container_id = ?", (container_id,))
        else:
            self.db.execute(
                "DELETE FROM wanted WHERE container_id = ? AND network_id = ?",
                (container_id, network_id),
            )

    def wanted(
        self, container_id: str | None = None, network_id: str | None = None
    ) -> list[Wanted]:
        sql, args = "SELECT record FROM wanted WHERE 1=1", list[str]()
        if container_id is not None:
            sql, args = sql + " AND container_id = ?", [*args, container_id]
        if network_id is not None:
            sql, args = sql + " AND network_id = ?", [*args, network_id]
        rows = self.db.query(sql, args)
        found = [from_plain(Wanted, json.loads(r["record"])) for r in rows]
        return sorted(found, key=lambda w: w.created)
