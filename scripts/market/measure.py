"""Execution quality of one market-driven crash, from the chain's truth: the independent observer's
liquidations and episodes (bench/observer.py) beside the engine's timeline of pool and oracle prices.

Per liquidation: the trigger block (the first block of its episode: when the account became
liquidatable) and the collateral's oracle price and pool mark price there, the realised fill of a
flash liquidation (debt bought per collateral sold), its slippage against the oracle at the trigger
and at inclusion, the bonus and the protocol fee. Per run: the fill-vs-trigger distribution, the
collateral seized, what borrowers lost to liquidation, the keeper's profit, bad debt, the insurance
fund at the end, zombies, and the oracle updates the liquidations' own selling caused (cascade)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.observer import Episode, Liquidation, Observation, percentile
from scripts.market.engine import Timeline

USD8 = 10**8


@dataclass(frozen=True)
class LiquidationRow:
    """One liquidation as the chain recorded it, measured against the market around it."""

    block: int
    user: str
    sender: str
    collateral: str
    debt: str
    trigger_block: int
    oracle_at_trigger_usd: float | None  # the collateral's oracle price in the trigger block
    pool_mark_at_trigger_usd: float | None  # its USDC pool's mid price then (None: a stablecoin)
    oracle_at_inclusion_usd: float
    fill_price_usd: float | None  # flash: USD of debt bought per collateral sold
    fill_vs_trigger_bps: float | None  # below the oracle at the trigger (negative: above)
    fill_vs_inclusion_bps: float | None
    bonus_bps: int
    protocol_fee_usd: float
    debt_repaid_usd: float
    collateral_seized_usd: float
    keeper_profit_usd: float | None  # flash: collateral kept after the swap, less gas, USD

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _slippage(reference_usd: float | None, fill_usd: float | None) -> float | None:
    if reference_usd is None or fill_usd is None or reference_usd == 0:
        return None
    return (reference_usd - fill_usd) / reference_usd * 1e4


def liquidation_rows(
    observation: Observation,
    timeline: Timeline,
    symbols: Mapping[str, str],
    decimals: Mapping[str, int],
    trigger_prices: Mapping[tuple[str, int], int],
    native_usd: float,
) -> list[LiquidationRow]:
    """Every liquidation of the observation. `symbols`/`decimals`: asset address -> symbol/decimals;
    `trigger_prices`: (asset, block) -> oracle price (8 decimals) at each liquidation's trigger block
    (`trigger_blocks` lists what to read); `native_usd`: the gas token's price for gas costs."""
    pool_mark = {s.block: s.pool_usd8 for s in timeline.steps}
    rows = []
    for episode in observation.episodes:
        for liq in episode.liquidations:
            rows.append(_row(liq, episode, pool_mark, symbols, decimals, trigger_prices, native_usd))
    return sorted(rows, key=lambda r: (r.block, r.user))


def trigger_blocks(observation: Observation) -> list[tuple[str, int]]:
    """(collateral asset, trigger block) of every liquidation: the oracle reads `liquidation_rows` needs."""
    return sorted(
        {(liq.collateral_asset, e.start_block) for e in observation.episodes for liq in e.liquidations}
    )


