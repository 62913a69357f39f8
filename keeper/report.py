"""The execution-quality report: a table, a JSON summary and PNG charts from the records in the
keeper's database (or any list of records)."""

from __future__ import annotations

import json
import logging
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keeper.errors import ConfigError
from keeper.maths import BPS
from keeper.store import Store

log = logging.getLogger(__name__)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return float(ordered[rank - 1])


def summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in records if r["outcome"] == "liquidated"]
    delays = [r["delay_blocks"] for r in done if r.get("delay_blocks") is not None]
    wall = [r["delay_wall_ms"] for r in done if r.get("delay_wall_ms") is not None]
    detect = [r["detect_latency_ms"] for r in done if r.get("detect_latency_ms") is not None]
    fills = [r for r in done if r.get("fill_vs_inclusion_bps") is not None]
    fills_at_trigger = [r for r in fills if r.get("fill_vs_trigger_bps") is not None]
    return {
        "liquidations": len(done),
        "accounts_liquidated": len({r["user"] for r in done}),
        "lost_to_competitors": sum(1 for r in records if r["outcome"] == "lost"),
        "reverted": sum(1 for r in records if r["outcome"] == "reverted"),
        "debt_repaid_usd": round(sum(r["debt_repaid_usd"] for r in done), 2),
        "collateral_seized_usd": round(sum(r["collateral_seized_usd"] for r in done), 2),
        "bonus_paid_usd": round(sum(r["bonus_usd"] for r in done), 2),
        "bonus_bps_mean": round(statistics.fmean(r["bonus_bps"] for r in done), 1) if done else None,
        "bonus_pct_mean": (
            round(statistics.fmean((r["bonus_bps"] - BPS) / 100 for r in done), 2) if done else None
        ),
        "protocol_fees_usd": round(
            sum(
                r["collateral_seized_usd"] * r["protocol_fee"] / r["collateral_seized"]
                for r in done
                if r["collateral_seized"]
            ),
            2,
        ),
        "liquidator_profit_usd": round(sum(r["liquidator_profit_usd"] for r in done), 2),
        "gas_used_total": sum(r["gas_used"] for r in done),
        "deficits_reported": sum(1 for r in done if r["deficit_reported"]),
        "deficit_usd": round(sum(r["deficit_usd"] for r in done), 2),
        "reached_target": sum(1 for r in done if r["reached_target"]),
        "cleared_dust": sum(1 for r in done if r["cleared_dust"]),
        "next_block_share": round(sum(1 for d in delays if d <= 1) / len(delays), 4) if delays else None,
        "delay_blocks_p50": percentile(delays, 50),
        "delay_blocks_p95": percentile(delays, 95),
        "delay_wall_ms_p50": percentile(wall, 50),
        "delay_wall_ms_p95": percentile(wall, 95),
        "detect_latency_ms_p50": percentile(detect, 50),
        "detect_latency_ms_p95": percentile(detect, 95),
        "flash_liquidations": len(fills),
        "fill_vs_trigger_bps_p50": percentile([r["fill_vs_trigger_bps"] for r in fills_at_trigger], 50),
        "fill_vs_trigger_bps_p95": percentile([r["fill_vs_trigger_bps"] for r in fills_at_trigger], 95),
        "fill_vs_inclusion_bps_p50": percentile([r["fill_vs_inclusion_bps"] for r in fills], 50),
        "fill_vs_inclusion_bps_p95": percentile([r["fill_vs_inclusion_bps"] for r in fills], 95),
        "net_profit_usd": round(sum(r.get("net_profit_usd", 0.0) for r in done), 2),
    }


def bonus_percent(bonus_bps: int) -> str:
    """A liquidation bonus for people: the part above 100%, in percent (10128 BPS -> "1.28%"), the
    unit of the charts, the report table, `scan` and the `liquidate` preview."""
    return f"{(bonus_bps - BPS) / 100:.2f}%"


def table(records: Sequence[dict[str, Any]]) -> str:
    head = (
        f"{'block':>7} {'user':12} {'pair':11} {'hf before':>9} {'hf after':>9} {'repaid $':>11} "
        f"{'seized $':>11} {'bonus':>6} {'delay':>5} {'gas':>7} flags"
    )
    lines = [head]
    for r in records:
        flags = ",".join(
            name
            for name, on in (
                ("target", r["reached_target"]),
                ("dust", r["cleared_dust"]),
                ("deficit", r["deficit_reported"]),
                (r["outcome"], r["outcome"] != "liquidated"),
            )
            if on
        )
        hf_after = (
            f"{r['hf_after'] / 1e18:9.4f}" if r.get("hf_after") and r["hf_after"] < 2**255 else "        -"
        )
        lines.append(
            f"{r.get('inclusion_block') or 0:7d} {r['user'][:12]:12} "
            f"{r['collateral_symbol'] + '/' + r['debt_symbol']:11} {r['hf_before'] / 1e18:9.4f} {hf_after} "
            f"{r['debt_repaid_usd']:11.2f} {r['collateral_seized_usd']:11.2f} "
            f"{bonus_percent(r['bonus_bps']):>6} "
            f"{r['delay_blocks'] if r.get('delay_blocks') is not None else '-':>5} {r['gas_used']:7d} {flags}"
        )
    return "\n".join(lines)


