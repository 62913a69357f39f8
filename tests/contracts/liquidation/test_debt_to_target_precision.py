"""Debt to target with 6-, 8- and 18-decimal assets at odd prices (e.g. $1,234.56789012), a borrow
index above RAY and supply share prices above 1: repayment, seizure and fee match the model of
protocol.md section 5 to the wei, and the target binds."""

import pytest
from liquidation_helpers import (
    MAX,
    WAD,
    debt_for_health_factor,
    liquidate_and_check,
    open_position,
    season,
    set_health_factor,
)

from tests.reference import protocol_math as pm

#: Odd prices (8 decimals).
ODD_PRICES = {"WETH": 1234_56789012, "WBTC": 43210_98765432, "USDC": 99987654,
              "DAI": 1_00012345}
COLLATERAL = {"WETH": 40, "WBTC": 1, "USDC": 50_000}


@pytest.fixture(scope="module")
def seasoned_once(market, carol):
    """Every test here wants the seasoned pool: season it once for the module."""
    p = season(market, carol)
    for symbol, price in ODD_PRICES.items():
        p.set_price(symbol, price)
    return p


PAIRS = [("WETH", "USDC"), ("WETH", "WBTC"), ("WBTC", "DAI"), ("WBTC", "USDC"),
         ("USDC", "WETH"), ("USDC", "DAI"), ("WETH", "DAI"), ("USDC", "WBTC"),
         ("WBTC", "WETH"), ("WETH", "USDC")]


@pytest.mark.parametrize("coll,debt,hf", [
    (coll, debt, (990_000_000_000_000_000, 876_543_210_987_654_321)[i % 2])
    for i, (coll, debt) in enumerate(PAIRS)
])
def test_debt_to_target_is_exact_across_decimals_and_odd_prices(seasoned_once, alice, liquidator,
                                                              coll, debt, hf):
    p = seasoned_once
    collateral = {coll: p.units(coll, COLLATERAL[coll])}
    amount = debt_for_health_factor(p, collateral, debt, WAD)
    open_position(p, alice, collateral, {debt: amount})
    set_health_factor(p, alice, coll, hf)
    _tx, exp = liquidate_and_check(p, p.tokens[coll], p.tokens[debt], alice, MAX, liquidator)
    assert exp.debt_shares == pm.div_up(exp.debt_to_target_ray, exp.debt.index), \
        "the target binds"
    assert p.health_factor(alice) >= 105 * 10**16
