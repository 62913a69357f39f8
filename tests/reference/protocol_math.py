"""The liqengine protocol math (protocol.md sections 1-6) in Python integers, to the wei: the
reference the tests hold the contracts (tests/contracts) and the keeper's own maths (keeper/maths.py,
tests/keeper/test_maths.py) to. Every function names its rounding direction; units are BPS, WAD, RAY,
8-decimal prices and value with $1 = 1e26.
"""

from __future__ import annotations

from dataclasses import dataclass

WAD = 10**18
RAY = 10**27
BPS = 10**4
VIRTUAL_SHARES = 10**6
MAX_UINT256 = 2**256 - 1
DUST_LIQUIDATION_THRESHOLD = 1000 * 10**26
SECONDS_PER_YEAR = 365 * 24 * 3600


def div_up(a: int, b: int) -> int:
    """ceil(a / b) for a >= 0, b > 0."""
    return -(-a // b)


def mul_div_down(a: int, b: int, c: int) -> int:
    return a * b // c


def mul_div_up(a: int, b: int, c: int) -> int:
    return div_up(a * b, c)


def ray_mul_up(a: int, b: int) -> int:
    return div_up(a * b, RAY)


def ray_mul_down(a: int, b: int) -> int:
    return a * b // RAY


def to_value(amount: int, decimals: int, price: int) -> int:
    """USD value of `amount` token units at an 8-decimal `price`; $1 = 1e26."""
    return amount * price * 10 ** (18 - decimals)


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    return assets * (total_shares + VIRTUAL_SHARES) // (total_assets + VIRTUAL_SHARES)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    return div_up(assets * (total_shares + VIRTUAL_SHARES), total_assets + VIRTUAL_SHARES)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    return shares * (total_assets + VIRTUAL_SHARES) // (total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    return div_up(shares * (total_assets + VIRTUAL_SHARES), total_shares + VIRTUAL_SHARES)


def borrow_rate_ray(
    base_bps: int, slope1_bps: int, slope2_bps: int, optimal_bps: int, cash: int, debt: int
) -> int:
    """Annual borrow rate (RAY) of the kinked model at utilisation debt / (cash + debt)."""
    base = base_bps * 10**23
    slope1 = slope1_bps * 10**23
    if debt == 0:
        return base
    utilization = debt * RAY // (cash + debt)
    optimal = optimal_bps * 10**23
    if utilization <= optimal:
        return base + slope1 * utilization // optimal
    return base + slope1 + slope2_bps * 10**23 * (utilization - optimal) // (RAY - optimal)


def accrue_index(index: int, rate_ray: int, elapsed: int) -> int:
    """Borrow index after `elapsed` seconds, linear between accruals, rounded up."""
    if rate_ray == 0 or elapsed == 0:
        return index
    return index + mul_div_up(index, rate_ray * elapsed, RAY * SECONDS_PER_YEAR)


def health_factor(weighted_collateral: int, total_debt_value_ray: int) -> int:
    """floor(weighted * 1e14 * 1e27 / debtValueRay); max uint without debt."""
    if total_debt_value_ray == 0:
        return MAX_UINT256
    return weighted_collateral * 10**14 * RAY // total_debt_value_ray


def liquidation_bonus(max_bonus: int, hf: int, hf_for_max_bonus: int, bonus_factor: int) -> int:
    """The Dutch-auction bonus (BPS) at health factor `hf` (section 4)."""
    if hf <= hf_for_max_bonus:
        return max_bonus
    min_bonus = (max_bonus - BPS) * bonus_factor // BPS + BPS
    if hf >= WAD:
        return min_bonus
    return min_bonus + (max_bonus - min_bonus) * (WAD - hf) // (WAD - hf_for_max_bonus)


def debt_to_target_ray(
    total_debt_value_ray: int,
    debt_decimals: int,
    debt_price: int,
    target_hf: int,
    hf: int,
    bonus: int,
    collateral_factor: int,
) -> int:
    """Debt (asset units x RAY, rounded up) that restores the target health factor (step 1)."""
    if hf >= target_hf:
        return 0
    penalty = bonus * 10**14 * collateral_factor // BPS
    return div_up(
        total_debt_value_ray * 10**debt_decimals * (target_hf - hf),
        (target_hf - penalty) * debt_price * WAD,
    )


def collateral_for_debt(
    debt_shares: int,
    index: int,
    debt_price: int,
    debt_decimals: int,
    coll_price: int,
    coll_decimals: int,
    bonus: int,
) -> int:
    """Collateral assets (rounded down) for `debt_shares` of debt plus the bonus (step 3)."""
    return (debt_shares * index * debt_price * 10**coll_decimals * bonus) // (
        10**debt_decimals * coll_price * BPS * RAY
    )


