"""From ranked decisions to liquidations on their way: the profit gate's verdict, one liquidation in
flight per account and pair, the debt token set aside (a flash liquidation needs none: it goes to the
FlashLiquidator, which swaps for the debt), then simulation and dispatch in chunks (one simulation
batch per chunk), best first, so the first transactions leave while later ones are still being
simulated. Each liquidation's detection is stored with its transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from keeper.blocks import BlockContext, PriceSeen
from keeper.calls import function
from keeper.dispatch import Dispatcher, Round
from keeper.errors import SimulationError, SimulationTimeout
from keeper.execution_records import Detection, detection_json, detection_key
from keeper.flash import flash_call
from keeper.metrics import Metrics
from keeper.model import PoolModel
from keeper.rpc_batch import RawCall
from keeper.simulation import Simulator
from keeper.strategy import Decision, FlashRoom, Opportunity, Ranking
from keeper.transactions import LIQUIDATE, Dispatched, DryRun, Intent, NoFunds, Outbid, Sent
from keeper.wallet import DebtFunds, Wallet

log = logging.getLogger(__name__)

#: Liquidations simulated in one JSON-RPC batch before their transactions are signed and sent; the
#: first chunk is smaller so that the best liquidations leave as early as possible.
FIRST_SIMULATION_CHUNK = 8
SIMULATION_CHUNK = 25
#: Flash liquidations sent in one round fill at most this many blocks, each to FLASH_BLOCK_GAS_SHARE of
#: its gas limit (the rest is left to others' transactions): the node mines the queue back to back
#: while the keeper prepares the next round, and each order's deadline is the last of those blocks.
#: One mined later would sell into a market its quote did not see, and fails on its deadline (~27k
#: gas); the rest wait for the next round and a fresh quote. Liquidations along the same route are
#: quoted cumulatively in nonce order, so a later block's share is quoted after the earlier ones.
FLASH_BLOCKS_AHEAD = 2
#: An order's deadline leaves one block more than the round fills: the round's orders leave in chunks
#: as they are simulated, so the last of them reach the node up to a block after the quote's head
#: (measured on crash_1000_flash: with no such slack, 303 of 1,303 orders were mined one block late and
#: failed on their deadline). The pools have only moved by the round's own orders, already quoted.
FLASH_DEADLINE_BLOCKS = FLASH_BLOCKS_AHEAD + 1
FLASH_BLOCK_GAS_SHARE = 0.97
#: Gas a flash liquidation gets back at the end (EIP-3529 refunds: its debt-token allowance and balance
#: both go from zero and back to zero, 19,900 each, and the expected-pool slot is restored, 2,800): what
#: it takes of a block is its estimate less this, which is what the block budget counts.
FLASH_REFUND_GAS = 42_600
#: Gas of one flash liquidation for planning how many fit in a block (the gas bench measures ~264k to
#: the target through one pool; a count a little high only quotes a few that wait for the next block).
FLASH_GAS_PLANNED = 240_000
LIQUIDATE_FUNCTION = function("LendingPool", "liquidate")


def liquidate_call(pool: str, opp: Opportunity) -> RawCall:
    """`liquidate(collateral, debt, user, debtToCover, false)`, encoded without web3.py's per-argument
    checks. By default debtToCover is "as much as allowed": the pool repays exactly what restores the
    target (or clears dust), so a price update landing first changes the amount instead of reverting;
    a fixed close factor or a throttled chunk asks for less."""
    return LIQUIDATE_FUNCTION.call(
        pool, opp.collateral.asset, opp.debt.asset, opp.user, opp.debt_to_cover, False
    )


@dataclass
class Attempts:
    """What became of one block's ranked accounts."""

    sent: list[str] = field(default_factory=list)  # transaction hashes, or `dry-run:<user>`
    skipped: dict[str, str] = field(default_factory=dict)  # account -> why nothing was sent
    awaiting_funds: set[str] = field(default_factory=set)  # skipped for lack of ETH or debt token
    timed_out: set[str] = field(default_factory=set)  # the node did not answer the simulation in time
    deferred: set[str] = field(default_factory=set)  # re-checked at the next block (not sent in this one)
    flash_gas: int = 0  # block gas of the flash liquidations queued (earlier rounds') or sent so far


