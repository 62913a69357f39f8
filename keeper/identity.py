"""Which chain and deployment a database belongs to, and refusing (or, when told, moving aside) one
that belongs to another.

A database records its deployment (`chain id:pool`) and its chain (`chain id:deploy block:that
block's hash`, as the node answered when the database was started). A restarted devnet deployed
again reproduces the chain id and every address, but not the deploy block's hash: an old database
on it would otherwise be read as a reorg of its checkpoint and followed from the wrong history. A
database from before the chain was recorded is matched by the recent block hashes it keeps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from web3 import Web3

from keeper.deployment import Deployment
from keeper.errors import ChainError, ConfigError
from keeper.store import Store

log = logging.getLogger(__name__)

DEPLOYMENT_KEY = "deployment"
CHAIN_KEY = "chain"


class ForeignDatabase(ConfigError):
    """DB_PATH belongs to another chain or deployment."""


@dataclass(frozen=True)
class ChainIdentity:
    chain_id: int
    pool: str
    deploy_block: int
    deploy_block_hash: str  # the node's

    @classmethod
    def of(cls, w3: Web3, deployment: Deployment) -> ChainIdentity:
        """The identity of `deployment` on the node `w3` is connected to (one block read)."""
        try:
            block_hash = Web3.to_hex(w3.eth.get_block(deployment.deploy_block)["hash"])
        except Exception:
            raise ChainError(
                f"the node has no block {deployment.deploy_block}, the deploy block {deployment.path} names"
            ) from None
        return cls(deployment.chain_id, deployment.pool, deployment.deploy_block, block_hash.lower())

    @property
    def deployment(self) -> str:
        return f"{self.chain_id}:{self.pool}"

    @property
    def chain(self) -> str:
        return f"{self.chain_id}:{self.deploy_block}:{self.deploy_block_hash}"

    def foreign(self, store: Store, hash_at: Callable[[int], str | None]) -> str | None:
        """Why the database in `store` belongs elsewhere, or None when it is this chain's (or new).
        Reads only: a read-only `status` may ask."""
        deployment = store.get_meta(DEPLOYMENT_KEY)
        if deployment is not None and deployment != self.deployment:
            return f"belongs to deployment {deployment}, not {self.deployment}"
        chain = store.get_meta(CHAIN_KEY)
        if chain is not None:
            if chain == self.chain:
                return None
            recorded = chain.rsplit(":", 1)[-1]
            return (
                f"is from another chain: its deploy block {self.deploy_block} had hash {recorded}, "
                f"the node's is {self.deploy_block_hash}"
            )
        recent = store.recent_blocks()
        if store.checkpoint() is None or not recent:
            return None
        if any(hash_at(number) == block_hash for number, block_hash in recent):
            return None  # written before the chain was recorded, on this chain
        return f"is from another chain: none of the {len(recent)} recent blocks it recorded is on the node"

    def record(self, store: Store) -> None:
        store.set_meta(DEPLOYMENT_KEY, self.deployment)
        store.set_meta(CHAIN_KEY, self.chain)


def refusal(path: Path, reason: str) -> ForeignDatabase:
    """The one line that refuses the database at `path`."""
    return ForeignDatabase(
        f"database {path} {reason}: pass --reset-db to move it aside and start afresh, or use another DB_PATH"
    )


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Renames the database at `path` (and its -wal and -shm files) to `<name>.bak-<UTC time>`, never
    over an earlier backup; the new path."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak-{stamp}-{n}")
        n += 1
    path.rename(backup)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(backup.with_name(backup.name + suffix))
    return backup


def open_checked(path: Path, identity: ChainIdentity, w3: Web3, reset: bool) -> Store:
    """The store at `path` once it is known to be this chain's: a database from another chain or
    deployment is refused with one line, or with `reset` moved aside (logged) for a new one."""
    store = Store(path)
    reason = identity.foreign(store, _hash_reader(w3))
    if reason is None:
        return store
    store.close()
    if not reset:
        raise refusal(path, reason)
    backup = move_aside(path)
    log.warning("database_reset path=%s moved_to=%s reason=%r", path, backup, reason)
    return Store(path)


def check_read_only(store: Store, identity: ChainIdentity, w3: Web3) -> None:
    """Refuses a database from another chain without writing to it (for `status`)."""
    reason = identity.foreign(store, _hash_reader(w3))
    if reason is not None:
        raise refusal(store.path, reason)


def _hash_reader(w3: Web3) -> Callable[[int], str | None]:
    def hash_at(number: int) -> str | None:
        try:
            return Web3.to_hex(w3.eth.get_block(number)["hash"])
        except Exception:
            return None

    return hash_at
