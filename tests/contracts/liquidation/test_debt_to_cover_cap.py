"""debtToCover, protocol.md section 5 steps 2 and 5: the liquidator never pays more than
debtToCover. When it binds, the shares repaid are floor(debtToCover * RAY / I) and the payment is
rayMulUp of those shares; above what the liquidation needs it changes nothing."""

import pytest
from liquidation_helpers import (
    MAX,
    RAY,
    liquidate_and_check,
    model_liquidation,
    open_position,
    season,
    set_health_factor,
)

from tests.reference import protocol_math as pm

E18, E6 = 10**18, 10**6


@pytest.fixture(scope="module")
def capped(market, alice, carol):
    """Seasoned pool (DAI index above RAY); alice: 20 WETH, 20,000 DAI and 10,000 USDC of debt,
    HF 0.95, so the DAI target is several thousand DAI."""
    p = season(market, carol)
    open_position(p, alice, {"WETH": 20 * E18}, {"DAI": 20_000 * E18, "USDC": 10_000 * E6})
    set_health_factor(p, alice, "WETH", 95 * 10**16)
    return p


@pytest.mark.parametrize("debt_to_cover", [
    10**9 + 1, 123_456_789_012_345_678, 777 * E18 + 777, 1_000 * E18, 4_321_987_654_321_987_654_321,
])
def test_binding_debt_to_cover_repays_its_floor_in_shares(capped, alice, liquidator,
                                                          debt_to_cover):
    p = capped
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    index = p.pool.getReserveData(dai)[3]
    assert index > RAY
    shares = debt_to_cover * RAY // index
    exp = model_liquidation(p, weth, dai, alice, debt_to_cover)
    assert shares < pm.div_up(exp.debt_to_target_ray, index), "debtToCover binds"
    tx, exp = liquidate_and_check(p, weth, dai, alice, debt_to_cover, liquidator)
    repaid = tx.events["LiquidationCall"]["debtRepaid"]
    assert exp.debt_shares == shares
    assert repaid == pm.ray_mul_up(shares, index) <= debt_to_cover
    assert debt_to_cover - repaid < index // RAY + 1, "at most one share's worth below the cap"


@pytest.mark.parametrize("extra", [0, 1, 10**18, 10**30])
def test_debt_to_cover_above_the_need_pays_only_the_need(capped, alice, liquidator, extra):
    p = capped
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    needed = model_liquidation(p, weth, dai, alice, MAX).debt_to_repay
    tx, _ = liquidate_and_check(p, weth, dai, alice, needed + extra, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == needed


def test_max_and_the_exact_need_give_the_same_liquidation(capped, alice, liquidator):
    p = capped
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    at_max = model_liquidation(p, weth, dai, alice, MAX)
    exact = model_liquidation(p, weth, dai, alice, at_max.debt_to_repay)
    assert exact.preview == at_max.preview
    assert tuple(p.pool.previewLiquidation(weth, dai, alice, at_max.debt_to_repay,
                                           {"from": liquidator})) == \
        tuple(p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator}))
    liquidate_and_check(p, weth, dai, alice, at_max.debt_to_repay, liquidator)


def test_largest_finite_debt_to_cover_does_not_overflow(capped, alice, liquidator):
    """type(uint256).max - 1 is an ordinary cap: floor(debtToCover * RAY / I) is computed in full
    precision and fits, so it behaves like max."""
    p = capped
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    at_max = model_liquidation(p, weth, dai, alice, MAX)
    tx, _ = liquidate_and_check(p, weth, dai, alice, MAX - 1, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == at_max.debt_to_repay
