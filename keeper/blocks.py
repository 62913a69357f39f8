"""Following the chain: each new head as a block context (the events and price updates since the last
block processed, and the liquidations others made), reorgs rolled back to the common ancestor, and
the checkpoint a restart resumes from."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from keeper.calls import event
from keeper.discovery import Discovery, PriceUpdate, ScanResult
from keeper.execution_records import detection_from_json, detection_key
from keeper.identity import ChainIdentity, refusal
from keeper.rpc_batch import send_batch
from keeper.store import Store, TxRecord
from keeper.transactions import LIQUIDATE, Finished

log = logging.getLogger(__name__)

LIQUIDATION_CALL = event("LendingPool", "LiquidationCall")


@dataclass(frozen=True)
class Crossing:
    """A block where an account became liquidatable without a price update of its assets in it
    (interest, a pool event, or a block before those the keeper read): the block alone."""

    block: int
    asset: str | None = None
    price: int | None = None


@dataclass(frozen=True)
class PriceSeen:
    """A price update (or a `Crossing`), with when the keeper saw its block (wall clock, ms) and the
    block's time (s)."""

    update: PriceUpdate | Crossing
    seen_ms: int
    block_ts: int


@dataclass(frozen=True)
class Reorg:
    """Blocks the chain replaced: the index was rolled back to `ancestor`."""

    ancestor: int
    depth: int
    reopened: list[TxRecord]  # our transactions the replaced blocks had mined: pending again
    known: set[str]  # the accounts the index still knows
    replayed: set[str]  # the accounts touched from the ancestor to the head


@dataclass(frozen=True)
class BlockContext:
    """What the chain showed from the last block processed to `head`. `scan` is None when the chain
    only got shorter (a reorg to below the last block processed): nothing new to look at."""

    head: int
    hash: str
    first: int  # the first block of this step (the one after the last processed, or the ancestor)
    seen_ms: int
    scan: ScanResult | None
    reorg: Reorg | None = None
    #: Every asset's latest price update seen so far, and who liquidated whom (LiquidationCall).
    prices_seen: Mapping[str, PriceSeen] = field(default_factory=dict)
    lost_to: Mapping[str, str] = field(default_factory=dict)
    timestamp: int = 0  # the head's block time (s); 0 where not read
    #: The block each liquidatable account has been liquidatable since, as the candidates stage
    #: found it (keeper/candidates.py), with the price update in it that made it so.
    first_liquidatable: Mapping[str, PriceSeen] = field(default_factory=dict)

    def trigger(self, assets: Iterable[str], user: str | None = None) -> PriceSeen | None:
        """When `user` became liquidatable (its first liquidatable block), else the latest price
        update among `assets` (the reserves an account holds)."""
        if user is not None and user in self.first_liquidatable:
            return self.first_liquidatable[user]
        seen = [self.prices_seen[a] for a in assets if a in self.prices_seen]
        return max(seen, key=lambda p: (p.update.block, _log_index(p))) if seen else None


