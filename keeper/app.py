"""Wiring for the CLI: settings -> node -> deployment -> key -> validation -> store -> keeper."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from keeper.chain import connect, load_account, validate
from keeper.config import Settings
from keeper.contracts import erc20, flash_liquidator
from keeper.deployment import load_deployment
from keeper.errors import ConfigError
from keeper.identity import ChainIdentity, ForeignDatabase, check_read_only, open_checked
from keeper.maths import WAD
from keeper.metrics import Metrics, MetricsServer
from keeper.report import bonus_percent
from keeper.runner import Keeper
from keeper.store import PENDING, Store
from keeper.strategy import Decision
from keeper.transactions import WITHDRAW, Intent, Sent
from keeper.wallet import EXACT, Approval, exact_amount

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    keeper: Keeper
    store: Store
    metrics: Metrics
    server: MetricsServer | None = None

    @classmethod
    def open(cls, settings: Settings, need_key: bool, command: str = "run") -> App:
        """Connects, validates and opens the store. `status` never creates a database (a missing
        DB_PATH is an error) and `scan` indexes in memory when DB_PATH does not exist."""
        w3 = connect(settings.rpc_url, settings.tx_rpc_url)
        path = settings.deployment or Path("deployments") / f"{w3.eth.chain_id}.json"
        deployment = load_deployment(path)
        account = load_account(settings)
        sending = need_key and not settings.dry_run
        # `status` and `withdraw-profit` look at the FlashLiquidator whatever the liquidation mode.
        mode = "auto" if command in ("status", "withdraw-profit") else settings.mode
        ctx = validate(w3, deployment, account, require_funds=sending, mode=mode)
        store = cls._store(settings, command, ChainIdentity.of(w3, deployment), w3)
        metrics = Metrics()
        keeper = Keeper(ctx, settings, store, metrics)
        app = cls(settings=settings, keeper=keeper, store=store, metrics=metrics)
        if settings.metrics_port:
            try:
                app.server = MetricsServer(metrics, settings.metrics_port)
            except OSError as exc:
                store.close()
                reason = exc.strerror or type(exc).__name__
                raise ConfigError(
                    f"cannot serve metrics on 127.0.0.1:{settings.metrics_port}: {reason} "
                    "(is another keeper running? set METRICS_PORT or --metrics-port)"
                ) from None
            app.server.start()
        return app

    @staticmethod
    def _store(settings: Settings, command: str, identity: ChainIdentity, w3: Web3) -> Store:
        """DB_PATH once it is known to be this chain's. `status` opens it read-only and never creates
        or resets it; `scan` indexes in memory when it does not exist; a database of another chain
        is refused, or moved aside with `--reset-db`."""
        path = settings.db_path
        if command == "status":
            if not path.is_file():
                raise ConfigError(f"database {path} not found: run the keeper first or check DB_PATH")
            store = Store(path, read_only=True)
            try:
                check_read_only(store, identity, w3)
            except ForeignDatabase:
                store.close()
                raise
            return store
        if command == "scan" and not path.is_file():
            return Store(Path(":memory:"))
        return open_checked(path, identity, w3, reset=settings.reset_db)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.store.close()

    def run(self, max_blocks: int | None) -> None:
        lifecycle = self.keeper.lifecycle
        lifecycle.progress_every, lifecycle.describe = self.settings.progress_every, self.progress_fields
        self.keeper.start()
        self.keeper.wallet.native_balance()  # flagged on the metric and /health when low
        self.keeper.run(max_blocks=max_blocks)
        log.info("keeper_stopped block=%d", self.keeper.processed)

    def progress_fields(self, report: object) -> str:
        """The `progress` line's fields: head, accounts tracked, the block's candidates, pending txs."""
        model = self.keeper.model
        return (
            f"head={getattr(report, 'head', '-')} accounts={len(model.accounts) if model else 0} "
            f"candidates={len(getattr(report, 'candidates', []))} pending_txs={len(self.store.txs(PENDING))}"
        )

    def scan_text(self) -> str:
        keeper = self.keeper
        keeper.start()
        users = keeper.liquidatable()
        assert keeper.model is not None
        lines = [
            f"block {keeper.processed}: {len(keeper.model.borrowers())} borrowers, {len(users)} liquidatable"
        ]
        if not users:
            return "\n".join(lines)
        lines.append(
            f"{'account':42} {'hf':>8} {'collateral':>10} {'debt':>6} {'repay':>14} {'seize':>14} "
            f"{'bonus':>7} {'profit$':>10} deficit"
        )
        for d in keeper.preview(users):
            o, p = d.opportunity, d.opportunity.preview
            lines.append(
                f"{o.user:42} {o.health_factor / 1e18:8.4f} {o.collateral.symbol:>10} {o.debt.symbol:>6} "
                f"{p.debt_to_repay / 10**o.debt.decimals:14.4f} "
                f"{p.collateral_to_seize / 10**o.collateral.decimals:14.6f} "
                f"{bonus_percent(p.liquidation_bonus):>7} {float(o.revenue_usd):10.2f} {p.deficit}"
            )
        return "\n".join(lines)

    def liquidate_one(self, user: str, confirm: bool, approve: str = EXACT) -> int:
        """Previews the best liquidation of `user`, shows every transaction it would send (the debt
        token's approval first, `approve` exact or unlimited), asks once, and only then sends."""
        keeper = self.keeper
        keeper.wallet.approve_at_start = False
        keeper.start()
        if not Web3.is_address(user):
            print(f"liqkeeper: --user {user!r} is not an address", file=sys.stderr)
            return 2
        user = Web3.to_checksum_address(user)
        hf = keeper.health_factor(user)
        if hf >= WAD:
            print(f"{user} is not liquidatable: health factor {hf / 1e18:.4f}")
            return 1
        decisions = keeper.preview([user])
        print(self._preview_lines(decisions) or "no liquidation possible")
        approvals = self._approvals(decisions, approve)
        if decisions:
            print(self._plan_text(decisions[0], approvals))
        if confirm:
            count = len(approvals) + (1 if decisions else 0)
            answer = input(f"send {'these' if count > 1 else 'this'} {count} transaction(s)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing sent")
                return 1
        head = keeper.w3.eth.block_number
        keeper.wallet.send_approvals(approvals, keeper.simulator, keeper.dispatcher, head)
        attempts = keeper.liquidate([user])
        if not attempts.sent:
            print(f"not sent: {attempts.skipped.get(user, 'no liquidation possible')}")
            return 1
        tx_hash = attempts.sent[0]
        if tx_hash.startswith("dry-run"):
            print("dry run: simulated, not sent")
            return 0
        receipt = keeper.wait_for(tx_hash)
        print(f"{tx_hash} mined in block {receipt['blockNumber']} status {receipt['status']}")
        return 0 if receipt["status"] == 1 else 1

    def _approvals(self, decisions: list[Decision], mode: str) -> list[Approval]:
        """The debt token's approval the best liquidation needs (none in a dry run or when the
        allowance covers it)."""
        keeper = self.keeper
        if not decisions or not keeper.dispatcher.signing:
            return []
        o = decisions[0].opportunity
        needed = exact_amount(o.preview.debt_to_repay)
        pool = keeper.ctx.contracts.pool.address
        approval = keeper.wallet.approval(pool, o.debt.asset, o.debt.symbol, o.debt.decimals, needed, mode)
        return [approval] if approval is not None else []

    def _plan_text(self, decision: Decision, approvals: list[Approval]) -> str:
        keeper = self.keeper
        o = decision.opportunity
        sender = keeper.ctx.address or "nobody (dry run)"
        verb = "would simulate" if not keeper.dispatcher.signing else "will send"
        lines = [f"{verb}, from {sender}:"]
        lines += [f"  {i}. {a.describe()}" for i, a in enumerate(approvals, start=1)]
        lines.append(
            f"  {len(approvals) + 1}. liquidate {o.user} on pool {keeper.ctx.contracts.pool.address}: "
            f"{o.collateral.symbol} collateral, {o.debt.symbol} debt, repay up to the target health factor"
        )
        if not approvals and keeper.dispatcher.signing:
            lines.append(f"  (the pool's {o.debt.symbol} allowance already covers the repayment)")
        return "\n".join(lines)

    def preview_text(self, users: list[str]) -> str:
        return self._preview_lines(self.keeper.preview(users)) or "no liquidation possible"

    @staticmethod
    def _preview_lines(decisions: list[Decision]) -> str:
        lines = []
        for d in decisions:
            o, p = d.opportunity, d.opportunity.preview
            lines.append(
                f"{o.user}: repay {p.debt_to_repay} {o.debt.symbol} for {p.collateral_to_liquidator} "
                f"{o.collateral.symbol}, bonus {bonus_percent(p.liquidation_bonus)}, "
                f"est. profit ${float(o.profit_usd):.2f}"
            )
        return "\n".join(lines)

    def profit_balances(self) -> list[tuple[str, str, int, int]]:
        """(symbol, token, units, decimals) of every listed asset the FlashLiquidator holds as profit;
        nothing without one."""
        flash = self.keeper.ctx.flash_liquidator
        if flash is None:
            return []
        balances = []
        for asset in self.keeper.ctx.deployment.assets:
            units = erc20(self.keeper.w3, asset.address).functions.balanceOf(flash).call()
            if units:
                balances.append((asset.symbol, asset.address, units, asset.decimals))
        return balances

    def withdraw_profit(self, symbols: list[str], confirm: bool) -> int:
        """Moves the FlashLiquidator's profit (every asset, or `symbols`) to the keeper's account: one
        `withdraw` each, shown before the one confirmation, sent in one round."""
        keeper = self.keeper
        flash = keeper.ctx.flash_liquidator
        if flash is None:
            raise ConfigError("the deployment has no FlashLiquidator (deploy with KEEPER_ADDRESS set)")
        known = {a.symbol for a in keeper.ctx.deployment.assets}
        unknown = sorted(set(symbols) - known)
        if unknown:
            raise ConfigError(
                f"--token {', '.join(unknown)} is not a listed asset ({', '.join(sorted(known))})"
            )
        balances = [b for b in self.profit_balances() if not symbols or b[0] in symbols]
        if not balances:
            print("no profit to withdraw")
            return 0
        me = keeper.ctx.address
        assert me is not None
        verb = "will send" if keeper.dispatcher.signing else "dry run, would send"
        print(f"{verb}, from {me}, to the FlashLiquidator {flash}:")
        for i, (symbol, _, units, decimals) in enumerate(balances, start=1):
            print(f"  {i}. withdraw {units / 10**decimals} {symbol} ({units} units) to {me}")
        if not keeper.dispatcher.signing:
            return 0
        if confirm:
            answer = input(f"send these {len(balances)} transaction(s)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing sent")
                return 1
        contract = flash_liquidator(keeper.w3, flash)
        intents = []
        for symbol, token, units, _ in balances:
            call = contract.functions.withdraw(token, me, units)
            gas = keeper.simulator.estimate(call, me)
            intents.append(Intent(WITHDRAW, f"withdraw:{symbol}", call, gas, budget_wei=10**18))
        outcomes = keeper.dispatcher.round(keeper.w3.eth.block_number).dispatch(intents)
        failed = 0
        for intent, outcome in zip(intents, outcomes, strict=True):
            if not isinstance(outcome, Sent):
                print(f"{intent.key}: not sent ({type(outcome).__name__})")
                failed += 1
                continue
            receipt = keeper.w3.eth.wait_for_transaction_receipt(outcome.record.hash, timeout=120)
            print(
                f"{intent.key}: {outcome.record.hash} mined in block {receipt['blockNumber']} "
                f"status {receipt['status']}"
            )
            failed += receipt["status"] != 1
        keeper.dispatcher.poll(keeper.w3.eth.block_number)
        return 1 if failed else 0

    def status_text(self) -> str:
        checkpoint = self.store.checkpoint()
        head = self.keeper.w3.eth.block_number
        pending = self.store.txs(PENDING)
        lines = [
            f"node head: {head}",
            f"checkpoint: {checkpoint[0] if checkpoint else 'none'} "
            f"({head - checkpoint[0] if checkpoint else '-'} blocks behind)",
            f"accounts indexed: {len(self.store.accounts())}",
            f"pending transactions: {len(pending)}",
            f"liquidations recorded: {len(self.store.liquidations())}",
        ]
        lines += [f"  {t.hash} nonce {t.nonce} {t.intent} sent at block {t.sent_block}" for t in pending]
        flash = self.keeper.ctx.flash_liquidator
        if flash is not None:
            balances = self.profit_balances()
            held = ", ".join(
                f"{units / 10**decimals:.6g} {symbol}" for symbol, _, units, decimals in balances
            )
            lines.append(f"FlashLiquidator {flash} profit: {held or 'none'} (liqkeeper withdraw-profit)")
        return "\n".join(lines)