class MustNotLeaveDust(Exception):
    """The liquidator's debtToCover is below what the liquidation must repay."""


@dataclass(frozen=True)
class LiquidationInputs:
    health_factor: int
    total_debt_value_ray: int
    target_health_factor: int
    liquidation_bonus: int
    collateral_factor: int
    liquidation_fee: int
    debt_to_cover: int
    drawn_shares: int
    borrow_index: int
    debt_price: int
    debt_decimals: int
    supply_shares: int
    collateral_price: int
    collateral_decimals: int
    collateral_total_assets: int
    collateral_total_shares: int


@dataclass(frozen=True)
class LiquidationAmounts:
    debt_shares: int
    debt_to_repay: int
    collateral_shares: int
    fee_shares: int
    liquidator_shares: int


def liquidation_amounts(p: LiquidationInputs) -> LiquidationAmounts:
    """Section 5 steps 1-6. Raises MustNotLeaveDust where the contract reverts it."""
    t = debt_to_target_ray(
        p.total_debt_value_ray,
        p.debt_decimals,
        p.debt_price,
        p.target_health_factor,
        p.health_factor,
        p.liquidation_bonus,
        p.collateral_factor,
    )
    d, i = p.drawn_shares, p.borrow_index
    ds = div_up(t, i)
    if p.debt_to_cover != MAX_UINT256:
        ds = min(ds, p.debt_to_cover * RAY // i)
    ds = min(ds, d)
    if ds < d and to_value((d - ds) * i, p.debt_decimals, p.debt_price) < (DUST_LIQUIDATION_THRESHOLD * RAY):
        ds = d

    a, s_total, s = p.collateral_total_assets, p.collateral_total_shares, p.supply_shares

    def coll_shares_for(debt_shares: int) -> int:
        assets = collateral_for_debt(
            debt_shares,
            i,
            p.debt_price,
            p.debt_decimals,
            p.collateral_price,
            p.collateral_decimals,
            p.liquidation_bonus,
        )
        return to_shares_down(assets, a, s_total)

    cs = coll_shares_for(ds)
    coll_dust = (
        cs < s
        and to_value(to_assets_down(s - cs, a, s_total), p.collateral_decimals, p.collateral_price)
        < DUST_LIQUIDATION_THRESHOLD
    )
    if cs > s or (coll_dust and ds < d):
        cs = s
        debt_ray = div_up(
            to_assets_up(s, a, s_total) * p.collateral_price * 10**p.debt_decimals * BPS * RAY,
            p.debt_price * 10**p.collateral_decimals * p.liquidation_bonus,
        )
        ds = div_up(debt_ray, i)
        if ds > d:
            ds = d
            cs = min(coll_shares_for(ds), s)

    debt_to_repay = ray_mul_up(ds, i)
    if p.debt_to_cover < debt_to_repay:
        raise MustNotLeaveDust
    fee_shares = div_up(cs * p.liquidation_fee * (p.liquidation_bonus - BPS), p.liquidation_bonus * BPS)
    if fee_shares == cs:  # rounding up would take every seized share: the bonus part, rounded down
        fee_shares = cs * (p.liquidation_bonus - BPS) // p.liquidation_bonus
    return LiquidationAmounts(ds, debt_to_repay, cs, fee_shares, cs - fee_shares)


def is_deficit(
    supply_shares_after: int, active_collateral_count: int, drawn_after: int, borrow_count: int
) -> bool:
    """Whether the liquidation leaves debt without active collateral (section 6)."""
    return supply_shares_after == 0 and active_collateral_count == 1 and (drawn_after > 0 or borrow_count > 1)