class ChainFollower:
    """Owns the last block processed, the recent block hashes and the checkpoint (in the store), the
    price updates seen and the liquidations seen."""

    def __init__(
        self,
        w3: Web3,
        discovery: Discovery,
        store: Store,
        deploy_block: int,
        keep_blocks: int,
        clock: Callable[[], float] = time.time,
    ):
        self.w3 = w3
        self.discovery = discovery
        self.store = store
        self.deploy_block = deploy_block
        self.keep_blocks = keep_blocks
        self.clock = clock
        self.processed = -1
        self.prices_seen: dict[str, PriceSeen] = {}
        self.lost_to: dict[str, str] = {}

    # start-up

    def resume(self, identity: ChainIdentity) -> int:
        """Checks the database belongs to this chain and deployment (`ForeignDatabase` otherwise)
        and records them, then resumes from the checkpoint (rolled back if the chain reorganised
        while the keeper was away) or from the deploy block. Returns the last block processed."""
        reason = identity.foreign(self.store, self._hash_at)
        if reason is not None:
            raise refusal(self.store.path, reason)
        identity.record(self.store)
        checkpoint = self.store.checkpoint()
        if checkpoint is not None:
            number, block_hash = checkpoint
            if self._hash_at(number) != block_hash:
                ancestor = self._common_ancestor(number)
                log.warning("reorg_while_offline checkpoint=%d ancestor=%d", number, ancestor[0])
                self.store.rollback_to(*ancestor)
                number = ancestor[0]
            self.processed = number
            log.info("resume_from_checkpoint block=%d", number)
        else:
            self.processed = self.deploy_block - 1
            log.info("index_from_deploy_block block=%d", self.deploy_block)
        return self.processed

    def catch_up(self, head: int) -> ScanResult | None:
        """Indexes events from the checkpoint to `head` and persists the new checkpoint; what the
        missed blocks changed (None when there was nothing to index). Their price updates and the
        liquidations others made in them are remembered as a new block's are."""
        if head <= self.processed:
            return None
        result = self.discovery.scan(self.processed + 1, head)
        head_block = self.w3.eth.get_block(head)
        block_hash = Web3.to_hex(head_block["hash"])
        self._remember(result, self._now_ms(), int(head_block["timestamp"]))
        self.store.save_progress(
            head, block_hash, [(head, block_hash)], result.first_seen.items(), self.keep_blocks
        )
        self.processed = head
        return result

    # every block

    def next_block(self) -> BlockContext | None:
        """The blocks since the last one processed, as one context; None when there is no new block."""
        head = self.w3.eth.block_number
        if head <= self.processed:
            if head < self.processed:
                reorg = self._roll_back(head)
                return BlockContext(head, "", reorg.ancestor + 1, self._now_ms(), None, reorg)
            return None
        seen_ms = self._now_ms()
        head_block = self.w3.eth.get_block(head)
        reorg = None
        stored_parent = self.store.block_hash(self.processed)
        if stored_parent is not None and head == self.processed + 1:
            if Web3.to_hex(head_block["parentHash"]) != stored_parent:
                reorg = self._roll_back(head)
        elif stored_parent is not None and self._hash_at(self.processed) != stored_parent:
            reorg = self._roll_back(head)
        first = self.processed + 1
        scan = self.discovery.scan(first, head)
        if scan.undecodable:
            log.warning("logs_skipped count=%d", scan.undecodable)
        self._remember(scan, seen_ms, int(head_block["timestamp"]))
        return BlockContext(
            head,
            Web3.to_hex(head_block["hash"]),
            first,
            seen_ms,
            scan,
            reorg,
            self.prices_seen,
            self.lost_to,
            int(head_block["timestamp"]),
        )

    def _remember(self, scan: ScanResult, seen_ms: int, block_ts: int) -> None:
        """Every asset's latest price update, and who liquidated whom, from a scan."""
        for update in scan.prices:
            self.prices_seen[update.asset] = PriceSeen(update, seen_ms, block_ts)
        for pool_event in scan.events:
            if pool_event.name == "LiquidationCall":
                user = Web3.to_checksum_address(pool_event.args["user"])
                self.lost_to[user] = Web3.to_checksum_address(pool_event.args["liquidator"])

    # races lost

    def winners(self, outcomes: Sequence[Finished], ours: Iterable[str | None]) -> dict[str, str]:
        """Who won the race for each account among `outcomes` whose liquidation emitted nothing
        (reverted, or dropped): the latest other liquidator whose `LiquidationCall` of that account
        the chain shows from the block the account was liquidatable since (the detection's trigger
        block, else the block the transaction was sent at) to just before ours. Read from the chain
        (one `eth_getLogs` each, in one batch), not from the blocks this process watched, so a race
        lost while the keeper was down, or to a liquidation it saw before a restart, is classified
        too. Where the node does not answer, the liquidations this process saw stand in. `ours`: who
        liquidates for this keeper (its account, its FlashLiquidator), never a rival."""
        asks = [_WinnerQuestion.of(o, self.store, self.processed) for o in outcomes]
        questions = [q for q in asks if q is not None]
        if not questions:
            return {}
        pool = self.discovery.pool
        try:
            responses = send_batch(self.w3, [("eth_getLogs", [q.filter(pool)]) for q in questions])
        except Exception as exc:
            log.warning("winners_unread count=%d error=%s", len(questions), str(exc)[:160])
            return {q.user: self.lost_to[q.user] for q in questions if q.user in self.lost_to}
        mine = {to_checksum_address(a) for a in ours if a}
        found: dict[str, str] = {}
        for question, response in zip(questions, responses, strict=True):
            logs = response.get("result")
            if logs is None:
                if question.user in self.lost_to:
                    found[question.user] = self.lost_to[question.user]
                continue
            winner = question.winner(logs, mine)
            if winner is not None:
                found[question.user] = winner
        return found

    def at_checkpoint(self) -> BlockContext:
        """The last block processed as a context with nothing new in it (for one-off commands)."""
        return BlockContext(
            self.processed,
            "",
            self.processed,
            self._now_ms(),
            ScanResult(),
            None,
            self.prices_seen,
            self.lost_to,
            self._block_at(self.processed)[1],
        )

    def again(self) -> BlockContext:
        """The last block processed once more, with nothing new in it (`first` past `head`: no block
        counted twice), for a step that acts on what the model already holds without waiting for
        the next block (after a restart)."""
        read_hash, timestamp = self._block_at(self.processed)
        block_hash = self.store.block_hash(self.processed) or read_hash
        return BlockContext(
            self.processed,
            block_hash,
            self.processed + 1,
            self._now_ms(),
            ScanResult(),
            None,
            self.prices_seen,
            self.lost_to,
            timestamp,
        )

    def commit(self, block: BlockContext) -> None:
        """Atomically stores the block's new accounts, its hash and the checkpoint."""
        assert block.scan is not None
        self.store.save_progress(
            block.head,
            block.hash,
            [(block.head, block.hash)],
            block.scan.first_seen.items(),
            self.keep_blocks,
        )
        self.processed = block.head

    # reorgs

    def _roll_back(self, head: int) -> Reorg:
        """Rolls the index back to the common ancestor and re-reads the replaced range's events; our
        transactions mined in the replaced blocks come back as pending."""
        ancestor, ancestor_hash = self._common_ancestor(min(self.processed, head))
        depth = self.processed - ancestor
        log.warning("reorg_detected old_head=%d ancestor=%d depth=%d", self.processed, ancestor, depth)
        reopened = self.store.rollback_to(ancestor, ancestor_hash)
        known = set(self.store.accounts())
        self.processed = ancestor
        replayed = self.discovery.scan(ancestor + 1, head) if head > ancestor else ScanResult()
        return Reorg(ancestor, depth, reopened, known, replayed.touched)

    def _block_at(self, number: int) -> tuple[str, int]:
        """A block's hash and time ("" and 0 where the node does not answer)."""
        try:
            block = self.w3.eth.get_block(number)
        except Exception:
            return "", 0
        return Web3.to_hex(block["hash"]), int(block["timestamp"])

    def _hash_at(self, number: int) -> str | None:
        try:
            block = self.w3.eth.get_block(number)
        except Exception:
            return None
        return Web3.to_hex(block["hash"])

    def _common_ancestor(self, below: int) -> tuple[int, str]:
        for number, block_hash in self.store.recent_blocks():
            if number <= below and self._hash_at(number) == block_hash:
                return number, block_hash
        floor = self.deploy_block - 1
        return floor, self._hash_at(floor) or ""

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


