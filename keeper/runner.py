"""The keeper's main loop. Every block goes through the same pipeline: the chain follower reads
what changed (events, price updates, reorgs) -> the model applies it -> the candidates stage selects
and confirms the liquidatable accounts -> strategy ranks them -> the liquidation stage hands them to
the dispatcher -> the recorder records what the dispatcher reports as final -> deficits are
settled -> the checkpoint is committed. Each stage owns its state; this module only wires and
sequences them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from web3 import Web3

from keeper.blocks import BlockContext, ChainFollower, Reorg
from keeper.candidates import Candidates
from keeper.chain import ChainContext
from keeper.config import Settings
from keeper.discovery import Discovery
from keeper.dispatch import Dispatcher
from keeper.flash import FLASH, Quoter
from keeper.identity import ChainIdentity
from keeper.lifecycle import Lifecycle
from keeper.liquidation import Attempts, Liquidator
from keeper.maths import WAD
from keeper.metrics import Metrics
from keeper.model import PoolModel
from keeper.pool_reader import PoolReader
from keeper.recorder import Recorder
from keeper.rpc_batch import RpcCounter
from keeper.settlement import Settlement
from keeper.simulation import Simulator
from keeper.store import Store
from keeper.strategy import Decision, Strategy
from keeper.subscriptions import ChainSubscriptions
from keeper.transactions import Finished
from keeper.wallet import Wallet

log = logging.getLogger(__name__)


@dataclass
class BlockReport:
    """What one step did, for tests, logs and benchmarks."""

    head: int
    rpc_calls: int
    candidates: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    outcomes: list[Finished] = field(default_factory=list)
    reorg_depth: int = 0


class Keeper:
    def __init__(
        self,
        ctx: ChainContext,
        settings: Settings,
        store: Store,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ):
        w3, deployment, pool = ctx.w3, ctx.deployment, ctx.contracts.pool.address
        self.ctx = ctx
        self.w3 = w3
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.rpc = RpcCounter()
        self.reader = PoolReader(w3, ctx.contracts, deployment, self.rpc)
        self.discovery = Discovery(w3, deployment, self.rpc)
        self.follower = ChainFollower(
            w3, self.discovery, store, deployment.deploy_block, settings.reorg_depth, clock
        )
        quoter = Quoter.of(ctx, self.rpc, settings) if ctx.flash_liquidator is not None else None
        self.strategy = Strategy.of(ctx, self.rpc, settings, quoter)
        self.wallet = Wallet(w3, ctx.address, metrics, self.rpc, settings.min_eth_balance)
        self.dispatcher = Dispatcher.of(
            ctx, store, self.rpc, self.wallet, settings, clock, metrics.replaced.inc
        )
        self.simulator = Simulator(w3, self.rpc)
        self.candidates = Candidates(self.reader, settings.sweep_every_blocks)
        self.liquidator = Liquidator(
            pool, self.caller, self.simulator, self.dispatcher, self.wallet, metrics, ctx.flash_liquidator
        )
        self.recorder = Recorder(w3, ctx.contracts, store, metrics, ctx.flash_liquidator, ctx.address)
        self.settlement = Settlement(
            pool, ctx.address, self.simulator, self.dispatcher, enabled=settings.settle_deficits
        )
        self.model: PoolModel | None = None
        self.lifecycle = Lifecycle(
            self.step,
            metrics,
            settings.poll_interval,
            settings.rpc_url,
            list(deployment.feeds),
            Web3.to_hex(self.discovery.answer_updated_topic),
        )
        self.stop_event, self.wake = self.lifecycle.stop_event, self.lifecycle.wake

    @property
    def caller(self) -> str:
        """Who previews and simulates: the keeper's account, or the fee receiver without a key."""
        return self.ctx.address or self.ctx.deployment.fee_receiver

    @property
    def processed(self) -> int:
        return self.follower.processed

    @property
    def subscriptions(self) -> ChainSubscriptions | None:
        return self.lifecycle.subscriptions

    def run(self, max_blocks: int | None = None) -> None:
        """Steps on every new block until stopped (see `Lifecycle.run`)."""
        self.lifecycle.run(max_blocks)

    # start-up

    def start(self) -> None:
        """Checks the database belongs to this deployment, catches up from the checkpoint (or the
        deploy block), builds the model, and finishes our own pending transactions. The first step
        then re-scores every borrower at once, new block or not: the downtime's price moves were
        indexed, not seen as updates."""
        resumed = self.follower.resume(ChainIdentity.of(self.w3, deployment := self.ctx.deployment))
        head = self.w3.eth.block_number
        downtime = self.follower.catch_up(head)
        if downtime is not None:
            self.metrics.last_block.set(head)
        self.model = PoolModel(self.reader.reserves(head), self.reader.liquidation_config(head))
        for account in self.reader.positions(self.store.accounts(), head):
            self.model.set_account(account)
        self.metrics.accounts.set(len(self.model.accounts))
        if self.model.borrowers():
            self.candidates.rescore_all(resumed + 1, downtime)
        if self.dispatcher.signing:
            self._record(self.dispatcher.recover(head))
            if self.strategy.mode != FLASH:  # flash liquidations bring their own debt tokens
                assets = [a.address for a in deployment.assets]
                self.wallet.approve_pool(deployment.pool, assets, self.simulator, self.dispatcher, head)
        log.info(
            "keeper_started block=%d accounts=%d borrowers=%d address=%s mode=%s dry_run=%s",
            head,
            len(self.model.accounts),
            len(self.model.borrowers()),
            self.ctx.address,
            self.strategy.mode,
            self.settings.dry_run,
        )

    # the pipeline

    def step(self) -> BlockReport | None:
        """Handles every block since the last one processed; None when there is no new block (and no
        re-score of every borrower pending: then the last block processed is handled again)."""
        assert self.model is not None
        calls_before = self.rpc.calls
        block = self.follower.next_block()
        if block is None and self.candidates.rescore_pending:
            block = self.follower.again()
        if block is None:
            return None
        depth = block.reorg.depth if block.reorg else 0
        if block.reorg is not None:
            self._undo(block.reorg, block.head)
        if block.scan is None:  # the chain only got shorter: the next step reads the new blocks
            return BlockReport(head=block.head, rpc_calls=0, reorg_depth=depth)
        self.metrics.health.last_head, self.metrics.health.last_head_seen = block.head, self.clock()

        self._apply(block)
        selection = self.candidates.select(self.model, block)
        block = replace(block, first_liquidatable=self.candidates.since)
        if selection.sweep:
            self.wallet.native_balance()
        report = BlockReport(head=block.head, rpc_calls=0, candidates=selection.users, reorg_depth=depth)
        if selection.users:
            attempts = self._liquidate(selection.users, block)
            report.sent, report.skipped = attempts.sent, attempts.skipped
            self.candidates.retry(attempts.awaiting_funds | attempts.timed_out | attempts.deferred)
        report.outcomes = self.dispatcher.poll(block.head)
        self._record(report.outcomes)
        self.settlement.settle(self.model.reserves.values(), block.head)
        self.follower.commit(block)

        report.rpc_calls = self.rpc.calls - calls_before
        self._block_done(report)
        return report

    def _apply(self, block: BlockContext) -> None:
        """The model takes the block: every reserve (interest, prices) and the touched positions."""
        assert self.model is not None and block.scan is not None
        for reserve in self.reader.reserves(block.head):
            self.model.update_reserve(reserve)
        if block.scan.touched:
            for account in self.reader.positions(sorted(block.scan.touched), block.head):
                self.model.set_account(account)
        self.metrics.accounts.set(len(self.model.accounts))

    def _undo(self, reorg: Reorg, head: int) -> None:
        """After a reorg: our transactions the replaced blocks had mined are sent again and followed
        (never a second nonce for the intent), and the model forgets the accounts only those blocks
        held and re-reads every other."""
        assert self.model is not None
        self.dispatcher.reopen(reorg.reopened, head)
        self.candidates.rolled_back(reorg.ancestor)
        for address in list(self.model.accounts):
            if address not in reorg.known:
                self.model.forget(address)
        for account in self.reader.positions(sorted(reorg.known | reorg.replayed), head):
            self.model.set_account(account)

    def _liquidate(self, users: Sequence[str], block: BlockContext) -> Attempts:
        """Ranks `users` at this block's fees (worst-case gas priced in), then sends the best first."""
        assert self.model is not None
        sends = self.dispatcher.round(block.head)
        native = self._native_price_usd()
        gas_cost_usd = Decimal(sends.liquidation_gas_wei()) / Decimal(10**18) * native
        funds = self.wallet.debt_funds(self.dispatcher.signing)
        ranking = self.strategy.rank(
            self.model,
            users,
            self.caller,
            block.head,
            gas_cost_usd,
            holds=funds.holds,
            flash_room=self.liquidator.flash_room(sends, block),
        )
        return self.liquidator.send(self.model, ranking, sends, block, native, funds)

    def _record(self, outcomes: list[Finished]) -> None:
        """Records the liquidations among `outcomes`; the winner of each race lost comes from the
        chain (`ChainFollower.winners`), whenever it was lost."""
        assert self.model is not None
        lost_to = self.follower.winners(outcomes, (self.ctx.address, self.ctx.flash_liquidator))
        self.recorder.record(outcomes, self.model, self.processed, lost_to, self._native_price_usd())

    def _block_done(self, report: BlockReport) -> None:
        self.metrics.last_block.set(report.head)
        self.metrics.pending.set(self.dispatcher.pending_count())
        self.metrics.rpc_per_block.set(report.rpc_calls)
        self.metrics.candidates.set(len(report.candidates))
        if report.candidates or report.outcomes:
            counts = (len(report.candidates), len(report.sent), len(report.outcomes), report.rpc_calls)
            log.info("block_done block=%d candidates=%d sent=%d mined=%d rpc_calls=%d", report.head, *counts)

    def _native_price_usd(self) -> Decimal:
        """The gas token's price: NATIVE_PRICE_USD, else the oracle's price of the deployment's
        native_price_asset."""
        if self.settings.native_price_usd is not None:
            return self.settings.native_price_usd
        symbol = self.ctx.deployment.native_price_asset
        assert self.model is not None
        if symbol:
            reserve = self.model.by_asset.get(self.ctx.deployment.asset_by_symbol(symbol).address)
            if reserve and reserve.price:
                return Decimal(reserve.price) / Decimal(10**8)
        return Decimal(0)

    # one-off commands (the CLI)

    def liquidatable(self) -> list[str]:
        """Every borrower the lens finds liquidatable at the last block processed."""
        assert self.model is not None
        hfs = self.reader.health_factors(self.model.borrowers(), self.processed)
        return sorted(u for u, hf in hfs.items() if hf < WAD)

    def health_factor(self, user: str) -> int:
        return self.reader.health_factors([user], self.processed)[user]

    def preview(self, users: Sequence[str]) -> list[Decision]:
        """The best liquidation of each of `users` at the last block processed, gas not priced in."""
        assert self.model is not None
        return self.strategy.rank(
            self.model, users, self.caller, self.processed, Decimal(0), price_bid=False
        ).decisions

    def liquidate(self, users: Sequence[str]) -> Attempts:
        """Ranks and sends the liquidations of `users` now, as a step would (since when they have
        been liquidatable located first)."""
        assert self.model is not None
        block = self.follower.at_checkpoint()
        self.candidates.track(self.model, users, block)
        return self._liquidate(users, replace(block, first_liquidatable=self.candidates.since))

    def wait_for(self, tx_hash: str, timeout: float = 120) -> dict:
        """Waits for a transaction's receipt, then records what the dispatcher reports."""
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)  # type: ignore[arg-type]
        self._record(self.dispatcher.poll(self.w3.eth.block_number))
        return dict(receipt)
