"""The protocol maths the keeper computes itself, in Python integers, to the wei: values, shares to
assets, health factors and collateral for debt (protocol.md sections 1, 3 and 5). The full reference
the tests hold the contracts to is tests/reference/protocol_math.py. Units are BPS, WAD, RAY,
8-decimal prices and value with $1 = 1e26; every function names its rounding direction."""

from __future__ import annotations

WAD = 10**18
RAY = 10**27
BPS = 10**4
VIRTUAL_SHARES = 10**6
#: The lens's health factor of an account it cannot value (a price read reverts): not below 1e18,
#: so never taken for liquidatable, and not the max uint of an account without debt.
UNREADABLE_HEALTH_FACTOR = 2**256 - 2
MAX_UINT256 = 2**256 - 1


def to_value(amount: int, decimals: int, price: int) -> int:
    """USD value of `amount` token units at an 8-decimal `price`; $1 = 1e26."""
    return amount * price * 10 ** (18 - decimals)


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    return shares * (total_assets + VIRTUAL_SHARES) // (total_shares + VIRTUAL_SHARES)


def health_factor(weighted_collateral: int, total_debt_value_ray: int) -> int:
    """floor(weighted * 1e14 * 1e27 / debtValueRay); max uint without debt."""
    if total_debt_value_ray == 0:
        return MAX_UINT256
    return weighted_collateral * 10**14 * RAY // total_debt_value_ray


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
