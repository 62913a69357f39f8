"""The keeper's main loop: on every new block, discover, re-score, rank, simulate, send, follow,
settle and persist. Each stage lives in its own module; this one only sequences them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise

from web3 import Web3

from keeper import protocol_math as pm
from keeper.calls import function
from keeper.chain import ChainContext, revert_reason
from keeper.config import Settings
from keeper.contracts import erc20
from keeper.discovery import Discovery, PriceUpdate, ScanResult
from keeper.dispatch import Dispatcher, Fees, Outcome, Send
from keeper.errors import ConfigError, FundsError, KeeperError, SimulationError
from keeper.metrics import Metrics
from keeper.model import PoolModel, Reserve
from keeper.pool_reader import PoolReader
from keeper.recorder import Recorder
from keeper.records import Detection
from keeper.rpc_batch import RawCall, RpcCounter
from keeper.store import Store, TxRecord
from keeper.strategy import Decision, Opportunity, Strategy
from keeper.subscriptions import ChainSubscriptions

log = logging.getLogger(__name__)

MAX_UINT256 = pm.MAX_UINT256
#: Liquidations simulated in one JSON-RPC batch before their transactions are signed and sent; the
#: first chunk is smaller so that the best liquidations leave as early as possible.
FIRST_SIMULATION_CHUNK = 8
SIMULATION_CHUNK = 25
LIQUIDATE = function("LendingPool", "liquidate")


@dataclass
class PriceSeen:
    update: PriceUpdate
    seen_ms: int
    block_ts: int


@dataclass
class BlockReport:
    """What one step did, for tests, logs and benchmarks."""

    head: int
    rpc_calls: int
    candidates: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
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
        self.ctx = ctx
        self.w3: Web3 = ctx.w3
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.rpc = RpcCounter()
        self.reader = PoolReader(ctx.w3, ctx.contracts, ctx.deployment, self.rpc)
        self.discovery = Discovery(ctx.w3, ctx.deployment, self.rpc)
        self.strategy = Strategy(
            ctx.w3,
            ctx.contracts,
            self.rpc,
            settings.min_profit_usd,
            settings.clear_dust_and_deficits,
        )
        self.dispatcher = Dispatcher(
            ctx.w3,
            ctx.account,
            store,
            self.rpc,
            max_gas_gwei=settings.max_gas_gwei,
            fee_bump=settings.fee_bump,
            replace_after_blocks=settings.replace_after_blocks,
            dry_run=settings.dry_run,
            confirmations=settings.confirmations,
            clock=clock,
        )
        self.model: PoolModel | None = None
        self.processed = -1
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.subscriptions: ChainSubscriptions | None = None
        self.prices_seen: dict[str, PriceSeen] = {}
        self.recorder = Recorder(ctx.w3, ctx.contracts, store, metrics)
        self.lost_to: dict[str, str] = {}
        self._approved: set[str] = set()
        self._blocks_since_sweep = 0
        self._warned_funds: set[str] = set()
        self._awaiting_funds: set[str] = set()  # liquidatable accounts skipped for lack of funds
        self._gas_wei = 0  # worst-case gas (wei) of the last transaction about to be sent

    @property
    def caller(self) -> str:
        return self.ctx.address or self.ctx.deployment.fee_receiver

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # start-up

    def start(self) -> None:
        """Checks the database belongs to this deployment, catches up from the checkpoint (or the
        deploy block), builds the model, and finishes our own pending transactions."""
        deployment = self.ctx.deployment
        identity = f"{deployment.chain_id}:{deployment.pool}"
        stored = self.store.get_meta("deployment")
        if stored is None:
            self.store.set_meta("deployment", identity)
        elif stored != identity:
            raise ConfigError(
                f"database {self.store.path} belongs to deployment {stored}, not {identity}: "
                "use another DB_PATH"
            )
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
            self.processed = deployment.deploy_block - 1
            log.info("index_from_deploy_block block=%d", deployment.deploy_block)
        head = self.w3.eth.block_number
        self._catch_up(head)
        self.model = PoolModel(self.reader.reserves(head), self.reader.liquidation_config(head))
        accounts = self.store.accounts()
        for account in self.reader.positions(accounts, head):
            self.model.set_account(account)
        self.metrics.accounts.set(len(self.model.accounts))
        if self.ctx.account is not None and not self.settings.dry_run:
            self._record_outcomes(self.dispatcher.recover(head))
            self._approve_debt_assets(head)
        log.info(
            "keeper_started block=%d accounts=%d borrowers=%d address=%s dry_run=%s",
            head,
            len(self.model.accounts),
            len(self.model.borrowers()),
            self.ctx.address,
            self.settings.dry_run,
        )

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
        floor = self.ctx.deployment.deploy_block - 1
        return floor, self._hash_at(floor) or ""

    def _catch_up(self, head: int) -> ScanResult:
        """Indexes events from the checkpoint to `head` and persists the new checkpoint."""
        result = ScanResult()
        if head > self.processed:
            result = self.discovery.scan(self.processed + 1, head)
            block_hash = self._hash_at(head) or ""
            self.store.save_progress(
                head,
                block_hash,
                [(head, block_hash)],
                result.first_seen.items(),
                keep_blocks=self.settings.reorg_depth,
            )
            self.processed = head
            self.metrics.last_block.set(head)
        return result

    def _approve_debt_assets(self, head: int) -> None:
        """Approves the pool once for every asset (any can be a debt), waiting for the receipts."""
        owner = self.ctx.address
        for asset in self.ctx.deployment.assets:
            token = erc20(self.w3, asset.address)
            if token.functions.allowance(owner, self.ctx.deployment.pool).call() >= MAX_UINT256 // 2:
                self._approved.add(asset.address)
                continue
            fn = token.functions.approve(self.ctx.deployment.pool, MAX_UINT256)
            gas = self.dispatcher.simulate(fn, owner)
            record = self.dispatcher.submit(
                "approve", f"approve:{asset.address}", fn, int(gas * 1.3) + 10_000, 10**18, head
            )
            if record is not None:
                self.w3.eth.wait_for_transaction_receipt(record.hash, timeout=120)
                self.dispatcher.poll(self.w3.eth.block_number)
            self._approved.add(asset.address)

    # the loop

    def subscribe(self) -> None:
        """With a ws:// URL, wake on `newHeads` and on the feeds' `AnswerUpdated` logs instead of
        waiting for the next poll."""
        url = self.settings.rpc_url
        if not url.startswith(("ws://", "wss://")) or self.subscriptions is not None:
            return
        self.subscriptions = ChainSubscriptions(
            url, list(self.ctx.deployment.feeds), Web3.to_hex(self.discovery.answer_updated_topic), self.wake
        )
        self.subscriptions.start()

    def _wait_for_work(self) -> None:
        self.wake.wait(self.settings.poll_interval)
        self.wake.clear()

    def run(self, max_blocks: int | None = None) -> None:
        """Processes new blocks until stopped (SIGINT/SIGTERM set `stop_event`). Node outages are
        retried with exponential backoff (0.5 s doubling to 10 s); nothing is skipped."""
        self.subscribe()
        processed_steps = 0
        backoff = 0.5
        while not self.stop_event.is_set():
            try:
                report = self.step()
                self.metrics.node_up.set(1)
                self.metrics.health.node_ok = True
                backoff = 0.5
            except (ConnectionError, OSError, TimeoutError) as exc:
                self._node_down(exc, backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            except KeeperError:
                raise
            except Exception as exc:
                if _looks_like_connection_error(exc):
                    self._node_down(exc, backoff)
                else:
                    # A step that fails is retried from the last checkpoint: nothing is skipped.
                    log.error(
                        "step_failed error=%s retry_in_s=%.1f", revert_reason(exc), backoff, exc_info=True
                    )
                    self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if report is not None:
                processed_steps += 1
                if max_blocks is not None and processed_steps >= max_blocks:
                    break
            else:
                self._wait_for_work()
        if self.subscriptions is not None:
            self.subscriptions.stop()

    def _node_down(self, exc: BaseException, backoff: float) -> None:
        self.metrics.node_up.set(0)
        self.metrics.health.node_ok = False
        log.warning(
            "node_unreachable error=%s retry_in_s=%.1f",
            (str(exc).splitlines() or [type(exc).__name__])[0][:120],
            backoff,
        )
        self.stop_event.wait(backoff)

    def step(self) -> BlockReport | None:
        """Handles every block since the last one processed; None when there is no new block."""
        assert self.model is not None
        head = self.w3.eth.block_number
        if head <= self.processed:
            if head < self.processed:
                return self._handle_reorg(head)
            return None
        calls_before = self.rpc.calls
        seen_ms = self.now_ms()
        head_block = self.w3.eth.get_block(head)
        self.metrics.health.last_head = head
        self.metrics.health.last_head_seen = self.clock()
        depth = 0
        stored_parent = self.store.block_hash(self.processed)
        if stored_parent is not None and head == self.processed + 1:
            if Web3.to_hex(head_block["parentHash"]) != stored_parent:
                rolled = self._handle_reorg(head)
                depth = rolled.reorg_depth if rolled else 0
        elif stored_parent is not None and self._hash_at(self.processed) != stored_parent:
            rolled = self._handle_reorg(head)
            depth = rolled.reorg_depth if rolled else 0

        scan = self.discovery.scan(self.processed + 1, head)
        if scan.undecodable:
            log.warning("logs_skipped count=%d", scan.undecodable)
        for update in scan.prices:
            self.prices_seen[update.asset] = PriceSeen(update, seen_ms, int(head_block["timestamp"]))
        for event in scan.events:
            if event.name == "LiquidationCall":
                user = Web3.to_checksum_address(event.args["user"])
                self.lost_to[user] = Web3.to_checksum_address(event.args["liquidator"])

        for reserve in self.reader.reserves(head):
            self.model.update_reserve(reserve)
        if scan.touched:
            for account in self.reader.positions(sorted(scan.touched), head):
                self.model.set_account(account)
        self.metrics.accounts.set(len(self.model.accounts))

        repriced = {self.model.by_asset[u.asset].id for u in scan.prices if u.asset in self.model.by_asset}
        self._blocks_since_sweep += head - self.processed
        sweep = self._blocks_since_sweep >= self.settings.sweep_every_blocks
        if sweep:
            to_score = set(self.model.borrowers())
            self._blocks_since_sweep = 0
            self.native_balance_check()
        else:
            to_score = self.model.holders_of(repriced) | scan.touched | self._awaiting_funds
        self._awaiting_funds = set()  # _liquidate keeps those still waiting
        candidates = sorted(
            u for u in to_score if self.model.health_factor(u) < pm.WAD and self.model.accounts[u].has_debt
        )
        if sweep:
            chain_hfs = self.reader.health_factors(self.model.borrowers(), head)
            missed = sorted(u for u, hf in chain_hfs.items() if hf < pm.WAD and u not in candidates)
            if missed:
                log.warning("sweep_found_missed accounts=%d first=%s", len(missed), missed[0])
                candidates = sorted(set(candidates) | set(missed))
        elif candidates:
            chain_hfs = self.reader.health_factors(candidates, head)
            for user in candidates:
                model_hf = self.model.health_factor(user)
                if chain_hfs[user] != model_hf:
                    log.warning(
                        "model_mismatch user=%s model_hf=%d chain_hf=%d",
                        user,
                        model_hf,
                        chain_hfs[user],
                    )
            candidates = [u for u in candidates if chain_hfs[u] < pm.WAD]
        self.metrics.candidates.set(len(candidates))

        report = BlockReport(head=head, rpc_calls=0, candidates=candidates, reorg_depth=depth)
        if candidates:
            self._liquidate(candidates, head, seen_ms, report)
        outcomes = self.dispatcher.poll(head)
        self._record_outcomes(outcomes)
        report.outcomes = outcomes
        self._settle_deficits(head)

        self.store.save_progress(
            head,
            Web3.to_hex(head_block["hash"]),
            [(head, Web3.to_hex(head_block["hash"]))],
            scan.first_seen.items(),
            keep_blocks=self.settings.reorg_depth,
        )
        self.processed = head
        self.metrics.last_block.set(head)
        self.metrics.pending.set(self.dispatcher.pending_count())
        report.rpc_calls = self.rpc.calls - calls_before
        self.metrics.rpc_per_block.set(report.rpc_calls)
        if candidates or outcomes:
            log.info(
                "block_done block=%d candidates=%d sent=%d mined=%d rpc_calls=%d",
                head,
                len(candidates),
                len(report.sent),
                len(outcomes),
                report.rpc_calls,
            )
        return report

    # reorgs

    def _handle_reorg(self, head: int) -> BlockReport:
        """Rolls the index and model back to the common ancestor, re-reads every account seen in the
        replaced blocks, and re-opens our transactions mined in them: their signed bytes are sent
        again and followed like any pending transaction (never a second nonce for the intent)."""
        assert self.model is not None
        ancestor, ancestor_hash = self._common_ancestor(min(self.processed, head))
        depth = self.processed - ancestor
        log.warning("reorg_detected old_head=%d ancestor=%d depth=%d", self.processed, ancestor, depth)
        reopened = self.store.rollback_to(ancestor, ancestor_hash)
        if self.ctx.account is not None and not self.settings.dry_run:
            self.dispatcher.reopen(reopened, head)
        known = set(self.store.accounts())
        for address in list(self.model.accounts):
            if address not in known:
                self.model.forget(address)
        self.processed = ancestor
        replayed = self.discovery.scan(ancestor + 1, head) if head > ancestor else ScanResult()
        refresh = sorted(known | replayed.touched)
        for account in self.reader.positions(refresh, head):
            self.model.set_account(account)
        return BlockReport(head=head, rpc_calls=0, reorg_depth=depth)

    # liquidation

    def _native_price_usd(self) -> Decimal:
        if self.settings.native_price_usd is not None:
            return self.settings.native_price_usd
        symbol = self.ctx.deployment.native_price_asset
        assert self.model is not None
        if symbol:
            asset = self.ctx.deployment.asset_by_symbol(symbol).address
            reserve = self.model.by_asset.get(asset)
            if reserve and reserve.price:
                return Decimal(reserve.price) / Decimal(10**8)
        return Decimal(0)

    def _trigger_for(self, user: str) -> PriceSeen | None:
        assert self.model is not None
        account = self.model.accounts[user]
        seen = [
            self.prices_seen[r.asset]
            for i, r in self.model.reserves.items()
            if i in account.reserve_ids() and r.asset in self.prices_seen
        ]
        return max(seen, key=lambda p: (p.update.block, p.update.log_index)) if seen else None

    def _liquidate(self, candidates: list[str], head: int, seen_ms: int, report: BlockReport) -> None:
        """Ranks the candidates, then simulates and sends the ones that pass the gates in chunks
        (one simulation batch per chunk), best first, so the first transactions are on their way
        while later ones are still being simulated."""
        assert self.model is not None
        fees = self.dispatcher.current_fees()
        native = self._native_price_usd()
        gas_limit = self.settings.gas_limit_liquidation
        gas_cost_usd = Decimal(fees.max_fee * gas_limit) / Decimal(10**18) * native
        ranking = self.strategy.rank(self.model, candidates, self.caller, head, gas_cost_usd)
        for user, reason in ranking.reverted.items():
            report.skipped[user] = reason
            self.metrics.skipped.labels(reason="simulation").inc()
            log.info("preview_reverted user=%s reason=%s", user, reason)
        decisions = ranking.decisions
        in_flight = self.store.in_flight_intents()
        balances: dict[str, int] = {}
        sendable: list[Decision] = []
        for decision in decisions:
            opp = decision.opportunity
            if not decision.send:
                report.skipped[opp.user] = decision.reason
                self.metrics.skipped.labels(reason="unprofitable").inc()
                log.info(
                    "skip user=%s hf=%d profit_usd=%.2f reason=%s",
                    opp.user,
                    opp.health_factor,
                    opp.profit_usd,
                    decision.reason,
                )
                continue
            if opp.intent in in_flight:
                report.skipped[opp.user] = "in flight"
                continue
            if not self._funded(opp.debt, opp.preview.debt_to_repay, balances):
                self._await_funds(opp.user, "insufficient debt token", report)
                continue
            sendable.append(decision)
        if not sendable:
            return
        wallet = _GasWallet(self, fees.max_fee)
        pool = self.ctx.contracts.pool.address
        # "As much as allowed": the pool repays exactly what restores the target (or clears dust),
        # so a price update landing first changes the amount instead of reverting.
        bounds = [0, *range(FIRST_SIMULATION_CHUNK, len(sendable), SIMULATION_CHUNK), len(sendable)]
        chunks = [
            [(d, liquidate_call(pool, d.opportunity)) for d in sendable[start:end]]
            for start, end in pairwise(bounds)
            if end > start
        ]
        for chunk, simulated in self._simulated(chunks):
            ready: list[tuple[Decision, Send]] = []
            for (decision, fn), gas in zip(chunk, simulated, strict=True):
                user = decision.opportunity.user
                if isinstance(gas, SimulationError):
                    report.skipped[user] = gas.reason
                    self.metrics.skipped.labels(reason="simulation").inc()
                    log.info("simulation_reverted user=%s reason=%s", user, gas.reason)
                    continue
                send = self._liquidation_send(decision.opportunity, fn, gas, native, fees.max_fee)
                if not wallet.reserve(send.gas_limit):
                    self._await_funds(user, "insufficient native balance", report)
                    continue
                ready.append((decision, send))
            self._send_liquidations(ready, head, seen_ms, report, fees)

    def _simulated(
        self, chunks: list[list[tuple[Decision, RawCall]]]
    ) -> Iterator[tuple[list[tuple[Decision, RawCall]], list[int | SimulationError]]]:
        """Each chunk with its simulation results, simulated just before it is sent. (Simulating the
        next chunk on a thread while this one is sent was slower on a 2-core machine: the node
        then runs the simulations and the sends at once.)"""
        for chunk in chunks:
            yield chunk, self.dispatcher.simulate_many([fn for _, fn in chunk], self.caller)

    def _await_funds(self, user: str, reason: str, report: BlockReport) -> None:
        """Skips `user` for lack of funds; it is re-scored every block until it can be paid for."""
        report.skipped[user] = reason
        self.metrics.skipped.labels(reason="funds").inc()
        self._awaiting_funds.add(user)

    def _funded(self, debt: Reserve, needed: int, balances: dict[str, int]) -> bool:
        if self.settings.dry_run or self.ctx.account is None:
            return True
        if debt.asset not in balances:
            self.rpc.add()
            balances[debt.asset] = erc20(self.w3, debt.asset).functions.balanceOf(self.caller).call()
            self.metrics.token_balance.labels(asset=debt.symbol).set(balances[debt.asset] / 10**debt.decimals)
        if balances[debt.asset] < needed:
            low = f"{debt.symbol} balance"
            self.metrics.low_balance.labels(what=low).set(1)
            if low not in self.metrics.health.low_balance:
                self.metrics.health.low_balance.append(low)
            if debt.asset not in self._warned_funds:
                self._warned_funds.add(debt.asset)
                log.warning(
                    "insufficient_debt_token asset=%s balance=%d needed=%d",
                    debt.symbol,
                    balances[debt.asset],
                    needed,
                )
            return False
        balances[debt.asset] -= needed
        return True

    def _liquidation_send(
        self, opp: Opportunity, fn: RawCall, gas: int, native: Decimal, max_fee: int
    ) -> Send:
        """The transaction for a simulated liquidation: the estimate plus a margin as gas limit, and
        as budget for replacements the expected revenue in ETH (at least twice the first fee)."""
        gas_limit = min(int(gas * 1.25) + 20_000, max(self.settings.gas_limit_liquidation, gas + 20_000))
        revenue_wei = int(opp.revenue_usd / native * 10**18) if native > 0 and opp.revenue_usd > 0 else 0
        return Send(opp.intent, fn, gas_limit, max(revenue_wei, 2 * max_fee * gas_limit))

    def _send_liquidations(
        self,
        ready: list[tuple[Decision, Send]],
        head: int,
        seen_ms: int,
        report: BlockReport,
        fees: Fees,
    ) -> None:
        """Sends one chunk of liquidations in one batch; their detections are stored in the same
        commit as the transactions, before anything leaves."""
        if not ready:
            return
        triggers = [self._trigger_for(decision.opportunity.user) for decision, _ in ready]
        now = self.now_ms()
        detections = [_detection(d, t, head, seen_ms, now) for (d, _), t in zip(ready, triggers, strict=True)]

        def keep_detections(records: list[TxRecord]) -> None:
            submit_ms = self.now_ms()  # signed, about to leave
            for i, record in enumerate(records):
                detections[i] = replace(detections[i], submit_ms=submit_ms)
                self.recorder.detected(record.hash, record.intent, detections[i])

        results = self.dispatcher.submit_many(
            "liquidate", [send for _, send in ready], head, fees, on_signed=keep_detections
        )
        for i, ((decision, _), trigger, result) in enumerate(zip(ready, triggers, results, strict=True)):
            opp = decision.opportunity
            if isinstance(result, FundsError):  # the node counts what the wallet cannot, e.g. other txs
                self._await_funds(opp.user, "insufficient native balance", report)
                continue
            dry_run = result is None and (self.settings.dry_run or self.ctx.account is None)
            if result is None and not dry_run:
                report.skipped[opp.user] = "refused by the node"
                continue
            detection = detections[i]
            if trigger is not None:
                self.metrics.detection_blocks.observe(head - trigger.update.block)
                self.metrics.detection_ms.observe(detection.submit_ms - trigger.seen_ms)
            if result is None:
                report.sent.append(f"dry-run:{opp.user}")
                continue
            if result.hash not in self.recorder.detections:  # sent again after a refusal
                self.recorder.detections[result.hash] = detection
            self.metrics.sent.labels(kind="liquidate").inc()
            report.sent.append(result.hash)
            log.info(
                "liquidation_sent user=%s hf=%d collateral=%s debt=%s debt_to_repay=%d profit_usd=%.2f tx=%s",
                opp.user,
                opp.health_factor,
                opp.collateral.symbol,
                opp.debt.symbol,
                opp.preview.debt_to_repay,
                opp.profit_usd,
                result.hash,
            )

    def _settle_deficits(self, head: int) -> None:
        assert self.model is not None
        if not self.settings.settle_deficits or self.ctx.account is None:
            return
        in_flight = self.store.in_flight_intents()
        for reserve in self.model.reserves.values():
            intent = f"settle:{reserve.asset}"
            if reserve.deficit == 0 or intent in in_flight:
                continue
            fn = self.ctx.contracts.pool.functions.settleDeficit(reserve.asset)
            try:
                gas = self.dispatcher.simulate(fn, self.caller)
            except SimulationError as exc:
                log.info("settle_skipped asset=%s reason=%s", reserve.symbol, exc.reason)
                continue
            fees = self.dispatcher.current_fees()
            gas_limit = int(gas * 1.3) + 10_000
            if not _GasWallet(self, fees.max_fee).reserve(gas_limit):
                continue
            try:
                record = self.dispatcher.submit(
                    "settle", intent, fn, gas_limit, 4 * fees.max_fee * gas, head, fees
                )
            except FundsError:
                continue
            if record is not None:
                log.info(
                    "settle_sent asset=%s deficit=%d tx=%s",
                    reserve.symbol,
                    reserve.deficit,
                    record.hash,
                )

    # outcomes

    def _record_outcomes(self, outcomes: list[Outcome]) -> None:
        assert self.model is not None
        self.recorder.record(outcomes, self.model, self.processed, self.lost_to, self._native_price_usd)

    def native_balance_check(self, gas_wei: int | None = None) -> int:
        """The keeper's ETH balance in wei. Below MIN_ETH_BALANCE, or below the worst-case gas of the
        transaction about to be sent (`gas_wei`, else the last one), it is flagged on the metric and
        /health and warned about once, until it recovers."""
        if self.ctx.account is None:
            return 0
        if gas_wei is not None:
            self._gas_wei = gas_wei
        self.rpc.add()
        balance = self.w3.eth.get_balance(self.ctx.account.address)
        eth = Decimal(balance) / Decimal(10**18)
        self.metrics.eth_balance.set(float(eth))
        low = eth < self.settings.min_eth_balance or balance < self._gas_wei
        self.metrics.low_balance.labels(what="native").set(1 if low else 0)
        if low and "native" not in self.metrics.health.low_balance:
            self.metrics.health.low_balance.append("native")
            log.warning(
                "low_native_balance address=%s eth=%s gas_needed_eth=%s sending=paused",
                self.ctx.account.address,
                eth,
                Decimal(self._gas_wei) / Decimal(10**18),
            )
        elif not low and "native" in self.metrics.health.low_balance:
            self.metrics.health.low_balance.remove("native")
            log.info("native_balance_restored address=%s eth=%s", self.ctx.account.address, eth)
        return balance


def _detection(
    decision: Decision, trigger: PriceSeen | None, head: int, seen_ms: int, submit_ms: int
) -> Detection:
    opp = decision.opportunity
    return Detection(
        user=opp.user,
        collateral=opp.collateral.asset,
        debt=opp.debt.asset,
        trigger_asset=trigger.update.asset if trigger else None,
        trigger_block=trigger.update.block if trigger else None,
        trigger_price=trigger.update.price if trigger else None,
        trigger_seen_ms=trigger.seen_ms if trigger else None,
        trigger_block_ts=trigger.block_ts if trigger else None,
        detect_block=head,
        detect_ms=seen_ms,
        submit_block=head,
        submit_ms=submit_ms,
        health_factor=opp.health_factor,
        expected_profit_usd=str(opp.profit_usd),
        reason=decision.reason,
    )


def liquidate_call(pool: str, opp: Opportunity) -> RawCall:
    """`liquidate(collateral, debt, user, max, false)`, encoded without web3.py's per-argument checks."""
    return LIQUIDATE.call(pool, opp.collateral.asset, opp.debt.asset, opp.user, MAX_UINT256, False)


class _GasWallet:
    """The keeper's ETH for one block's sends: read once, then each transaction's worst-case gas
    (gas limit x max fee) is reserved from it, so a drained wallet pauses sending without a balance
    read per transaction or a rejected transaction."""

    def __init__(self, keeper: Keeper, max_fee: int):
        self.keeper = keeper
        self.max_fee = max_fee
        self.balance: int | None = None

    def reserve(self, gas_limit: int) -> bool:
        keeper = self.keeper
        if keeper.settings.dry_run or keeper.ctx.account is None:
            return True
        cost = gas_limit * self.max_fee
        if self.balance is None:
            self.balance = keeper.native_balance_check(cost)  # flags the metric and /health when low
        if self.balance < cost:
            return False
        self.balance -= cost
        return True


def _looks_like_connection_error(exc: BaseException) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        hint in text
        for hint in (
            "connection",
            "refused",
            "timed out",
            "timeout",
            "max retries",
            "remote end closed",
        )
    )
