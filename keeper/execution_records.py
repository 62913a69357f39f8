"""The execution-quality record of one liquidation (keeper.md), built from the receipt, the
detection context and the model at inclusion; and the detection itself, as it is stored with the
liquidation's transaction. The recorder stage (keeper.recorder) builds and stores them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from typing import Any

from keeper import maths
from keeper.model import Reserve


@dataclass(frozen=True)
class Detection:
    """When and why the keeper decided to liquidate an account."""

    user: str
    collateral: str
    debt: str
    trigger_asset: str | None  # the re-priced asset that made the account liquidatable
    trigger_block: int | None
    trigger_price: int | None  # 8 decimals
    trigger_seen_ms: int | None  # wall clock when the keeper saw the price-update block
    trigger_block_ts: int | None  # chain time of the price-update block
    detect_block: int
    detect_ms: int
    submit_block: int
    submit_ms: int
    health_factor: int
    expected_profit_usd: str
    reason: str
    method: str = "inventory"  # inventory | flash
    route: str | None = None  # a flash liquidation's route, e.g. "WETH -> (0.05%) USDC"
    pool_fee_ppm: int | None = None  # the pool fees along it, millionths of what is sold


def detection_key(intent: str) -> str:
    """Where the store keeps the detection of the latest liquidation with this intent."""
    return f"detection:{intent}"


def detection_json(detection: Detection) -> str:
    return json.dumps(asdict(detection))


def detection_from_json(raw: str | None) -> Detection | None:
    return Detection(**json.loads(raw)) if raw else None


@dataclass(frozen=True)
class RecordPrices:
    """The oracle prices (8 decimals) a record values its amounts at: the collateral's and the debt's in
    the inclusion block, and the collateral's in the trigger block (None without one)."""

    collateral: int
    debt: int
    collateral_at_trigger: int | None


def executed_collateral_price(
    debt_repaid: int,
    collateral_seized: int,
    bonus_bps: int,
    debt_price: int,
    debt_decimals: int,
    collateral_decimals: int,
) -> int:
    """The collateral's oracle price (8 decimals) a liquidation was executed at, from its own amounts:
    the pool seizes `debt value x bonus` of collateral (protocol.md section 5), so the price is
    `repaid x debtPrice x bonus / seized` (rounded down). This is the oracle price at inclusion as
    the transaction met it: an update later in the same block does not change it."""
    if collateral_seized == 0:
        return 0
    numerator = debt_repaid * debt_price * bonus_bps * 10**collateral_decimals
    return numerator // (collateral_seized * 10_000 * 10**debt_decimals)


@dataclass(frozen=True)
class Fill:
    """What a flash liquidation sold (its FlashLiquidator's `FlashLiquidation` log): collateral sold to
    the pools for the debt bought, and the collateral left as profit (units of each token)."""

    debt_bought: int
    collateral_received: int
    collateral_sold: int
    profit: int


@dataclass(frozen=True)
class LiquidationRecord:
    tx_hash: str
    user: str
    liquidator: str
    collateral_symbol: str
    debt_symbol: str
    outcome: str  # liquidated | reverted | lost
    winner: str | None
    trigger_block: int | None
    trigger_price: int | None
    detect_block: int
    submit_block: int
    inclusion_block: int | None
    delay_blocks: int | None  # inclusion - trigger block (the first block the account was liquidatable)
    delay_chain_ms: int | None  # inclusion block time - price-update block time
    delay_wall_ms: int | None  # receipt seen - price-update block seen (keeper clock)
    detect_latency_ms: int | None  # price-update block seen -> liquidation sent
    hf_before: int
    hf_after: int | None
    debt_repaid: int
    debt_repaid_usd: float  # at the oracle prices the liquidation executed at, as every USD figure here
    collateral_seized: int
    collateral_seized_usd: float
    protocol_fee: int
    bonus_bps: int
    bonus_usd: float  # value seized minus value repaid (fee included)
    liquidator_profit_usd: float  # value kept minus value repaid (or, flash, profit kept) minus gas
    oracle_price: int  # collateral, 8 decimals, as the liquidation executed (else the inclusion block's)
    oracle_price_at_trigger: int | None  # collateral, 8 decimals, at the trigger block
    effective_price: float  # debt value paid per whole collateral token received (USD)
    gas_used: int
    gas_cost_wei: int
    gas_cost_usd: float
    reached_target: bool
    cleared_dust: bool
    deficit_reported: bool
    deficit_usd: float
    method: str  # inventory | flash
    route: str | None
    pool_fee_ppm: int | None
    collateral_sold: int | None  # flash: collateral sold to the pools (units)
    debt_bought: int | None  # flash: debt asset the pools paid out (units)
    fill_price_usd: float | None  # flash: USD (debt at the inclusion price) per whole collateral sold
    fill_vs_trigger_bps: float | None  # (oracle at trigger - fill) / oracle at trigger, BPS
    fill_vs_inclusion_bps: float | None  # (oracle at inclusion - fill) / oracle at inclusion, BPS
    net_profit_tokens: int | None  # flash: collateral kept (units)
    net_profit_usd: float  # what the liquidation left the keeper, gas paid
    revert_reason: str | None  # a reverted liquidation's error, by name, where the node traces it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def usd(decimals: int, amount: int, price: int) -> float:
    return maths.to_value(amount, decimals, price) / 1e26