@dataclass(frozen=True)
class DetectionMemo:
    """When and why the keeper liquidates an account, stored with the transaction (see `Memo`)."""

    intent: str
    decision: Decision
    trigger: PriceSeen | None
    head: int
    seen_ms: int
    route: str | None = None  # a flash liquidation's route, in symbols

    @property
    def key(self) -> str:
        return detection_key(self.intent)

    def detection(self, submit_ms: int) -> Detection:
        opp, trigger = self.decision.opportunity, self.trigger
        return Detection(
            user=opp.user,
            collateral=opp.collateral.asset,
            debt=opp.debt.asset,
            trigger_asset=trigger.update.asset if trigger else None,
            trigger_block=trigger.update.block if trigger else None,
            trigger_price=trigger.update.price if trigger else None,
            trigger_seen_ms=trigger.seen_ms if trigger else None,
            trigger_block_ts=trigger.block_ts if trigger else None,
            detect_block=self.head,
            detect_ms=self.seen_ms,
            submit_block=self.head,
            submit_ms=submit_ms,
            health_factor=opp.health_factor,
            expected_profit_usd=str(opp.profit_usd),
            reason=self.decision.reason,
            method=opp.method,
            route=self.route,
            pool_fee_ppm=opp.flash.route.fee_ppm if opp.flash else None,
        )

    def render(self, signed_ms: int) -> str:
        return detection_json(self.detection(signed_ms))