@dataclass(frozen=True)
class _WinnerQuestion:
    """Who liquidated `user` from block `since` to just before our transaction (block `until`, at
    `tx_index`; None: anywhere in `until`, for a transaction that left no receipt)."""

    user: str
    since: int
    until: int
    tx_index: int | None

    @classmethod
    def of(cls, outcome: Finished, store: Store, head: int) -> _WinnerQuestion | None:
        record, receipt = outcome.record, outcome.receipt
        if record.kind != LIQUIDATE or (receipt is not None and receipt["status"] == 1):
            return None
        user = to_checksum_address(record.intent.split(":")[1])
        detection = detection_from_json(store.get_meta(detection_key(record.intent)))
        since = record.sent_block
        if detection is not None and detection.trigger_block is not None:
            since = min(since, detection.trigger_block)
        if receipt is None:
            return cls(user, since, max(head, since), None)
        return cls(user, since, int(receipt["blockNumber"]), int(receipt["transactionIndex"]))

    def filter(self, pool: str) -> dict[str, Any]:
        user_topic = "0x" + self.user[2:].lower().rjust(64, "0")
        return {
            "address": pool,
            "fromBlock": hex(self.since),
            "toBlock": hex(self.until),
            "topics": ["0x" + LIQUIDATION_CALL.topic.hex(), None, None, user_topic],
        }

    def winner(self, logs: Sequence[Any], ours: set[str]) -> str | None:
        found: tuple[tuple[int, int, int], str] | None = None
        for entry in logs:
            position = (_int(entry["blockNumber"]), _int(entry["transactionIndex"]), _int(entry["logIndex"]))
            if self.tx_index is not None and position[:2] >= (self.until, self.tx_index):
                continue
            data = entry["data"]
            raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
            liquidator = to_checksum_address(LIQUIDATION_CALL.decode_data(raw)["liquidator"])
            if liquidator not in ours and (found is None or position > found[0]):
                found = (position, liquidator)
        return found[1] if found else None


def _log_index(seen: PriceSeen) -> int:
    return seen.update.log_index if isinstance(seen.update, PriceUpdate) else -1


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)
