"""Collateral exhaustion, protocol.md section 5 step 4: when the debt to repay would need more
collateral than the user has on the reserve, all of it is seized and the debt is recomputed as
what that collateral pays for at the bonus, rounded up:
debtRay = ceil(sharesToAssetsUp(S) * cP * dUnit * 1e4 * RAY / (dP * cUnit * LB)),
ds = ceil(debtRay / I)."""

import brownie
from liquidation_helpers import (
    MAX,
    RAY,
    liquidate_and_check,
    model_liquidation,
    open_position,
    reserve_state,
    set_health_factor,
)

from tests.reference import protocol_math as pm


def _exhaustion_position(p, alice):
    """1 WETH ($2,000) and 20,000 USDC of collateral, 20,000 DAI of debt: HF 0.93 exactly, the
    target (~$10k) needs five times the WETH."""
    open_position(p, alice, {"WETH": 10**18, "USDC": 20_000 * 10**6}, {"DAI": 20_000 * 10**18})


def test_collateral_cap_seizes_all_and_repays_what_it_pays_for(market, alice, liquidator, fund):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _exhaustion_position(p, alice)
    assert p.health_factor(alice) == 93 * 10**16
    exp = model_liquidation(p, weth, dai, alice, MAX)
    cs_target = pm.collateral_for_debt(pm.div_up(exp.debt_to_target_ray, RAY), RAY, 10**8, 18,
                                       2_000 * 10**8, 18, exp.bonus)
    assert cs_target > 10**18, "the target needs more WETH than the user has"
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    event = tx.events["LiquidationCall"]
    assert event["liquidationBonus"] == 101_93
    assert event["collateralSeized"] == 10**18
    # ceil(2000e18 * 1e4 / 10193): the whole WETH is worth $2,000 at a 101.93% bonus.
    assert event["debtRepaid"] == 1962130874129304424606
    assert event["protocolFee"] == 1893456293534779
    assert p.tokens["WETH"].balanceOf(liquidator) - 100_000 * 10**18 == 998106543706465221
    assert p.pool.getUserShares(alice, weth)[0] == 0
    assert p.pool.getUserPosition(alice, weth)[2] is False, "emptied collateral is disabled"
    assert p.pool.getUserPosition(alice, dai)[1] == 20_000 * 10**18 - 1962130874129304424606
    assert not exp.deficit, "USDC is still active collateral"


def test_collateral_cap_recomputes_the_debt_with_shares_rounded_up(seasoned, alice, liquidator):
    """Share price above 1 and index above RAY: the recomputed debt uses sharesToAssetsUp(S) and
    ceil(debtRay / I)."""
    p = seasoned
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _exhaustion_position(p, alice)
    set_health_factor(p, alice, "USDC", 93 * 10**16)
    rc, rd = reserve_state(p, weth), reserve_state(p, dai)
    assert rc.total_assets != rc.total_supply_shares and rd.index > RAY
    shares = p.pool.getUserShares(alice, weth)[0]
    exp = model_liquidation(p, weth, dai, alice, MAX)
    debt_ray = pm.div_up(
        pm.to_assets_up(shares, rc.total_assets, rc.total_supply_shares) * rc.price * 10**18
        * 10**4 * RAY, rd.price * 10**18 * exp.bonus)
    assert exp.collateral_shares == shares
    assert exp.debt_shares == pm.div_up(debt_ray, rd.index)
    _tx, _ = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert p.pool.getUserShares(alice, weth)[0] == 0


def test_collateral_cap_requires_debt_to_cover_of_the_recomputed_debt(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _exhaustion_position(p, alice)
    required = 1962130874129304424606
    for amount in (required - 1, required - 10**18):
        with brownie.reverts("MustNotLeaveDust: "):
            p.pool.liquidate(weth, dai, alice, amount, False, {"from": liquidator})
    tx, _ = liquidate_and_check(p, weth, dai, alice, required, liquidator)
    assert tx.events["LiquidationCall"]["collateralSeized"] == 10**18


def test_a_small_debt_to_cover_liquidates_partially_without_exhausting(market, alice, liquidator):
    """Below the cap, debtToCover binds and $1,000 or more of WETH stays."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _exhaustion_position(p, alice)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, 900 * 10**18, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 900 * 10**18
    # floor(900e18 * 10193 / (2000 * 1e4))
    assert tx.events["LiquidationCall"]["collateralSeized"] == 458685000000000000
    assert p.pool.getUserShares(alice, weth)[0] == 10**18 - 458685000000000000


def test_exhausting_the_only_collateral_repays_less_than_the_debt(market, alice, liquidator):
    """The recomputed debt is below the reserve debt: the rest becomes deficit (section 6)."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10**18}, {"DAI": 2_500 * 10**18})
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    repaid = tx.events["LiquidationCall"]["debtRepaid"]
    assert exp.deficit
    assert tx.events["LiquidationCall"]["collateralSeized"] == 10**18
    assert tx.events["DeficitReported"][0]["amount"] == 2_500 * 10**18 - repaid