def _row(
    liq: Liquidation,
    episode: Episode,
    pool_mark: Mapping[int, Mapping[str, int]],
    symbols: Mapping[str, str],
    decimals: Mapping[str, int],
    trigger_prices: Mapping[tuple[str, int], int],
    native_usd: float,
) -> LiquidationRow:
    symbol = symbols[liq.collateral_asset]
    trigger_price = trigger_prices.get((liq.collateral_asset, episode.start_block))
    oracle_at_trigger = trigger_price / USD8 if trigger_price else None
    marks = _at_or_before(pool_mark, episode.start_block)
    mark = marks.get(symbol) if marks else None
    fee_usd = liq.protocol_fee * liq.collateral_price / USD8 / 10 ** decimals[liq.collateral_asset]
    profit = None
    if liq.collateral_sold is not None:
        kept = liq.collateral_seized - liq.protocol_fee - liq.collateral_sold
        gas_usd = liq.gas_used * max(liq.priority_fee_wei, 0) / 1e18 * native_usd
        profit = kept * liq.collateral_price / USD8 / 10 ** decimals[liq.collateral_asset] - gas_usd
    return LiquidationRow(
        block=liq.block,
        user=liq.user,
        sender=liq.sender,
        collateral=symbol,
        debt=symbols[liq.debt_asset],
        trigger_block=episode.start_block,
        oracle_at_trigger_usd=oracle_at_trigger,
        pool_mark_at_trigger_usd=mark / USD8 if mark else None,
        oracle_at_inclusion_usd=liq.collateral_price / USD8,
        fill_price_usd=liq.fill_price_usd,
        fill_vs_trigger_bps=_slippage(oracle_at_trigger, liq.fill_price_usd),
        fill_vs_inclusion_bps=liq.fill_vs_oracle_bps,
        bonus_bps=liq.liquidation_bonus,
        protocol_fee_usd=fee_usd,
        debt_repaid_usd=liq.debt_repaid_usd,
        collateral_seized_usd=liq.collateral_seized_usd,
        keeper_profit_usd=profit,
    )


def _at_or_before(series: Mapping[int, Mapping[str, int]], block: int) -> Mapping[str, int] | None:
    """The latest entry of a block-indexed series at or before `block`."""
    earlier = [b for b in series if b <= block]
    return series[max(earlier)] if earlier else None


def run_figures(
    rows: Sequence[LiquidationRow],
    observation: Observation,
    timeline: Timeline,
    fund_usd: Mapping[int, float],
    deficit_prices: Mapping[str, int],
    decimals: Mapping[str, int],
) -> dict[str, Any]:
    """The run's figures (the study's `runs` keys first). `deficit_prices`: asset -> oracle price at the
    end, to value the bad debt written off."""
    gaps = [r.fill_vs_trigger_bps for r in rows if r.fill_vs_trigger_bps is not None]
    bad_debt = sum(
        d.reported * deficit_prices[d.asset] / USD8 / 10 ** decimals[d.asset] for d in observation.deficits
    )
    last = max(fund_usd) if fund_usd else None
    return {
        "fill_vs_trigger_bps_p50": _round(percentile(gaps, 50)),
        "fill_vs_trigger_bps_p95": _round(percentile(gaps, 95)),
        "collateral_seized_usd": round(sum(r.collateral_seized_usd for r in rows), 2),
        "borrower_loss_usd": round(sum(r.collateral_seized_usd - r.debt_repaid_usd for r in rows), 2),
        "keeper_profit_usd": round(sum(r.keeper_profit_usd or 0.0 for r in rows), 2),
        "bad_debt_usd": round(bad_debt, 2),
        "insurance_fund_end_usd": round(fund_usd[last], 2) if last is not None else None,
        "zombies_max": max(observation.zombies.values(), default=0),
        "cascade_oracle_updates": timeline.cascade_updates,
        "liquidations": len(rows),
        "flash_liquidations": sum(1 for r in rows if r.fill_price_usd is not None),
        "fills_recorded_share": (
            round(sum(1 for r in rows if r.fill_price_usd is not None) / len(rows), 4) if rows else None
        ),
        "fill_vs_inclusion_bps_p50": _round(
            percentile([r.fill_vs_inclusion_bps for r in rows if r.fill_vs_inclusion_bps is not None], 50)
        ),
        "debt_repaid_usd": round(sum(r.debt_repaid_usd for r in rows), 2),
        "protocol_fees_usd": round(sum(r.protocol_fee_usd for r in rows), 2),
        "oracle_updates": len(timeline.updates),
        "arb_capital_exhausted": timeline.arb_capital_exhausted(),
        "insurance_fund_start_usd": round(fund_usd[min(fund_usd)], 2) if fund_usd else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
