"""`make study`: the execution-quality study. The same seeded market-driven crash
(scripts/market/scenario.py) replayed side by side, each run on a fresh chain, with one thing changed.
The default crash is a gap: WETH and WBTC lose 30% in one block, then drift; the arbitrageurs may spend
$500k each buying back below the reference (STUDY_MARKET), so the liquidations' own selling can move
the pools, and the oracle after them, once that runs out. The runs:

- `dump`: the keeper liquidates each account at once, to the target health factor (the default);
- `throttle_100`, `throttle_25`: throttled liquidation, `--max-price-impact-bps 100` / `25`: a sale
  that would move the pool by more goes out in chunks over successive blocks;
- `close_factor_50`: a fixed 50% close factor instead of the target-HF rule, on chain: the protocol's
  target health factor is set out of reach (10.0) and the keeper asks every liquidation for half the
  account's debt in the reserve (`--close-factor-bps 5000`), as Aave V3 or Compound V2 would;
- `twap_guard` (with `--twap`): the default keeper with the oracle's TWAP circuit breaker installed.

Every figure comes from the chain through the independent observer (bench/observer.py) beside the
engine's timeline; the keeper's own records are checked against it. Writes `reports/study/`:
`summary.json` (a `runs` object keyed by run name), `table.txt`, per-run `liquidations.json` and PNG
charts (price paths with liquidations, fill vs trigger, insurance fund over time, the strategies side
by side).

Run: `python scripts/study.py [--borrowers 200] [--seed 7] [--out reports/study] [--twap]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from keeper.report import market_path_chart  # noqa: E402
from scripts.market.engine import MarketConfig  # noqa: E402
from scripts.market.scenario import ScenarioOptions, ScenarioResult, run_scenario  # noqa: E402

log = logging.getLogger("study")

WAD = 10**18
#: The study's market: each arbitrageur may spend $500k buying a pool back up to the reference.
STUDY_MARKET = MarketConfig(arb_buy_budget_usd=500_000.0)
#: The study's crash: a 30% gap of both risky assets, then a drift.
STUDY_SHAPE, STUDY_DEPTH_BPS = "gap", 3_000
#: The study's keys per run, in the order of the table (outside checks read these names).
RUN_KEYS = (
    "fill_vs_trigger_bps_p50",
    "fill_vs_trigger_bps_p95",
    "collateral_seized_usd",
    "borrower_loss_usd",
    "keeper_profit_usd",
    "bad_debt_usd",
    "insurance_fund_end_usd",
    "zombies_max",
    "cascade_oracle_updates",
)


@dataclass(frozen=True)
class Variant:
    """One run of the study: a name, what changes, and how."""

    name: str
    what: str
    keeper_flags: tuple[str, ...] = ()
    target_health_factor: int | None = None
    twap_guard: bool = False


VARIANTS = (
    Variant("dump", "each liquidation at once, to the target health factor"),
    Variant("throttle_100", "chunks moving the pool by at most ~100 bps", ("--max-price-impact-bps", "100")),
    Variant("throttle_25", "chunks moving the pool by at most ~25 bps", ("--max-price-impact-bps", "25")),
    Variant(
        "close_factor_50",
        "a fixed 50% close factor (target out of reach, half the debt asked)",
        ("--close-factor-bps", "5000"),
        target_health_factor=10 * WAD,
    ),
)
TWAP_VARIANT = Variant(
    "twap_guard", "the default keeper, the oracle's TWAP breaker installed", twap_guard=True
)


def run_study(base: ScenarioOptions, variants: tuple[Variant, ...], out: Path) -> dict[str, Any]:
    """Every variant on a fresh chain; the summary (also written, with the table and charts)."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results: dict[str, ScenarioResult] = {}
    for variant in variants:
        log.info("run %s: %s", variant.name, variant.what)
        options = replace(
            base,
            keeper_flags=(*base.keeper_flags, *variant.keeper_flags),
            target_health_factor=variant.target_health_factor,
        )
        if variant.twap_guard:
            options = replace(options, twap_guard=True)
        results[variant.name] = run_scenario(options, out / variant.name)
        log.info("run %s done in %.0f s", variant.name, results[variant.name].wall_seconds)
    summary = summarize(base, variants, results)
    summary["wall_seconds"] = round(time.time() - started, 1)
    write(summary, results, out)
    return summary


def summarize(
    base: ScenarioOptions, variants: tuple[Variant, ...], results: dict[str, ScenarioResult]
) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    for variant in variants:
        result = results[variant.name]
        figures = result.run
        runs[variant.name] = {
            **{key: figures[key] for key in RUN_KEYS},
            "what": variant.what,
            "liquidations": figures["liquidations"],
            "flash_liquidations": figures["flash_liquidations"],
            "fills_recorded_share": figures["fills_recorded_share"],
            "debt_repaid_usd": figures["debt_repaid_usd"],
            "protocol_fees_usd": figures["protocol_fees_usd"],
            "oracle_updates": figures["oracle_updates"],
            "accounts_liquidatable": result.figures["accounts_liquidatable"],
            "accounts_liquidated": result.figures["accounts_liquidated"],
            "liquidated_within_5_blocks_share": result.figures["liquidated_within_5_blocks_share"],
            "latency_blocks_p50": result.figures["latency_blocks_p50"],
            "keeper_reverted_txs": result.figures["keeper_reverted_txs"],
            "still_liquidatable": result.figures["still_liquidatable"],
            "records_mismatch": len(result.mismatches),
            "delay_mismatch": len(result.delay_mismatches),
            "insurance_fund_start_usd": figures["insurance_fund_start_usd"],
            "arb_capital_exhausted": figures["arb_capital_exhausted"],
            "blocks": [result.first_block, result.last_block],
            "wall_seconds": result.wall_seconds,
        }
    summary: dict[str, Any] = {
        "scenario": {
            "shape": base.shape,
            "depth_bps": dict(base.depth_bps),
            "steps": base.steps,
            "seed": base.seed,
            "borrowers": base.borrowers,
            "block_time_seconds": base.block_time,
            "keeper": "liqkeeper run --mode flash (no debt-token inventory)",
        },
        "runs": runs,
    }
    if "dump" in runs and "close_factor_50" in runs:
        summary["over_liquidation_avoided_usd"] = round(
            runs["close_factor_50"]["collateral_seized_usd"] - runs["dump"]["collateral_seized_usd"], 2
        )
    return summary


