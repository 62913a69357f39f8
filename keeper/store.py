"""SQLite persistence: the discovery checkpoint, recent block hashes, known accounts, every
transaction the keeper sent, and one execution-quality record per liquidation."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (address TEXT PRIMARY KEY, first_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    hash TEXT PRIMARY KEY,
    nonce INTEGER NOT NULL,
    kind TEXT NOT NULL,
    intent TEXT NOT NULL,
    status TEXT NOT NULL,
    raw TEXT NOT NULL,
    max_fee INTEGER NOT NULL,
    tip INTEGER NOT NULL,
    gas_limit INTEGER NOT NULL,
    sent_block INTEGER NOT NULL,
    sent_ms INTEGER NOT NULL,
    mined_block INTEGER,
    replaced_by TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS txs_status ON txs (status);
CREATE TABLE IF NOT EXISTS liquidations (
    tx_hash TEXT PRIMARY KEY,
    record TEXT NOT NULL
);
"""

PENDING = "pending"
MINED = "mined"
FAILED = "failed"
REPLACED = "replaced"
DROPPED = "dropped"


@dataclass
class TxRecord:
    """One signed transaction. `intent` names what it does (e.g. `liquidate:user:coll:debt`), so the
    keeper can tell that a liquidation is already in flight, even after a restart."""

    hash: str
    nonce: int
    kind: str
    intent: str
    status: str
    raw: str
    max_fee: int
    tip: int
    gas_limit: int
    sent_block: int
    sent_ms: int
    mined_block: int | None = None
    replaced_by: str | None = None
    note: str | None = None


class Store:
    """One SQLite file; every write commits at once so a crash loses nothing already sent."""

    def __init__(self, path: Path, read_only: bool = False):
        """`read_only`: an existing database, opened without creating or changing anything (its
        writers fail). Without a write-ahead log beside it (no keeper has it open) it is read as an
        immutable file, so that not even the log and shared-memory files are created."""
        self.path = path
        if read_only:
            live = path.with_name(path.name + "-wal").exists()
            uri = f"file:{path}?mode=ro" + ("" if live else "&immutable=1")
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            return
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL still survives a crash or kill of the keeper (what a restart must find);
        # only an OS crash or power loss can lose the last commits. FULL would fsync on every sent
        # transaction, ~0.5 ms each in a burst of hundreds.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # meta and checkpoint

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def checkpoint(self) -> tuple[int, str] | None:
        """The last fully processed block and its hash."""
        raw = self.get_meta("checkpoint")
        if raw is None:
            return None
        number, block_hash = json.loads(raw)
        return int(number), str(block_hash)

    def save_progress(
        self,
        number: int,
        block_hash: str,
        hashes: Iterable[tuple[int, str]],
        accounts: Iterable[tuple[str, int]],
        keep_blocks: int,
    ) -> None:
        """Atomically records new accounts, recent block hashes and the checkpoint."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO accounts (address, first_block) VALUES (?, ?)",
                list(accounts),
            )
            db.executemany("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)", list(hashes))
            db.execute("DELETE FROM blocks WHERE number <= ?", (number - keep_blocks,))
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('checkpoint', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (json.dumps([number, block_hash]),),
            )

    def block_hash(self, number: int) -> str | None:
        row = self._db.execute("SELECT hash FROM blocks WHERE number = ?", (number,)).fetchone()
        return row[0] if row else None

    def recent_blocks(self) -> list[tuple[int, str]]:
        return list(self._db.execute("SELECT number, hash FROM blocks ORDER BY number DESC"))

    def rollback_to(self, number: int, block_hash: str) -> list[TxRecord]:
        """Forgets everything seen after block `number` (a reorg's common ancestor), including the
        inclusion of our transactions mined after it: they are pending again, and returned."""
        reopened = {t.hash for t in self.txs() if t.mined_block is not None and t.mined_block > number}
        with self.transaction() as db:
            db.execute("DELETE FROM blocks WHERE number > ?", (number,))
            db.execute("DELETE FROM accounts WHERE first_block > ?", (number,))
            db.execute(
                "UPDATE txs SET status = ?, mined_block = NULL WHERE mined_block > ?", (PENDING, number)
            )
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('checkpoint', ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (json.dumps([number, block_hash]),),
            )
        return [t for t in self.txs(PENDING) if t.hash in reopened]

    def accounts(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT address FROM accounts ORDER BY address")]

    # transactions

    def add_tx(self, tx: TxRecord) -> None:
        names = [f.name for f in fields(TxRecord)]
        self._db.execute(
            f"INSERT INTO txs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [getattr(tx, n) for n in names],
        )

    def delete_tx(self, tx_hash: str) -> None:
        """Forgets a transaction the node refused: it never left, so there is nothing to follow."""
        self._db.execute("DELETE FROM txs WHERE hash = ?", (tx_hash,))

    def update_tx(self, tx_hash: str, **changes: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in changes)
        self._db.execute(f"UPDATE txs SET {sets} WHERE hash = ?", [*changes.values(), tx_hash])

    def txs(self, status: str | None = None) -> list[TxRecord]:
        names = [f.name for f in fields(TxRecord)]
        query = f"SELECT {', '.join(names)} FROM txs"
        rows = (
            self._db.execute(query + " WHERE status = ? ORDER BY nonce, sent_ms", (status,))
            if status
            else self._db.execute(query + " ORDER BY nonce, sent_ms")
        )
        return [TxRecord(*row) for row in rows]

    def tx(self, tx_hash: str) -> TxRecord | None:
        for record in self.txs():
            if record.hash == tx_hash:
                return record
        return None

    def in_flight_intents(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT intent FROM txs WHERE status = ?", (PENDING,))}

    # execution-quality records

    def save_liquidation(self, tx_hash: str, record: dict[str, Any]) -> bool:
        """Stores the record of `tx_hash` in place of any record of the same nonce and intent: a
        liquidation a reorg undid lands again (rebroadcast or replaced) and is recorded once. True
        when that nonce and intent had no record yet."""
        with self.transaction() as db:
            replaced = db.execute(
                "DELETE FROM liquidations WHERE tx_hash = ? OR tx_hash IN (SELECT other.hash FROM txs "
                "AS mine JOIN txs AS other ON other.nonce = mine.nonce AND other.intent = mine.intent "
                "WHERE mine.hash = ?)",
                (tx_hash, tx_hash),
            ).rowcount
            db.execute(
                "INSERT INTO liquidations (tx_hash, record) VALUES (?, ?)",
                (tx_hash, json.dumps(record, sort_keys=True)),
            )
        return replaced == 0

    def liquidations(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT record FROM liquidations ORDER BY rowid")
        return [json.loads(r[0]) for r in rows]
