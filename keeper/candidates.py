"""Which accounts to liquidate at a block: the model re-scores the holders of re-priced assets, the
accounts the block touched and those waiting for funds, and the lens confirms them at the block.
A step covering several blocks (lag, a node outage) sees every price update in them, so the holders
of every asset re-priced in the gap are re-scored. After a restart the model re-scores every
borrower once: the prices the downtime moved were never seen as updates. Every `--sweep-every`
blocks the lens checks every borrower instead, the backstop for anything the model missed.

The stage also knows since when each liquidatable account has been liquidatable (its first
liquidatable block, which a liquidation's delay is counted from):

- an account the model re-scores because a block the keeper looks at on its own re-priced one of
  its assets or touched it, and finds liquidatable, became liquidatable in that block;
- any other newly liquidatable account (after a restart, a step over several blocks, one the sweep
  found) is located on the chain: the lens at the block before the blocks not yet looked at and at
  each of those blocks where a health factor can change (a price update or a pool event), newest
  first, in batches of `PROBE_WINDOW` blocks, one JSON-RPC batch each, until a block where it was
  healthy. Its first liquidatable block is the change block after that one. This is exact for
  price moves, rebounds included, and costs one `eth_call` per change block actually read (per 500
  accounts), where a binary search would cost one per account per halving and assumes the health
  factor only falls. Interest accrued between change blocks is not located (it moves a health
  factor by a hair; the next change block counts);
- an account liquidatable before every block read (it was so before the gap, or past the
  `MAX_PROBES` newest change blocks) is searched further back: doubling steps back until a healthy
  block, then halving the interval (a binary search: it assumes one stretch there). A block the node
  no longer holds the state of (a pruned full node) stops the search at the oldest block known
  liquidatable.

An account is forgotten once it is scored healthy (liquidated, or a rebound). A health factor nobody
can read (a price the oracle refuses, e.g. the TWAP guard's breaker holding an asset) is no evidence
either way, as for the observer (bench/observer.py): the account keeps the block it has been
liquidatable since, and a probe that reads it is passed over for the blocks before it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from keeper.blocks import BlockContext, Crossing, PriceSeen
from keeper.discovery import PriceUpdate, ScanResult
from keeper.maths import UNREADABLE_HEALTH_FACTOR, WAD
from keeper.model import PoolModel
from keeper.pool_reader import PoolReader
from keeper.rpc_batch import send_batch

log = logging.getLogger(__name__)

#: Change blocks read per batch, newest first, and at most (then the search goes back by halving).
PROBE_WINDOW = 32
MAX_PROBES = 128


@dataclass(frozen=True)
class Selection:
    users: list[str]  # liquidatable at the block by the chain's own health factors, sorted
    sweep: bool  # every borrower was checked this block


@dataclass(frozen=True)
class Unseen:
    """Blocks from `first` on that no selection has looked at one by one, the blocks among them
    where a health factor can have changed (a price update or a pool event), and their price
    updates."""

    first: int
    changes: frozenset[int] = frozenset()
    prices: tuple[PriceUpdate, ...] = ()

    @classmethod
    def of(cls, first: int, scan: ScanResult | None) -> Unseen:
        if scan is None:
            return cls(first)
        changes = {u.block for u in scan.prices} | {e.block for e in scan.events}
        return cls(first, frozenset(changes), tuple(scan.prices))

    def merged(self, other: Unseen | None) -> Unseen:
        if other is None:
            return self
        return Unseen(min(self.first, other.first), self.changes | other.changes, self.prices + other.prices)

    def probes(self, head: int) -> list[int]:
        """The blocks to read, newest first: every change block before `head`, and the block before
        the first unseen one."""
        blocks = {b for b in self.changes if self.first <= b} | {self.first - 1}
        return sorted((b for b in blocks if b < head), reverse=True)


@dataclass
class _Search:
    """One account's search back: the oldest block known liquidatable, the newest known healthy."""

    liquidatable: int
    healthy: int | None = None
    step: int = 1

    def next_block(self, floor: int) -> int | None:
        """The block to read next, or None when found (`liquidatable` is the first block)."""
        if self.healthy is None:
            block = self.liquidatable - self.step
            if block >= floor:
                return block
            self.healthy = floor - 1  # nobody is liquidatable before the deployment
        if self.liquidatable - self.healthy <= 1:
            return None
        return (self.healthy + self.liquidatable) // 2

    def learn(self, block: int, health_factor: int) -> None:
        if health_factor == UNREADABLE_HEALTH_FACTOR and self.healthy is None:
            self.step *= 2  # no price there: no evidence, look further back
            return
        if health_factor < WAD:
            self.liquidatable = block
            if self.healthy is None:
                self.step *= 2
        else:
            self.healthy = block


