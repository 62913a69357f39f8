"""The keeper's own liquidation records held against the observer's chain truth (issue 15).

Reads the keeper's SQLite database directly (table `liquidations`, one JSON `record` per
`tx_hash`, as `keeper/store.py` writes it) without importing the keeper. For every liquidation
transaction the keeper made (its transactions to the pool on chain, and every record it kept) it
compares the inclusion block, the amounts (debt repaid, collateral seized), the outcome
(liquidated / reverted / lost) and the winner of a lost race; `delay_mismatch` compares the delay of
each liquidation with the observer's (inclusion block minus the episode's first liquidatable block).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from bench.observer import Observation, SentTx


@dataclass(frozen=True)
class Disagreement:
    """One field of one liquidation on which the keeper's record and the chain differ."""

    tx_hash: str
    field: str
    keeper: Any
    chain: Any

    def __str__(self) -> str:
        return f"{self.tx_hash} {self.field}: keeper {self.keeper!r}, chain {self.chain!r}"


@dataclass(frozen=True)
class ChainOutcome:
    """What the chain says one of the keeper's liquidation transactions did."""

    block: int
    outcome: str  # liquidated | reverted | lost
    debt_repaid: int
    collateral_seized: int
    winner: str | None


def keeper_records(db_path: Path) -> list[dict[str, Any]]:
    """Every execution-quality record in the keeper's database."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [json.loads(row[0]) for row in db.execute("SELECT record FROM liquidations ORDER BY rowid")]
    finally:
        db.close()


def chain_outcome(obs: Observation, tx: SentTx) -> ChainOutcome:
    """Liquidated when the transaction emitted a `LiquidationCall`; lost when it reverted after
    another liquidator liquidated the same account earlier in the same episode (earlier block, or
    earlier in the same block), the winner being the latest such liquidator; reverted otherwise."""
    own = [liq for liq in obs.liquidations if liq.tx_hash == tx.tx_hash]
    if own:
        return ChainOutcome(
            tx.block,
            "liquidated",
            sum(liq.debt_repaid for liq in own),
            sum(liq.collateral_seized for liq in own),
            None,
        )
    winner = None
    if tx.status == 0 and tx.user is not None:
        episode_starts = [e.start_block for e in obs.episodes_of(tx.user) if e.start_block <= tx.block]
        since = max(episode_starts) if episode_starts else obs.from_block
        before = [
            liq
            for liq in obs.liquidations
            if liq.user == tx.user
            and liq.sender != tx.sender
            and since <= liq.block
            and (liq.block, liq.tx_index) < (tx.block, tx.tx_index)
        ]
        winner = before[-1].liquidator if before else None
    return ChainOutcome(tx.block, "lost" if winner else "reverted", 0, 0, winner)


def keeper_checkpoint(db_path: Path) -> int | None:
    """The last block the keeper fully processed (its `checkpoint` in table `meta`)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'checkpoint'").fetchone()
    finally:
        db.close()
    return int(json.loads(row[0])[0]) if row else None


def records_mismatch(obs: Observation, db_path: Path, keeper: str) -> list[Disagreement]:
    """Every disagreement between the keeper's records and the chain on the liquidations the
    keeper made, up to the last block it processed (a transaction mined after its checkpoint, when
    it stopped, cannot have a record yet). `obs` must have been taken with `keeper` among its
    watched senders."""
    me = Web3.to_checksum_address(keeper)
    records = {r["tx_hash"].lower(): r for r in keeper_records(db_path)}
    last = min(obs.to_block, keeper_checkpoint(db_path) or obs.to_block)
    sent = {
        t.tx_hash.lower(): t
        for t in obs.watched_txs
        if t.sender == me and t.user is not None and t.block <= last
    }
    out: list[Disagreement] = []
    for tx_hash, tx in sent.items():
        record = records.get(tx_hash)
        truth = chain_outcome(obs, tx)
        if record is None:
            out.append(Disagreement(tx_hash, "record", None, truth.outcome))
            continue
        pairs = [
            ("inclusion_block", record.get("inclusion_block"), truth.block),
            ("outcome", record.get("outcome"), truth.outcome),
            ("debt_repaid", int(record.get("debt_repaid") or 0), truth.debt_repaid),
            ("collateral_seized", int(record.get("collateral_seized") or 0), truth.collateral_seized),
            ("winner", _address(record.get("winner")), truth.winner),
            ("user", _address(record.get("user")), tx.user),
        ]
        out.extend(Disagreement(tx_hash, name, mine, chain) for name, mine, chain in pairs if mine != chain)
    for tx_hash, record in records.items():
        if tx_hash not in sent and obs.from_block <= (record.get("inclusion_block") or -1) <= last:
            out.append(Disagreement(tx_hash, "transaction", record.get("outcome"), None))
    return out


def delay_mismatch(obs: Observation, db_path: Path, keeper: str) -> list[Disagreement]:
    """Every liquidation the keeper made (up to its checkpoint) whose record's `delay_blocks` is not
    the chain's: its inclusion block minus the first liquidatable block of the episode it belongs to.
    An episode open when the observation starts is left out (it may have started before)."""
    me = Web3.to_checksum_address(keeper)
    records = {r["tx_hash"].lower(): r for r in keeper_records(db_path)}
    last = min(obs.to_block, keeper_checkpoint(db_path) or obs.to_block)
    out: list[Disagreement] = []
    for episode in obs.episodes:
        if episode.start_block <= obs.from_block:
            continue
        for liq in episode.liquidations:
            record = records.get(liq.tx_hash.lower())
            if liq.sender != me or liq.block > last or record is None:
                continue  # records_mismatch reports a missing record
            truth = liq.block - episode.start_block
            if record.get("delay_blocks") != truth:
                out.append(Disagreement(liq.tx_hash, "delay_blocks", record.get("delay_blocks"), truth))
    return out


def _address(value: str | None) -> str | None:
    return Web3.to_checksum_address(value) if value else None
