"""Wiring for the CLI: settings -> node -> deployment -> key -> validation -> store -> keeper."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from keeper.chain import connect, load_account, validate
from keeper.config import Settings
from keeper.deployment import load_deployment
from keeper.errors import ConfigError
from keeper.maths import WAD
from keeper.metrics import Metrics, MetricsServer
from keeper.report import bonus_percent
from keeper.runner import Keeper
from keeper.store import PENDING, Store

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
        w3 = connect(settings.rpc_url)
        path = settings.deployment or Path("deployments") / f"{w3.eth.chain_id}.json"
        deployment = load_deployment(path)
        account = load_account(settings)
        sending = need_key and not settings.dry_run
        ctx = validate(w3, deployment, account, require_funds=sending)
        if command == "status" and not settings.db_path.is_file():
            raise ConfigError(f"database {settings.db_path} not found: run the keeper first or check DB_PATH")
        in_memory = command == "scan" and not settings.db_path.is_file()
        store = Store(Path(":memory:") if in_memory else settings.db_path)
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

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
        self.store.close()

    def run(self, max_blocks: int | None) -> None:
        lifecycle = self.keeper.lifecycle
        lifecycle.progress_every, lifecycle.describe = self.settings.progress_every, self.progress_fields
        self.keeper.start()
        self.keeper.check_native_balance()
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

    def liquidate_one(self, user: str, confirm: bool) -> int:
        keeper = self.keeper
        keeper.start()
        if not Web3.is_address(user):
            print(f"liqkeeper: --user {user!r} is not an address", file=sys.stderr)
            return 2
        user = Web3.to_checksum_address(user)
        hf = keeper.health_factor(user)
        if hf >= WAD:
            print(f"{user} is not liquidatable: health factor {hf / 1e18:.4f}")
            return 1
        print(self.preview_text([user]))
        if confirm:
            answer = input("send this liquidation? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                print("nothing sent")
                return 1
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

    def preview_text(self, users: list[str]) -> str:
        lines = []
        for d in self.keeper.preview(users):
            o, p = d.opportunity, d.opportunity.preview
            lines.append(
                f"{o.user}: repay {p.debt_to_repay} {o.debt.symbol} for {p.collateral_to_liquidator} "
                f"{o.collateral.symbol}, bonus {bonus_percent(p.liquidation_bonus)}, "
                f"est. profit ${float(o.profit_usd):.2f}"
            )
        return "\n".join(lines) or "no liquidation possible"

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
        return "\n".join(lines)