def table(summary: dict[str, Any]) -> str:
    runs = summary["runs"]
    names = list(runs)
    rows = [("", *names)]
    for key in (
        *RUN_KEYS,
        "liquidations",
        "accounts_liquidated",
        "latency_blocks_p50",
        "keeper_reverted_txs",
    ):
        rows.append((key, *(_cell(runs[n][key]) for n in names)))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    if "over_liquidation_avoided_usd" in summary:
        lines.append(
            f"\nover-liquidation avoided by the target-HF rule (close_factor_50 - dump collateral seized): "
            f"${summary['over_liquidation_avoided_usd']:,.2f}"
        )
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def write(summary: dict[str, Any], results: dict[str, ScenarioResult], out: Path) -> None:
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    text = table(summary)
    (out / "table.txt").write_text(text + "\n")
    for name, result in results.items():
        rows = [r.to_json() for r in result.rows]
        (out / name / "liquidations.json").write_text(json.dumps(rows, indent=2) + "\n")
        (out / name / "timeline.json").write_text(json.dumps(result.timeline.to_json(), indent=2) + "\n")
        market_path_chart(result.timeline.to_json(), rows, out / f"price_path_{name}.png")
    charts(summary, results, out)


def charts(summary: dict[str, Any], results: dict[str, ScenarioResult], out: Path) -> None:
    """Fill vs trigger per run, the insurance fund over time, the strategies side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    gaps = [
        [r.fill_vs_trigger_bps for r in results[n].rows if r.fill_vs_trigger_bps is not None] for n in names
    ]
    ax.boxplot([g or [0.0] for g in gaps], showfliers=True)
    ax.set_xticks(range(1, len(names) + 1), names)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("fill below the oracle at the trigger (bps)")
    ax.set_title("Fill vs trigger price, per liquidation")
    fig.tight_layout()
    fig.savefig(out / "fill_vs_trigger.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name in names:
        fund = results[name].fund_usd
        start = min(fund)
        ax.plot([b - start for b in sorted(fund)], [fund[b] for b in sorted(fund)], label=name)
    ax.set_xlabel("blocks since the crash began")
    ax.set_ylabel("insurance fund (USD)")
    ax.set_title("Insurance fund over the crash")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "insurance_fund.png", dpi=110)
    plt.close(fig)

    metrics = ("collateral_seized_usd", "borrower_loss_usd", "keeper_profit_usd", "bad_debt_usd")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 4))
    for ax, metric in zip(axes, metrics, strict=True):
        ax.bar(names, [summary["runs"][n][metric] or 0.0 for n in names], color="#3b6ea5")
        ax.set_title(metric.replace("_", " "), fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    fig.suptitle("Strategies side by side (same crash, chain truth)")
    fig.tight_layout()
    fig.savefig(out / "strategies.png", dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--borrowers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--block-time", type=int, default=2, help="seconds per block during the crash")
    parser.add_argument("--steps", type=int, default=30, help="blocks the reference path takes")
    parser.add_argument("--shape", default=STUDY_SHAPE, choices=["gap", "grind", "crash_bounce"])
    parser.add_argument("--depth-bps", type=int, default=STUDY_DEPTH_BPS, help="each risky asset's fall")
    parser.add_argument("--only", action="append", default=[], help="run only this variant (repeatable)")
    parser.add_argument("--twap", action="store_true", help="add the run with the TWAP guard installed")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "study")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s study: %(message)s", datefmt="%H:%M:%S")
    for quiet in ("scripts.deployer", "scripts.population", "scripts.uniswap", "scripts.market"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    variants = VARIANTS + ((TWAP_VARIANT,) if args.twap else ())
    if args.only:
        unknown = set(args.only) - {v.name for v in variants}
        if unknown:
            print(f"study: no variant named {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        variants = tuple(v for v in variants if v.name in args.only)
    base = ScenarioOptions(
        borrowers=args.borrowers, seed=args.seed, block_time=args.block_time, steps=args.steps
    )
    try:
        summary = run_study(base, variants, args.out)
    except KeyboardInterrupt:
        log.info("interrupted: nodes and keepers stopped")
        return 130
    print(table(summary))
    print(f"\nreport in {args.out} (summary.json, table.txt, *.png); {summary['wall_seconds']} s")
    disagreeing = sum(r["records_mismatch"] + r["delay_mismatch"] for r in summary["runs"].values())
    if disagreeing:
        log.error(
            "the keeper's records disagree with the chain on %d point(s); see summary.json", disagreeing
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
