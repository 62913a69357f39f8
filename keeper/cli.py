"""`liqkeeper`: parses arguments and wires the keeper's stages; every failure is one line."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keeper import __version__
from keeper.errors import KeeperError

log = logging.getLogger("liqkeeper")

DESCRIPTION = """\
Keeper for the liqengine lending pool. It indexes every position from the pool's events, watches
the oracle feeds, re-scores the accounts holding a re-priced asset, confirms them through the
LiquidationLens, picks the most profitable (collateral, debt) pair with previewLiquidation,
simulates, and sends liquidate() with its own nonce and EIP-1559 fee management.

Settings come from flags, then environment variables, then a .env file:
  RPC_URL, TX_RPC_URL, PRIVATE_KEY (or KEYSTORE + KEYSTORE_PASSWORD), KEEPER_ADDRESS, DEPLOYMENT, DB_PATH,
  MIN_PROFIT_USD, BID_SHARE, MAX_GAS_GWEI, METRICS_PORT, CONFIRMATIONS, NATIVE_PRICE_USD, MIN_ETH_BALANCE.
KEEPER_ADDRESS (or --address) is a safety check: start-up fails unless the key belongs to it.
`status` and `report` never create a database: a DB_PATH that does not exist is an error; `scan`
indexes in memory when it does not exist. A database records its chain: one from another chain (a
restarted devnet deployed again) is refused unless `--reset-db` moves it aside.
"""


def _common(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("connection")
    g.add_argument(
        "--rpc-url",
        help="node URL, http(s):// or ws(s)://, or several http(s) URLs, comma-separated, failed over in "
        "order when one stops answering (env RPC_URL; default http://127.0.0.1:8545)",
    )
    g.add_argument(
        "--tx-rpc-url",
        help="send transactions (eth_sendRawTransaction) to this http(s) endpoint, e.g. a private relay; "
        "reads stay on --rpc-url (env TX_RPC_URL; default: --rpc-url)",
    )
    g.add_argument(
        "--deployment",
        help="deployment file from scripts/deploy.py (env DEPLOYMENT; default deployments/<chainId>.json)",
    )
    g.add_argument(
        "--db-path",
        help="SQLite file for checkpoints, transactions and records (env DB_PATH; default keeper.sqlite)",
    )
    g.add_argument("--env-file", default=".env", help="dotenv file read for unset variables (default .env)")
    g.add_argument("--keystore", help="encrypted JSON key file, with KEYSTORE_PASSWORD (env KEYSTORE)")
    g.add_argument(
        "--address",
        dest="expected_address",
        help="fail unless the key belongs to this address (env KEEPER_ADDRESS)",
    )
    g.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="least severe log lines shown on stderr (default info; progress lines are info)",
    )
    g.add_argument("--log-json", action="store_true", help="log one JSON object per line")


def _trading(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("liquidation")
    g.add_argument(
        "--min-profit",
        dest="min_profit_usd",
        help="skip liquidations earning less, in USD after worst-case gas (env MIN_PROFIT_USD; default 0)",
    )
    g.add_argument("--max-gas-gwei", help="never pay more per gas (env MAX_GAS_GWEI; default 500)")
    g.add_argument(
        "--bid-share",
        help="share of a liquidation's expected profit (after worst-case gas at the market's fees) offered "
        "as priority fee, from 0 (the node's minimum tip) to 1, within --max-gas-gwei and the profit "
        "(env BID_SHARE; default 0.5)",
    )
    g.add_argument(
        "--clear-dust-and-deficits",
        action="store_true",
        default=None,
        help="liquidate below --min-profit when it clears a dust position or reports a deficit",
    )
    g.add_argument(
        "--no-settle",
        dest="settle_deficits",
        action="store_false",
        default=None,
        help="do not call settleDeficit on reserves with a deficit",
    )
    g.add_argument(
        "--dry-run",
        action="store_true",
        default=None,
        help="run everything but signing: nothing is sent",
    )
    g.add_argument(
        "--mode",
        choices=["inventory", "flash", "auto"],
        default=None,
        help="how liquidations are paid for: inventory repays with debt tokens the keeper holds; flash "
        "liquidates with no capital through the deployment's FlashLiquidator, selling the seized "
        "collateral on Uniswap V3 in the same transaction (profit from the quoter at the simulation "
        "block); auto takes flash when the keeper lacks the debt token or flash pays more "
        "(env LIQUIDATION_MODE; default inventory)",
    )
    g.add_argument(
        "--max-slippage-bps",
        help="a flash liquidation reverts (ProfitBelowMinimum) rather than keep less than its quoted "
        "profit minus this share of the collateral it sells, e.g. when the pool moved between the "
        "simulation and inclusion (env MAX_SLIPPAGE_BPS; default 50 = 0.5%%)",
    )
    g.add_argument(
        "--max-price-impact-bps",
        help="throttled liquidation: a flash liquidation whose sale would move the pools by more than this "
        "is cut to a first chunk that moves them by about this much (a partial debtToCover), and the "
        "account is re-checked and liquidated further in the next blocks (env MAX_PRICE_IMPACT_BPS; "
        "default: none, each liquidation whole)",
    )
    g.add_argument(
        "--close-factor-bps",
        help="ask each liquidation for this share of the account's debt in the reserve instead of what "
        "reaches the target (the pool repays the smaller): a fixed close factor, for comparisons "
        "(env CLOSE_FACTOR_BPS; default: none)",
    )
    g.add_argument(
        "--native-price-usd",
        help="USD price of the gas token for profit maths (default: the deployment's native_price_asset)",
    )


def _reset_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reset-db",
        action="store_true",
        default=None,
        help="when DB_PATH belongs to another chain or deployment (e.g. a restarted devnet), move it aside "
        "to DB_PATH.bak-<UTC time> and start a new one instead of refusing to start; a database of this "
        "chain is kept",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="liqkeeper",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"liqkeeper {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser(
        "run",
        help="watch the chain and liquidate until stopped (SIGINT/SIGTERM)",
        description="Long-running keeper. Ctrl-C or SIGTERM finishes the block, persists, exits 0.",
    )
    _common(run)
    _trading(run)
    _reset_db(run)
    run.add_argument("--metrics-port", help="serve /metrics and /health on 127.0.0.1:PORT (env METRICS_PORT)")
    run.add_argument("--poll-interval", help="seconds between head polls (default 0.2)")
    run.add_argument(
        "--sweep-every",
        dest="sweep_every_blocks",
        help="lens sweep of all borrowers every N blocks (default 20)",
    )
    run.add_argument(
        "--replace-after",
        dest="replace_after_blocks",
        help="replace a transaction not mined after N blocks (default 3)",
    )
    run.add_argument(
        "--progress-every",
        help="log a progress line (head, accounts tracked, candidates, pending transactions) every N "
        "blocks; 0 turns it off (env PROGRESS_EVERY; default 10)",
    )
    run.add_argument(
        "--max-blocks", type=int, help="stop after processing N new blocks (for scripts and tests)"
    )

    scan = sub.add_parser(
        "scan",
        help="print liquidatable accounts and the preview of each",
        description="Index the pool, then print each liquidatable account with its best preview.",
    )
    _common(scan)
    _trading(scan)
    _reset_db(scan)
    scan.add_argument("--once", action="store_true", help="scan the head block once and exit (the only mode)")

    liq = sub.add_parser(
        "liquidate",
        help="liquidate one account now",
        description="Preview, confirm, simulate and send the best liquidation of one account.",
    )
    _common(liq)
    _trading(liq)
    _reset_db(liq)
    liq.add_argument("--user", required=True, help="the account to liquidate")
    liq.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    liq.add_argument(
        "--approve",
        choices=["exact", "unlimited"],
        default="exact",
        help="the debt token's approval, shown before the confirmation: exact (default) approves the "
        "previewed repayment plus 0.1%% for interest, so no allowance is left standing after a one-off "
        "liquidation; unlimited approves 2^256-1 once, as `run` does at start-up (in one block) to "
        "spend no block on approvals when it liquidates",
    )

    report = sub.add_parser(
        "report",
        help="execution-quality report from the database",
        description="Render the per-liquidation records as a table, a JSON summary and PNG charts.",
    )
    report.add_argument("--db-path", default=None, help="SQLite file (env DB_PATH; default keeper.sqlite)")
    report.add_argument("--out", default="reports/keeper", help="output directory (default reports/keeper)")
    report.add_argument("--env-file", default=".env")
    report.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    report.add_argument("--log-json", action="store_true")

    withdraw = sub.add_parser(
        "withdraw-profit",
        help="move the FlashLiquidator's profit to the keeper's account",
        description="Show the FlashLiquidator's profit balances, confirm, and withdraw them to the keeper's "
        "account (one transaction per token). Flash liquidations leave their profit in the contract.",
    )
    _common(withdraw)
    withdraw.add_argument(
        "--token", action="append", default=[], metavar="SYMBOL", help="only this asset (repeatable)"
    )
    withdraw.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    withdraw.add_argument("--dry-run", action="store_true", default=None, help="show, do not send")

    status = sub.add_parser(
        "status",
        help="checkpoint, tracked accounts and pending transactions",
        description="Show what the database knows and whether the node agrees.",
    )
    _common(status)
    return parser


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    skip = {
        "command",
        "env_file",
        "log_level",
        "log_json",
        "max_blocks",
        "user",
        "yes",
        "once",
        "out",
        "approve",
        "token",
    }
    return {k: v for k, v in vars(args).items() if k not in skip}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from keeper.logs import configure

    configure(args.log_level, args.log_json)
    try:
        return _dispatch(args)
    except KeeperError as exc:
        print(f"liqkeeper: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    from keeper.config import load_settings

    settings = load_settings(_flags(args), dotenv_path=Path(args.env_file))
    if args.command == "report":
        from keeper.report import write_report

        summary = write_report(settings.db_path, Path(args.out))
        print(summary)
        return 0
    from keeper.app import App

    need_key = args.command in ("run", "liquidate", "withdraw-profit")
    app = App.open(settings, need_key=need_key, command=args.command)
    try:
        if args.command == "run":
            _install_signal_handlers(app)
            app.run(args.max_blocks)
        elif args.command == "scan":
            print(app.scan_text())
        elif args.command == "liquidate":
            return app.liquidate_one(args.user, confirm=not args.yes, approve=args.approve)
        elif args.command == "status":
            print(app.status_text())
        elif args.command == "withdraw-profit":
            return app.withdraw_profit(args.token, confirm=not args.yes)
    finally:
        app.close()
    return 0


def _install_signal_handlers(app: Any) -> None:
    def stop(signum: int, _frame: Any) -> None:
        log.info("shutdown_requested signal=%s", signal.Signals(signum).name)
        app.keeper.stop_event.set()
        app.keeper.wake.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    sys.exit(main())