def charts(records: Sequence[dict[str, Any]], out: Path) -> list[Path]:
    """Delay histogram and bonus against health factor (the demo adds price-path charts)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in records if r["outcome"] == "liquidated"]
    paths = []
    delays = [r["delay_blocks"] for r in done if r.get("delay_blocks") is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    if delays:
        ax.hist(delays, bins=range(0, max(delays) + 2), align="left", rwidth=0.8, color="#3b6ea5")
    ax.set_xlabel("blocks from price update to inclusion")
    ax.set_ylabel("liquidations")
    ax.set_title("Liquidation delay")
    path = out / "delay_blocks.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(
        [r["hf_before"] / 1e18 for r in done],
        [(r["bonus_bps"] - BPS) / 100 for r in done],
        s=14,
        color="#a53b3b",
    )
    ax.set_xlabel("health factor before liquidation")
    ax.set_ylabel("liquidation bonus (%)")
    ax.set_title("Bonus against health factor (Dutch auction)")
    ax.invert_xaxis()
    path = out / "bonus_vs_hf.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    paths.append(path)
    return paths


def write_report(db_path: Path, out: Path) -> str:
    """Writes records.json, summary.json and charts into `out`; returns the text table and summary."""
    if not db_path.is_file():
        raise ConfigError(f"database {db_path} not found: run the keeper first or pass --db-path")
    store = Store(db_path)
    try:
        records = store.liquidations()
    finally:
        store.close()
    return write_records_report(records, out)


def write_records_report(records: Sequence[dict[str, Any]], out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(records)
    (out / "records.json").write_text(json.dumps(list(records), indent=2) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    charts(records, out)
    text = table(records) + "\n\n" + "\n".join(f"{k}: {v}" for k, v in summary.items())
    (out / "table.txt").write_text(text + "\n")
    return text


def market_path_chart(
    timeline: Sequence[dict[str, Any]], liquidations: Sequence[dict[str, Any]], out: Path
) -> Path:
    """Per crashed asset, by block: the reference (the outside world's price), its Uniswap pool's mid
    price and the oracle's answer, with the blocks its collateral was liquidated in marked on the
    pool's line (`timeline`: the crash engine's steps as JSON; `liquidations`: measured rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    symbols = sorted(timeline[0]["pool_usd"]) if timeline else []
    fig, axes = plt.subplots(len(symbols) or 1, 1, figsize=(9, 3.2 * max(1, len(symbols))), sharex=True)
    axes = axes if hasattr(axes, "__len__") else [axes]
    blocks = [step["block"] for step in timeline]
    for ax, symbol in zip(axes, symbols, strict=False):
        pool = [step["pool_usd"][symbol] for step in timeline]
        ax.plot(
            blocks, [step["reference_usd"][symbol] for step in timeline], color="#999999", label="reference"
        )
        ax.plot(blocks, pool, color="#3b6ea5", label="Uniswap pool")
        ax.step(
            blocks,
            [step["oracle_usd"][symbol] for step in timeline],
            color="#d08c2a",
            where="post",
            label="oracle",
        )
        lookup = dict(zip(blocks, pool, strict=True))
        hits = [r["block"] for r in liquidations if r["collateral"] == symbol and r["block"] in lookup]
        if hits:
            ax.scatter(
                hits,
                [lookup[b] for b in hits],
                color="#a53b3b",
                s=12,
                zorder=3,
                label=f"{len(hits)} liquidations of {symbol} collateral",
            )
        ax.set_ylabel("USD")
        ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("block")
    fig.suptitle("Market-driven crash: reference, pool and oracle prices")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def fill_chart(liquidations: Sequence[dict[str, Any]], out: Path) -> Path:
    """Each flash liquidation's realised fill (USD per collateral sold) against the oracle price at
    its trigger and at inclusion; the diagonal is a fill at the oracle price."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fills = [r for r in liquidations if r.get("fill_price_usd")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, key, title in (
        (axes[0], "oracle_at_trigger_usd", "oracle at the trigger block"),
        (axes[1], "oracle_at_inclusion_usd", "oracle at inclusion"),
    ):
        for symbol, color in (("WETH", "#3b6ea5"), ("WBTC", "#a53b3b")):
            rows = [r for r in fills if r["collateral"] == symbol and r.get(key)]
            if rows:
                ax.scatter(
                    [r[key] for r in rows],
                    [r["fill_price_usd"] for r in rows],
                    s=12,
                    color=color,
                    label=f"{symbol} ({len(rows)})",
                )
        values = [r[key] for r in fills if r.get(key)] + [r["fill_price_usd"] for r in fills]
        if values:
            lo, hi = min(values), max(values)
            ax.plot([lo, hi], [lo, hi], color="black", linewidth=0.8, linestyle="--", label="fill = oracle")
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(f"{title} (USD)")
        ax.set_ylabel("fill price (USD per collateral sold)")
        ax.legend(fontsize=8)
    fig.suptitle("Flash liquidations: fill price against the oracle")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def hf_distribution_chart(before: dict[str, int], after: dict[str, int], out: Path) -> Path:
    """Health factors of every borrower before the crash and at the end (capped at 3 for display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def shown(values: dict[str, int]) -> list[float]:
        return [min(v / 1e18, 3.0) for v in values.values()]

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = [i / 20 for i in range(0, 61)]
    ax.hist(shown(before), bins=bins, alpha=0.6, label="before the crash", color="#3b6ea5")
    ax.hist(shown(after), bins=bins, alpha=0.6, label="after liquidations", color="#a53b3b")
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
    ax.set_xlabel("health factor (accounts without debt shown at 3)")
    ax.set_ylabel("accounts")
    ax.legend()
    ax.set_title("Health-factor distribution")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