def build_record(
    *,
    tx_hash: str,
    detection: Detection,
    event: dict[str, Any] | None,
    receipt: Any,
    block_ts_ms: int | None,
    receipt_seen_ms: int,
    collateral: Reserve,
    debt: Reserve,
    prices: RecordPrices,
    hf_after: int | None,
    target_hf: int,
    debt_left: int,
    collateral_left: int,
    deficits_usd: float,
    native_price_usd: Decimal,
    winner: str | None,
    fill: Fill | None = None,
    revert_reason: str | None = None,
) -> LiquidationRecord:
    gas_used = int(receipt["gasUsed"]) if receipt is not None else 0
    price = int(receipt.get("effectiveGasPrice", 0)) if receipt is not None else 0
    gas_cost_wei = gas_used * price
    gas_cost_usd = float(Decimal(gas_cost_wei) / Decimal(10**18) * native_price_usd)
    inclusion = int(receipt["blockNumber"]) if receipt is not None else None
    if event is None:
        outcome = "lost" if winner else "reverted"
        repaid = seized = fee = bonus = 0
        hf_before = detection.health_factor
        fill = None
    else:
        outcome = "liquidated"
        repaid = int(event["debtRepaid"])
        seized = int(event["collateralSeized"])
        fee = int(event["protocolFee"])
        bonus = int(event["liquidationBonus"])
        hf_before = int(event["healthFactorBefore"])
    if event is not None and seized:
        executed = executed_collateral_price(
            repaid, seized, bonus, prices.debt, debt.decimals, collateral.decimals
        )
        prices = replace(prices, collateral=executed)
    received = seized - fee
    repaid_usd = usd(debt.decimals, repaid, prices.debt)
    seized_usd = usd(collateral.decimals, seized, prices.collateral)
    received_usd = usd(collateral.decimals, received, prices.collateral)
    effective = repaid_usd / (received / 10**collateral.decimals) if received else 0.0
    delay_blocks = (
        inclusion - detection.trigger_block
        if inclusion is not None and detection.trigger_block is not None
        else None
    )
    delay_chain_ms = (
        block_ts_ms - detection.trigger_block_ts * 1000
        if block_ts_ms is not None and detection.trigger_block_ts is not None
        else None
    )
    fill_price = fill_vs_trigger = fill_vs_inclusion = None
    profit_usd = received_usd - repaid_usd - gas_cost_usd
    if fill is not None and fill.collateral_sold > 0:
        fill_price = usd(debt.decimals, fill.debt_bought, prices.debt) / (
            fill.collateral_sold / 10**collateral.decimals
        )
        fill_vs_inclusion = slippage_bps(prices.collateral, fill_price)
        if prices.collateral_at_trigger:
            fill_vs_trigger = slippage_bps(prices.collateral_at_trigger, fill_price)
        profit_usd = usd(collateral.decimals, fill.profit, prices.collateral) - gas_cost_usd
    return LiquidationRecord(
        tx_hash=tx_hash,
        user=detection.user,
        liquidator=str(event["liquidator"]) if event else "",
        collateral_symbol=collateral.symbol,
        debt_symbol=debt.symbol,
        outcome=outcome,
        winner=winner,
        trigger_block=detection.trigger_block,
        trigger_price=detection.trigger_price,
        detect_block=detection.detect_block,
        submit_block=detection.submit_block,
        inclusion_block=inclusion,
        delay_blocks=delay_blocks,
        delay_chain_ms=delay_chain_ms,
        delay_wall_ms=(receipt_seen_ms - detection.trigger_seen_ms if detection.trigger_seen_ms else None),
        detect_latency_ms=(
            detection.submit_ms - detection.trigger_seen_ms if detection.trigger_seen_ms else None
        ),
        hf_before=hf_before,
        hf_after=hf_after,
        debt_repaid=repaid,
        debt_repaid_usd=repaid_usd,
        collateral_seized=seized,
        collateral_seized_usd=seized_usd,
        protocol_fee=fee,
        bonus_bps=bonus,
        bonus_usd=seized_usd - repaid_usd,
        liquidator_profit_usd=profit_usd,
        oracle_price=prices.collateral,
        oracle_price_at_trigger=prices.collateral_at_trigger,
        effective_price=effective,
        gas_used=gas_used,
        gas_cost_wei=gas_cost_wei,
        gas_cost_usd=gas_cost_usd,
        reached_target=hf_after is not None and hf_after >= target_hf,
        cleared_dust=event is not None and (debt_left == 0 or collateral_left == 0),
        deficit_reported=deficits_usd > 0,
        deficit_usd=deficits_usd,
        method=detection.method,
        route=detection.route,
        pool_fee_ppm=detection.pool_fee_ppm,
        collateral_sold=fill.collateral_sold if fill else None,
        debt_bought=fill.debt_bought if fill else None,
        fill_price_usd=fill_price,
        fill_vs_trigger_bps=fill_vs_trigger,
        fill_vs_inclusion_bps=fill_vs_inclusion,
        net_profit_tokens=fill.profit if fill else None,
        net_profit_usd=profit_usd,
        revert_reason=revert_reason,
    )


def slippage_bps(oracle_price: int, fill_price_usd: float) -> float:
    """How far below the oracle price (8 decimals) a sale filled, in BPS (negative: above it)."""
    reference = oracle_price / 1e8
    return (reference - fill_price_usd) / reference * 1e4