class Liquidator:
    def __init__(
        self,
        pool: str,
        caller: str,
        simulator: Simulator,
        dispatcher: Dispatcher,
        wallet: Wallet,
        metrics: Metrics,
        flash_liquidator: str | None = None,
    ):
        self.pool = pool
        self.caller = caller
        self.simulator = simulator
        self.dispatcher = dispatcher
        self.wallet = wallet
        self.metrics = metrics
        self.flash_liquidator = flash_liquidator
        #: The block gas each flash liquidation sent takes (by intent), while it is pending.
        self._flash_planned: dict[str, int] = {}

    def send(
        self,
        model: PoolModel,
        ranking: Ranking,
        sends: Round,
        block: BlockContext,
        native_usd: Decimal,
        funds: DebtFunds | None = None,
    ) -> Attempts:
        """Sends every liquidation of `ranking` that passes the gates, in ranking order; inventory
        liquidations repay from `funds` (the wallet's balances of this block unless given)."""
        attempts = Attempts(flash_gas=self._queued_flash_gas(block)[0])
        funds = funds or self.wallet.debt_funds(self.dispatcher.signing)
        for user, reason in ranking.reverted.items():
            attempts.skipped[user] = reason
            self.metrics.skipped.labels(reason="simulation").inc()
            log.info("preview_reverted user=%s reason=%s", user, reason)
        for user, reason in ranking.deferred.items():
            attempts.skipped[user] = reason
            attempts.deferred.add(user)
            log.info("deferred user=%s reason=%s", user, reason)
        sendable = self._sendable(ranking.decisions, attempts, funds)
        bounds = [0, *range(FIRST_SIMULATION_CHUNK, len(sendable), SIMULATION_CHUNK), len(sendable)]
        for start, end in pairwise(bounds):
            if end > start:
                self._send_chunk(model, sendable[start:end], sends, block, native_usd, attempts)
        return attempts

    def _sendable(self, decisions: list[Decision], attempts: Attempts, funds: DebtFunds) -> list[Decision]:
        """The decisions to send: profitable (or clearing dust or a deficit), not in flight, and with
        the debt token to repay them (a flash liquidation brings its own)."""
        in_flight = self.dispatcher.in_flight()
        sendable: list[Decision] = []
        for decision in decisions:
            opp = decision.opportunity
            if not decision.send:
                attempts.skipped[opp.user] = decision.reason
                # Re-checked next block: the bonus grows as the health factor falls, and a flash
                # liquidation's quote moves with the pools, which no event of the pool announces.
                attempts.deferred.add(opp.user)
                self.metrics.skipped.labels(reason="unprofitable").inc()
                log.info(
                    "skip user=%s hf=%d profit_usd=%.2f reason=%s",
                    opp.user,
                    opp.health_factor,
                    opp.profit_usd,
                    decision.reason,
                )
            elif opp.intent in in_flight:
                # Re-checked next block: what is pending may leave it liquidatable (a chunk, a revert).
                attempts.skipped[opp.user] = "in flight"
                attempts.deferred.add(opp.user)
            elif opp.flash is None and not funds.cover(opp.debt, opp.preview.debt_to_repay):
                self._await_funds(attempts, opp.user, "insufficient debt token")
            else:
                sendable.append(decision)
        return sendable

    def _send_chunk(
        self,
        model: PoolModel,
        chunk: list[Decision],
        sends: Round,
        block: BlockContext,
        native_usd: Decimal,
        attempts: Attempts,
    ) -> None:
        """Simulates one chunk in one batch, then dispatches what would not revert."""
        calls = [self._call(d.opportunity, block.head) for d in chunk]
        estimates = self.simulator.estimate_many(calls, self.caller)
        intents: list[Intent] = []
        memos: list[DetectionMemo] = []
        symbols = {asset: reserve.symbol for asset, reserve in model.by_asset.items()}
        for decision, call, gas in zip(chunk, calls, estimates, strict=True):
            opp = decision.opportunity
            if isinstance(gas, SimulationTimeout):  # not a revert: tried again in the next block
                attempts.skipped[opp.user] = "simulation timed out"
                attempts.timed_out.add(opp.user)
                self.metrics.skipped.labels(reason="timeout").inc()
                log.warning("simulation_timed_out user=%s retry=next_block reason=%s", opp.user, gas.reason)
                continue
            if isinstance(gas, SimulationError):
                attempts.skipped[opp.user] = gas.reason
                self.metrics.skipped.labels(reason="simulation").inc()
                log.info("simulation_reverted user=%s reason=%s", opp.user, gas.reason)
                continue
            if opp.flash is not None:
                room = self._flash_gas_budget(sends) - attempts.flash_gas
                used = max(gas - FLASH_REFUND_GAS, gas // 2)
                if used > room:
                    attempts.skipped[opp.user] = "waits a block: this block's gas is taken by liquidations"
                    attempts.deferred.add(opp.user)
                    continue
                attempts.flash_gas += used
                self._flash_planned[opp.intent] = used
            account = model.accounts[opp.user]
            held = (r.asset for i, r in model.reserves.items() if i in account.reserve_ids())
            route = opp.flash.route.describe(symbols) if opp.flash else None
            memo = DetectionMemo(
                opp.intent, decision, block.trigger(held, opp.user), block.head, block.seen_ms, route
            )
            intents.append(Intent(LIQUIDATE, opp.intent, call, gas, _revenue_wei(opp, native_usd), memo))
            memos.append(memo)
        for memo, outcome in zip(memos, sends.dispatch(intents), strict=True):
            self._outcome(memo, outcome, block.head, attempts)

    @staticmethod
    def _flash_gas_budget(sends: Round) -> int:
        """The gas the flash liquidations of one round may take: FLASH_BLOCKS_AHEAD blocks' worth."""
        return int(sends.block_gas_limit * FLASH_BLOCK_GAS_SHARE) * FLASH_BLOCKS_AHEAD

    def flash_room(self, sends: Round, block: BlockContext) -> FlashRoom:
        """How many more flash liquidations this round may send (what its gas budget leaves after
        the ones still queued from earlier rounds, FLASH_GAS_PLANNED each), and whose are queued."""
        queued_gas, queued = self._queued_flash_gas(block)
        count = max(0, self._flash_gas_budget(sends) - queued_gas) // FLASH_GAS_PLANNED
        return FlashRoom(count, frozenset(_intent_user(intent) for intent in queued))

    def _queued_flash_gas(self, block: BlockContext) -> tuple[int, set[str]]:
        """The block gas of the flash liquidations still queued, and their intents. Those mined in
        the blocks just read (a `LiquidationCall` of their account: the receipts are read after the
        round) take no room of the next blocks; those mined earlier or dropped are forgotten."""
        in_flight = self.dispatcher.in_flight()
        self._flash_planned = {i: gas for i, gas in self._flash_planned.items() if i in in_flight}
        events = block.scan.events if block.scan else []
        mined = {str(e.args["user"]).lower() for e in events if e.name == "LiquidationCall"}
        queued = {i: gas for i, gas in self._flash_planned.items() if _intent_user(i).lower() not in mined}
        return sum(queued.values()), set(queued)

    def _call(self, opp: Opportunity, head: int) -> RawCall:
        """The pool's `liquidate`, or the FlashLiquidator's order for a flash liquidation quoted at
        block `head` (it must run within the next FLASH_DEADLINE_BLOCKS)."""
        if opp.flash is None:
            return liquidate_call(self.pool, opp)
        assert self.flash_liquidator is not None, "a flash liquidation without a FlashLiquidator"
        return flash_call(
            self.flash_liquidator, opp.user, opp.flash, head + FLASH_DEADLINE_BLOCKS, opp.debt_to_cover
        )

    def _outcome(self, memo: DetectionMemo, outcome: Dispatched, head: int, attempts: Attempts) -> None:
        opp = memo.decision.opportunity
        if isinstance(outcome, NoFunds):  # our count, or the node's (e.g. other transactions)
            self._await_funds(attempts, opp.user, "insufficient native balance")
            return
        if isinstance(outcome, Outbid):  # a rival's pending liquidation tips more than we may
            attempts.skipped[opp.user] = "outbid by a rival"
            self.metrics.skipped.labels(reason="outbid").inc()
            return
        if not isinstance(outcome, Sent | DryRun):
            attempts.skipped[opp.user] = "refused by the node"
            return
        if memo.trigger is not None:
            self.metrics.detection_blocks.observe(head - memo.trigger.update.block)
            self.metrics.detection_ms.observe(outcome.at_ms - memo.trigger.seen_ms)
        if isinstance(outcome, DryRun):
            attempts.sent.append(f"dry-run:{opp.user}")
            return
        self.metrics.sent.labels(kind="liquidate").inc()
        attempts.sent.append(outcome.record.hash)
        log.info(
            "liquidation_sent user=%s hf=%d collateral=%s debt=%s debt_to_repay=%d method=%s "
            "profit_usd=%.2f tx=%s",
            opp.user,
            opp.health_factor,
            opp.collateral.symbol,
            opp.debt.symbol,
            opp.preview.debt_to_repay,
            opp.method,
            opp.profit_usd,
            outcome.record.hash,
        )

    def _await_funds(self, attempts: Attempts, user: str, reason: str) -> None:
        """Skips `user` for lack of funds; it is re-scored every block until it can be paid for."""
        attempts.skipped[user] = reason
        self.metrics.skipped.labels(reason="funds").inc()
        attempts.awaiting_funds.add(user)


def _intent_user(intent: str) -> str:
    """The account of a liquidation intent (`liquidate:<user>:<collateral>:<debt>`)."""
    return intent.split(":")[1]


def _revenue_wei(opp: Opportunity, native_usd: Decimal) -> int:
    """The expected revenue in ETH: what a liquidation's fees may cost at most."""
    return int(opp.revenue_usd / native_usd * 10**18) if native_usd > 0 and opp.revenue_usd > 0 else 0
