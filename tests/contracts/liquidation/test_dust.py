"""Dust, protocol.md section 5 steps 2, 4 and 5: a liquidation may not leave debt or collateral
worth less than $1,000 on the reserves it touches; it repays or seizes all of it instead, and
reverts `MustNotLeaveDust` when debtToCover is below what that takes (one wei below fails, exactly
enough succeeds)."""

import brownie
from liquidation_helpers import (
    MAX,
    RAY,
    USD,
    account_state,
    liquidate_and_check,
    model_liquidation,
    open_position,
    set_health_factor,
)

from tests.reference import protocol_math as pm

DUST = "MustNotLeaveDust: "


def _assert_dust_revert(p, coll, debt, user, debt_to_cover, liquidator):
    with brownie.reverts(DUST):
        p.pool.previewLiquidation(coll, debt, user, debt_to_cover, {"from": liquidator})
    with brownie.reverts(DUST):
        p.pool.liquidate(coll, debt, user, debt_to_cover, False, {"from": liquidator})


def _constant_bonus(p):
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})


# ------------------------------------------------------------------------------------- debt dust


def test_debt_dust_requires_the_whole_debt_to_the_wei(market, alice, liquidator):
    """The worked example: 1 WETH at $1,600, 1,300 DAI. The target would leave ~$946 of debt."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10**18}, {"DAI": 1_300 * 10**18}, {"WETH": 1_600 * 10**8})
    exp = model_liquidation(p, weth, dai, alice, MAX)
    assert exp.debt_to_target_ray < 1_300 * 10**18 * RAY, "the target alone is a partial repayment"
    _assert_dust_revert(p, weth, dai, alice, 1_300 * 10**18 - 1, liquidator)
    tx, exp = liquidate_and_check(p, weth, dai, alice, 1_300 * 10**18, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 1_300 * 10**18
    assert tx.events["LiquidationCall"]["collateralSeized"] == 822250000000000000
    assert p.pool.getUserShares(alice, dai)[1] == 0


def test_debt_dust_with_an_accrued_index_requires_ray_mul_up_of_the_shares(seasoned, alice,
                                                                           liquidator):
    """With a borrow index above RAY the required amount is rayMulUp(D, I): one wei less fails."""
    p = seasoned
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    open_position(p, alice, {"WETH": 10**18}, {"USDC": 1_200 * 10**6 + 345_677})
    set_health_factor(p, alice, "WETH", 97 * 10**16)
    drawn = p.pool.getUserShares(alice, usdc)[1]
    index = p.pool.getReserveData(usdc)[3]
    assert index > RAY
    required = pm.ray_mul_up(drawn, index)
    assert required == p.pool.getUserPosition(alice, usdc)[1]
    _assert_dust_revert(p, weth, usdc, alice, required - 1, liquidator)
    tx, exp = liquidate_and_check(p, weth, usdc, alice, required, liquidator)
    assert exp.debt_shares == drawn
    assert tx.events["LiquidationCall"]["debtRepaid"] == required


def test_debt_dust_ignores_debt_to_cover_and_max_repays_it_all(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10**18}, {"DAI": 1_300 * 10**18}, {"WETH": 1_600 * 10**8})
    # 350 DAI (below the ~353.58 target) would leave $950 of debt: the whole debt is due.
    _assert_dust_revert(p, weth, dai, alice, 350 * 10**18, liquidator)
    # 300 DAI leaves exactly $1,000, which is not dust: a partial liquidation.
    assert model_liquidation(p, weth, dai, alice, 300 * 10**18).debt_to_repay == 300 * 10**18
    tx, _exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 1_300 * 10**18


def _two_debts(p, alice):
    """20 WETH of collateral, 5,000 DAI and 20,000 USDC of debt, HF 0.95: the target (~$10k)
    exceeds the DAI debt, so debtToCover decides how much DAI is left."""
    open_position(p, alice, {"WETH": 20 * 10**18},
                  {"DAI": 5_000 * 10**18, "USDC": 20_000 * 10**6})
    set_health_factor(p, alice, "WETH", 95 * 10**16)


def test_remaining_debt_of_exactly_1000_dollars_is_not_dust(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _two_debts(p, alice)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, 4_000 * 10**18, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 4_000 * 10**18
    assert p.pool.getUserPosition(alice, dai)[1] == 1_000 * 10**18
    assert pm.to_value(1_000 * 10**18, 18, 10**8) == 1_000 * USD


def test_remaining_debt_one_wei_below_1000_dollars_is_dust(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _two_debts(p, alice)
    _assert_dust_revert(p, weth, dai, alice, 4_000 * 10**18 + 1, liquidator)
    _assert_dust_revert(p, weth, dai, alice, 5_000 * 10**18 - 1, liquidator)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, 5_000 * 10**18, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 5_000 * 10**18


# ------------------------------------------------------------------------------- collateral dust


def _collateral_dust_position(p, alice):
    """0.75 WETH ($1,500) and 3,000 USDC of collateral, 3,800 DAI of debt: the target seizes about
    $890 of WETH, which would leave ~$610 of it."""
    open_position(p, alice, {"WETH": 75 * 10**16, "USDC": 3_000 * 10**6},
                  {"DAI": 3_800 * 10**18})


def test_collateral_dust_seizes_the_whole_reserve_and_recomputes_the_debt(market, alice,
                                                                          liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _collateral_dust_position(p, alice)
    exp = model_liquidation(p, weth, dai, alice, MAX)
    # The target alone would leave less than $1,000 of WETH.
    ds_target = pm.div_up(exp.debt_to_target_ray, RAY)
    cs_target = pm.collateral_for_debt(ds_target, RAY, 10**8, 18, 2_000 * 10**8, 18, exp.bonus)
    assert pm.to_value(75 * 10**16 - cs_target, 18, 2_000 * 10**8) < 1_000 * USD
    # Everything is seized and the debt is what all of it pays for, rounded up.
    debt_ray = pm.div_up(75 * 10**16 * 2_000 * 10**8 * 10**18 * 10**4 * RAY,
                         10**8 * 10**18 * exp.bonus)
    assert exp.debt_shares == pm.div_up(debt_ray, RAY) > ds_target
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert tx.events["LiquidationCall"]["collateralSeized"] == 75 * 10**16
    assert p.pool.getUserShares(alice, weth)[0] == 0
    assert p.pool.getUserPosition(alice, weth)[2] is False
    assert not exp.deficit, "USDC is still active collateral"


def test_collateral_dust_requires_the_recomputed_debt_to_the_wei(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _collateral_dust_position(p, alice)
    required = model_liquidation(p, weth, dai, alice, MAX).debt_to_repay
    _assert_dust_revert(p, weth, dai, alice, required - 1, liquidator)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, required, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == required
    assert tx.events["LiquidationCall"]["collateralSeized"] == 75 * 10**16


def test_collateral_dust_with_share_price_above_one_requires_the_recomputed_debt(
        seasoned, alice, liquidator):
    p = seasoned
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    open_position(p, alice, {"WETH": 6 * 10**17, "WBTC": 5 * 10**6}, {"USDC": 3_000 * 10**6})
    set_health_factor(p, alice, "WBTC", 98 * 10**16)
    exp = model_liquidation(p, weth, usdc, alice, MAX)
    assert exp.collateral_shares == p.pool.getUserShares(alice, weth)[0], "dust seizes it all"
    required = exp.debt_to_repay
    _assert_dust_revert(p, weth, usdc, alice, required - 1, liquidator)
    liquidate_and_check(p, weth, usdc, alice, required, liquidator)
    assert p.pool.getUserShares(alice, weth)[0] == 0


def _collateral_boundary_position(p, alice):
    """1.55 WETH ($3,100) and 10,000 USDC of collateral, 11,500 DAI, LB fixed at 105%: repaying
    2,000 DAI seizes exactly 1.05 WETH and leaves exactly $1,000 of WETH."""
    _constant_bonus(p)
    open_position(p, alice, {"WETH": 155 * 10**16, "USDC": 10_000 * 10**6},
                  {"DAI": 11_500 * 10**18})


def test_remaining_collateral_of_exactly_1000_dollars_is_not_dust(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _collateral_boundary_position(p, alice)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, 2_000 * 10**18, liquidator)
    assert tx.events["LiquidationCall"]["collateralSeized"] == 105 * 10**16
    assert p.pool.getUserPosition(alice, weth)[0] == 5 * 10**17


def test_remaining_collateral_one_wei_below_1000_dollars_is_dust(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    _collateral_boundary_position(p, alice)
    # 1905 more wei of DAI seize one more wei of WETH (1905 * 21 / 40000 >= 1).
    _assert_dust_revert(p, weth, dai, alice, 2_000 * 10**18 + 1_905, liquidator)
    # 1904 more wei still leave exactly $1,000.
    _tx, _exp = liquidate_and_check(p, weth, dai, alice, 2_000 * 10**18 + 1_904, liquidator)
    assert p.pool.getUserPosition(alice, weth)[0] == 5 * 10**17


def test_collateral_dust_is_allowed_when_the_debt_is_repaid_in_full(market, alice, liquidator):
    """Allowed end states: the debt reserve fully repaid leaves the user's small WETH remainder."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10**18}, {"DAI": 1_300 * 10**18}, {"WETH": 1_600 * 10**8})
    liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert p.pool.getUserShares(alice, weth)[0] == 10**18 - 822250000000000000
    assert pm.to_value(10**18 - 822250000000000000, 18, 1_600 * 10**8) < 1_000 * USD
    assert account_state(p, alice).borrows == {}
