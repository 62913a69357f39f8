"""Which accounts to liquidate at a block: the model re-scores the holders of re-priced assets, the
accounts the block touched and those waiting for funds, and the lens confirms them at the block.
A step covering several blocks (lag, a node outage) sees every price update in them, so the holders
of every asset re-priced in the gap are re-scored. After a restart the model re-scores every
borrower once: the prices the downtime moved were never seen as updates. Every `--sweep-every`
blocks the lens checks every borrower instead, the backstop for anything the model missed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from keeper.blocks import BlockContext
from keeper.maths import WAD
from keeper.model import PoolModel
from keeper.pool_reader import PoolReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Selection:
    users: list[str]  # liquidatable at the block by the chain's own health factors, sorted
    sweep: bool  # every borrower was checked this block


class Candidates:
    """Owns the sweep schedule and the accounts that wait for funds (re-scored every block until the
    keeper can pay for them)."""

    def __init__(self, reader: PoolReader, sweep_every_blocks: int):
        self.reader = reader
        self.sweep_every_blocks = sweep_every_blocks
        self._blocks_since_sweep = 0
        self._awaiting_funds: set[str] = set()
        self._rescore_all = False

    def select(self, model: PoolModel, block: BlockContext) -> Selection:
        assert block.scan is not None
        scan, head = block.scan, block.head
        repriced = {model.by_asset[u.asset].id for u in scan.prices if u.asset in model.by_asset}
        self._blocks_since_sweep += head - (block.first - 1)
        sweep = self._blocks_since_sweep >= self.sweep_every_blocks
        if sweep:
            to_score = set(model.borrowers())
            self._blocks_since_sweep = 0
        elif self._rescore_all:
            to_score = set(model.borrowers())
        else:
            to_score = model.holders_of(repriced) | scan.touched | self._awaiting_funds
        self._awaiting_funds = set()  # the liquidation stage hands back those still waiting
        self._rescore_all = False
        users = sorted(u for u in to_score if model.health_factor(u) < WAD and model.accounts[u].has_debt)
        if sweep:
            users = self._with_missed(model, users, head)
        elif users:
            users = self._confirmed(model, users, head)
        return Selection(users, sweep)

    def rescore_all(self) -> None:
        """Every borrower is re-scored by the model at the next selection (and those it finds
        liquidatable confirmed by the lens), whatever the block brings: after a restart."""
        self._rescore_all = True

    @property
    def rescore_pending(self) -> bool:
        """Whether the next selection re-scores every borrower."""
        return self._rescore_all

    def retry(self, users: Iterable[str]) -> None:
        """Accounts whose simulation timed out: re-scored at the next block whatever it brings."""
        self._awaiting_funds |= set(users)

    def await_funds(self, users: Iterable[str]) -> None:
        """Accounts the keeper could not pay for: re-scored at the next block whatever it brings."""
        self._awaiting_funds |= set(users)

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