class Candidates:
    """Owns the sweep schedule, the accounts that wait for funds (re-scored every block until the
    keeper can pay for them), and since when each liquidatable account has been liquidatable."""

    def __init__(self, reader: PoolReader, sweep_every_blocks: int):
        self.reader = reader
        self.sweep_every_blocks = sweep_every_blocks
        self._blocks_since_sweep = 0
        self._retry: set[str] = set()
        self._rescore_all = False
        self._unseen: Unseen | None = None
        #: Account -> the block it has been liquidatable since (with the price update in it, if any).
        self.since: dict[str, PriceSeen] = {}

    def select(self, model: PoolModel, block: BlockContext) -> Selection:
        assert block.scan is not None
        scan, head = block.scan, block.head
        repriced = {model.by_asset[u.asset].id for u in scan.prices if u.asset in model.by_asset}
        self._blocks_since_sweep += head - (block.first - 1)
        sweep = self._blocks_since_sweep >= self.sweep_every_blocks
        # The accounts whose change in this very block the keeper saw: they became liquidatable in it.
        unseen = self._take_unseen(block)
        direct = model.holders_of(repriced) | scan.touched if unseen is None else set()
        if sweep:
            to_score = set(model.borrowers())
            self._blocks_since_sweep = 0
        elif self._rescore_all:
            to_score = set(model.borrowers())
        else:
            to_score = model.holders_of(repriced) | scan.touched | self._retry
        self._retry = set()  # the liquidation stage hands back those still waiting
        self._rescore_all = False
        scores = {u: model.health_factor(u) for u in to_score}
        users = sorted(u for u, hf in scores.items() if hf < WAD and model.accounts[u].has_debt)
        if sweep:
            users = self._with_missed(model, users, head)
        elif users:
            users = self._confirmed(model, users, head)
        for user in to_score - set(users):
            if scores[user] != UNREADABLE_HEALTH_FACTOR:
                self.since.pop(user, None)
        fresh = [u for u in users if u not in self.since]
        located = [u for u in fresh if u not in direct]
        firsts = {u: head for u in fresh if u in direct}
        if located:
            firsts.update(self._locate(located, head, unseen or Unseen(head)))
        self._remember(model, firsts, block, unseen)
        return Selection(users, sweep)

    def rescore_all(self, unseen_from: int | None = None, scan: ScanResult | None = None) -> None:
        """Every borrower is re-scored by the model at the next selection (and those it finds
        liquidatable confirmed by the lens), whatever the block brings: after a restart. The blocks
        from `unseen_from` to the next selection's head (the downtime, indexed as `scan`) are where
        the accounts it finds liquidatable are located."""
        self._rescore_all = True
        if unseen_from is not None:
            self._unseen = Unseen.of(unseen_from, scan).merged(self._unseen)

    @property
    def rescore_pending(self) -> bool:
        """Whether the next selection re-scores every borrower."""
        return self._rescore_all

    def retry(self, users: Iterable[str]) -> None:
        """Accounts liquidatable but not sent in this block (unprofitable yet, in flight, the simulation
        timed out, a pool or the block's gas taken, funds short): re-scored at the next block whatever
        it brings."""
        self._retry |= set(users)

    def track(self, model: PoolModel, users: Sequence[str], block: BlockContext) -> None:
        """Locates since when `users`, found liquidatable at `block.head` by a one-off command, have
        been liquidatable (those not known yet)."""
        fresh = [u for u in users if u not in self.since]
        if fresh:
            unseen = self._take_unseen(block) or Unseen(block.head)
            self._remember(model, self._locate(fresh, block.head, unseen), block, unseen)

    def rolled_back(self, ancestor: int) -> None:
        """A reorg replaced the blocks after `ancestor`: what was located in them is forgotten."""
        for user, seen in list(self.since.items()):
            if seen.update.block > ancestor:
                del self.since[user]

    def _take_unseen(self, block: BlockContext) -> Unseen | None:
        """The blocks not looked at one by one up to this selection: a pending gap (a restart's), and
        this step's blocks when it covers more than its head. None for a step over its head alone."""
        pending, self._unseen = self._unseen, None
        if block.first < block.head or (pending is not None and block.first == block.head):
            return Unseen.of(block.first, block.scan).merged(pending)
        return pending

    def _with_missed(self, model: PoolModel, users: list[str], head: int) -> list[str]:
        """`users` and every borrower the lens finds liquidatable that the model did not."""
        chain_hfs = self.reader.health_factors(model.borrowers(), head)
        missed = sorted(u for u, hf in chain_hfs.items() if hf < WAD and u not in users)
        if missed:
            log.warning("sweep_found_missed accounts=%d first=%s", len(missed), missed[0])
            users = sorted(set(users) | set(missed))
        return users

    def _confirmed(self, model: PoolModel, users: list[str], head: int) -> list[str]:
        """The `users` the lens confirms liquidatable at `head`; a model that disagrees is logged."""
        chain_hfs = self.reader.health_factors(users, head)
        for user in users:
            model_hf = model.health_factor(user)
            if chain_hfs[user] != model_hf:
                log.warning("model_mismatch user=%s model_hf=%d chain_hf=%d", user, model_hf, chain_hfs[user])
        return [u for u in users if chain_hfs[u] < WAD]

    # locating the first liquidatable block

    def _locate(self, users: Sequence[str], head: int, unseen: Unseen) -> dict[str, int]:
        """The first liquidatable block of each of `users`, liquidatable at `head` (module docstring)."""
        floor = self.reader.deployment.deploy_block
        oldest = dict.fromkeys(users, head)  # the oldest block known liquidatable, while unresolved
        firsts: dict[str, int] = {}
        probes = unseen.probes(head)[:MAX_PROBES]
        for start in range(0, len(probes), PROBE_WINDOW):
            window = [b for b in probes[start : start + PROBE_WINDOW] if b >= floor]
            pending = sorted(oldest)
            reads = self.reader.health_factors_at([(b, pending) for b in window]) if window else []
            answers = dict(zip(window, reads, strict=True))
            for user in pending:
                for probe in probes[start : start + PROBE_WINDOW]:
                    if probe < floor:  # nobody is liquidatable before the deployment
                        firsts[user] = oldest.pop(user)
                        break
                    hfs = answers[probe]
                    hf = hfs.get(user) if hfs is not None else None
                    if hf is not None and hf < WAD:
                        oldest[user] = probe
                        continue
                    if hf == UNREADABLE_HEALTH_FACTOR:
                        continue  # no price there: no evidence, the blocks before decide
                    firsts[user] = oldest.pop(user)  # healthy there, or not answered: the oldest known
                    break
            if not oldest:
                break
        if oldest:
            firsts.update(self._search_back(oldest, floor))
        return firsts

    def _search_back(self, oldest: Mapping[str, int], floor: int) -> dict[str, int]:
        """Doubling steps back from each account's oldest liquidatable block until a healthy one, then
        halving (one batch per round for every account)."""
        searches = {user: _Search(block) for user, block in oldest.items()}
        firsts: dict[str, int] = {}
        while searches:
            asks: dict[int, list[str]] = {}
            for user, search in list(searches.items()):
                block = search.next_block(floor)
                if block is None:
                    firsts[user] = searches.pop(user).liquidatable
                else:
                    asks.setdefault(block, []).append(user)
            if not asks:
                break
            reads = self.reader.health_factors_at(list(asks.items()))
            for (block, users), hfs in zip(asks.items(), reads, strict=True):
                for user in users:
                    hf = hfs.get(user) if hfs is not None else None
                    if hf is None:  # the node no longer holds that block: the oldest known stands
                        firsts[user] = searches.pop(user).liquidatable
                    else:
                        searches[user].learn(block, hf)
        return firsts

    def _remember(
        self, model: PoolModel, firsts: Mapping[str, int], block: BlockContext, unseen: Unseen | None
    ) -> None:
        """Each account's first liquidatable block as a trigger: the price update of one of its
        assets in that block (the latest), else the block alone; with the block's time."""
        if not firsts:
            return
        prices = [*(unseen.prices if unseen else ()), *(block.scan.prices if block.scan else ())]
        times = self._timestamps({b for b in firsts.values() if b != block.head})
        for user, first in firsts.items():
            account = model.accounts.get(user)
            held = {model.reserves[i].asset for i in account.reserve_ids()} if account else set()
            updates = [p for p in prices if p.block == first and p.asset in held]
            update = max(updates, key=lambda p: p.log_index) if updates else Crossing(first)
            self.since[user] = PriceSeen(update, block.seen_ms, times.get(first, block.timestamp))
        earlier = [b for b in firsts.values() if b != block.head]
        if earlier:
            log.info(
                "liquidatable_since_located accounts=%d oldest_block=%d head=%d",
                len(earlier),
                min(earlier),
                block.head,
            )

    def _timestamps(self, blocks: set[int]) -> dict[int, int]:
        """Block number -> block time (s), in one batch (the head's time stands in where a block is
        not answered)."""
        ordered = sorted(blocks)
        if not ordered:
            return {}
        try:
            answers = send_batch(self.reader.w3, [("eth_getBlockByNumber", [hex(b), False]) for b in ordered])
        except Exception as exc:
            log.warning("block_times_unread count=%d error=%s", len(ordered), str(exc)[:160])
            return {}
        times = {}
        for number, answer in zip(ordered, answers, strict=True):
            result = answer.get("result")
            if result:
                times[number] = int(result["timestamp"], 16)
        return times
