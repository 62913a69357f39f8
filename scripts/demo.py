"""`make demo`: the whole product on a real local chain, start to finish, in one market-driven crash
(scripts/market/scenario.py).

1. Start Anvil on a free port (stopped on exit, Ctrl-C included).
2. Deploy the protocol, Uniswap V3 from the npm packages' artifacts with a pool for every pair the
   keeper sells through, and a FlashLiquidator owned by the keeper; seed borrowers (seeded random,
   reproducible) over WETH, WBTC and USDC collateral and USDC and DAI debt, health factors from 1.0
   to 2.0, some positions near the $1,000 dust line. The keeper holds no debt token at all.
3. Switch Anvil to interval mining and start `liqkeeper run --mode flash`.
4. Drive a crash along a seeded reference path (WETH -40% and WBTC -35%, then a partial bounce):
   arbitrageurs with finite capital move each pool toward it, a Chainlink-style publisher updates
   each feed when its pool has moved by 0.5%, the keeper liquidates through flash swaps and sells the
   seized collateral into the same pools.
5. Wait until nothing is liquidatable and every deficit is settled; stop the keeper (SIGTERM).
6. Read the crash back with the independent observer (bench/observer.py): the liquidation figures and
   fills of the chain, next to what the keeper's own records say, and every disagreement between
   them (any disagreement fails the demo).
7. Write the report directory (records, JSON summary, timeline, PNG charts) and print the summary.

Run: `python scripts/demo.py [--borrowers 300] [--seed 7] [--out reports/demo]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from keeper.report import (  # noqa: E402
    fill_chart,
    hf_distribution_chart,
    market_path_chart,
    summarize,
    write_records_report,
)
from scripts.market.scenario import ScenarioOptions, ScenarioResult, run_scenario  # noqa: E402

log = logging.getLogger("demo")

WAD = 10**18


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    options = ScenarioOptions(borrowers=args.borrowers, seed=args.seed, block_time=args.block_time)
    result = run_scenario(options, out, on_step=_log_step)
    summary = write_report(result, out)
    print(render_summary(summary))
    return verdict(summary, out)


def verdict(summary: dict[str, Any], out: Path) -> int:
    """0 when the keeper's records agree with the chain (the independent observer); else 1, with one
    line saying where the disagreements are listed."""
    observed = summary["observer"]
    disagreeing = observed["records_mismatch"] + observed["delay_mismatch"]
    if not disagreeing:
        return 0
    log.error(
        "the keeper's records disagree with the chain: %d field(s) of its liquidations, %d delay(s); "
        "see observer.records_mismatch_examples in %s",
        observed["records_mismatch"],
        observed["delay_mismatch"],
        out / "summary.json",
    )
    return 1


def _log_step(step: Any) -> None:
    prices = "  ".join(
        f"{a} ref ${step.reference_usd8[a] / 1e8:,.0f} pool ${step.pool_usd8[a] / 1e8:,.0f} "
        f"oracle ${step.oracle_usd8[a] / 1e8:,.0f}"
        for a in sorted(step.pool_usd8)
    )
    updates = sum(1 for u in step.updates if u.published)
    log.info("block %d  %s  oracle updates %d", step.block, prices, updates)


def write_report(result: ScenarioResult, out: Path) -> dict[str, Any]:
    """Records, summary (the observer's figures first, the keeper's own beside them), timeline and
    charts into `out`; the summary."""
    records = result.records
    write_records_report(records, out)
    market_path_chart(result.timeline.to_json(), [r.to_json() for r in result.rows], out / "price_path.png")
    fill_chart([r.to_json() for r in result.rows], out / "fills.png")
    hf_distribution_chart(result.health_before, result.health_after, out / "health_factors.png")
    observer = dict(result.figures)
    observer.update(result.run)
    observer["records_mismatch"] = len(result.mismatches)
    observer["delay_mismatch"] = len(result.delay_mismatches)
    observer["records_mismatch_examples"] = (result.mismatches + result.delay_mismatches)[:20]
    observer["blocks"] = [result.first_block, result.last_block]
    summary = summarize(records)
    summary["observer"] = observer
    summary.update(
        {
            "borrowers": result.options.borrowers,
            "seed": result.options.seed,
            "keeper_mode": "flash",
            "debt_token_inventory_at_start_usd": 0.0,
            "liquidatable_at_end": sum(1 for hf in result.health_after.values() if hf < WAD),
            "blocks": len(result.timeline.steps),
            "block_time_seconds": result.options.block_time,
            "wall_seconds": result.wall_seconds,
        }
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "timeline.json").write_text(json.dumps(result.timeline.to_json(), indent=2) + "\n")
    (out / "liquidations.json").write_text(json.dumps([r.to_json() for r in result.rows], indent=2) + "\n")
    log.info(
        "report in %s (records.json, summary.json, timeline.json, liquidations.json, table.txt, *.png)", out
    )
    return summary


def render_summary(s: dict[str, Any]) -> str:
    def fmt(value: Any, unit: str = "") -> str:
        if value is None:
            return "n/a"
        return f"{value:,}{unit}" if isinstance(value, int) else f"{value:,.2f}{unit}"

    o = s["observer"]
    bonus_pct = None if s["bonus_bps_mean"] is None else (s["bonus_bps_mean"] - 10_000) / 100

    def pct(value: float | None) -> str:
        return fmt(None if value is None else 100 * value, "%")

    def bps(p50: float | None, p95: float | None) -> str:
        return f"{fmt(p50)} / {fmt(p95)} bps"

    rows = [
        ("borrowers seeded", str(s["borrowers"])),
        (
            "keeper",
            f"flash mode; debt-token inventory at start ${fmt(s['debt_token_inventory_at_start_usd'])}",
        ),
        ("chain (independent observer):", ""),
        ("  accounts liquidatable", str(o["accounts_liquidatable"])),
        ("  accounts liquidated", str(o["accounts_liquidated"])),
        ("  liquidation episodes", str(o["episodes"])),
        ("  liquidations (all liquidators)", str(o["liquidations"])),
        ("  through flash swaps, fill recorded", str(o["flash_liquidations"])),
        ("  first liquidation by the keeper", pct(o["races_won_share"])),
        ("  keeper txs reverted (gas)", f"{o['keeper_reverted_txs']} ({fmt(o['keeper_reverted_gas'])})"),
        ("  debt repaid", "$" + fmt(o["debt_repaid_usd"])),
        ("  collateral seized (inclusion prices)", "$" + fmt(o["collateral_seized_usd"])),
        (
            "  fill below oracle at trigger p50 / p95",
            bps(o["fill_vs_trigger_bps_p50"], o["fill_vs_trigger_bps_p95"]),
        ),
        (
            "  fill below oracle at inclusion p50",
            bps(o["fill_vs_inclusion_bps_p50"], None).replace(" / n/a", ""),
        ),
        ("  keeper profit after gas", "$" + fmt(o["keeper_profit_usd"])),
        ("  borrowers' loss to liquidation", "$" + fmt(o["borrower_loss_usd"])),
        ("  bad debt written off", "$" + fmt(o["bad_debt_usd"])),
        (
            "  insurance fund start / end",
            f"${fmt(o['insurance_fund_start_usd'])} / ${fmt(o['insurance_fund_end_usd'])}",
        ),
        ("  zombie accounts (max over blocks)", str(o["zombies_max"])),
        ("  oracle updates (caused by selling)", f"{o['oracle_updates']} ({o['cascade_oracle_updates']})"),
        ("  liquidated in the next block", pct(o["next_block_share"])),
        ("  liquidated within 5 blocks", pct(o["liquidated_within_5_blocks_share"])),
        ("  delay blocks p50 / p95", f"{fmt(o['latency_blocks_p50'])} / {fmt(o['latency_blocks_p95'])}"),
        ("  still liquidatable at the end", str(o["still_liquidatable"])),
        ("  assets with unsettled deficit", str(o["deficits_unsettled"])),
        ("  keeper records disagreeing (delays)", f"{o['records_mismatch']} ({o['delay_mismatch']})"),
        ("keeper's own records:", ""),
        ("  accounts liquidated", f"{s['accounts_liquidated']} ({s['liquidations']} liquidations)"),
        ("  sent but reverted / lost", f"{s['reverted']} / {s['lost_to_competitors']}"),
        ("  debt repaid", "$" + fmt(s["debt_repaid_usd"])),
        ("  collateral seized", "$" + fmt(s["collateral_seized_usd"])),
        ("  bonus paid", f"${fmt(s['bonus_paid_usd'])} (mean bonus {fmt(bonus_pct, '%')})"),
        ("  protocol fees to insurance fund", "$" + fmt(s["protocol_fees_usd"])),
        ("  deficits reported", f"{s['deficits_reported']} (${fmt(s['deficit_usd'])})"),
        (
            "  fill below oracle at trigger p50 / p95",
            bps(s["fill_vs_trigger_bps_p50"], s["fill_vs_trigger_bps_p95"]),
        ),
        ("  net profit after gas", "$" + fmt(s["net_profit_usd"])),
        ("  mined in the block after trigger", pct(s["next_block_share"])),
        ("  delay blocks p50 / p95", f"{fmt(s['delay_blocks_p50'])} / {fmt(s['delay_blocks_p95'])}"),
        ("still liquidatable at the end", str(s["liquidatable_at_end"])),
        ("wall time", f"{s['wall_seconds']} s"),
    ]
    return "\n".join(["", "liqengine demo summary", *(f"  {label:42} {value}" for label, value in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--borrowers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--block-time", type=int, default=2, help="seconds per block during the crash")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "demo")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo: %(message)s", datefmt="%H:%M:%S")
    for quiet in ("scripts.deployer", "scripts.population", "scripts.uniswap", "scripts.market"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    try:
        return run(args)
    except KeyboardInterrupt:
        log.info("interrupted: node and keeper stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
