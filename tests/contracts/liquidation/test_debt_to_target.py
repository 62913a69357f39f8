"""Debt to target, protocol.md section 5 steps 1-2: the repayment that brings the health factor to
the target, T = ceil(debtValueRay * dUnit * (THF - HF) / ((THF - LB*CF) * dP * 1e18)), capped by
debtToCover and by the user's debt on the reserve."""


from liquidation_helpers import (
    MAX,
    RAY,
    WAD,
    account_state,
    liquidate_and_check,
    open_position,
    set_health_factor,
)

from tests.reference import protocol_math as pm


def test_health_factor_just_below_the_target_repays_almost_nothing(market, alice, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setLiquidationConfig(WAD, 7 * 10**17, 20_00, {"from": p.deployer})
    open_position(p, alice, {"WETH": 10 * 10**18}, {"DAI": 16_000 * 10**18},
                  {"WETH": 1999_99999999})
    assert p.health_factor(alice) == 999999999995000000
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    # T = 16000e18 * RAY * 5e6 / 0.192e18 = 416666666666.67 wei (ray), rounded up in shares.
    assert exp.debt_to_target_ray == 416666666666666666666666666666666666667
    assert tx.events["LiquidationCall"]["debtRepaid"] == 416666666667
    # floor(416666666667 x 1.01 / 2000)
    assert tx.events["LiquidationCall"]["collateralSeized"] == 210416666
    assert p.health_factor(alice) >= WAD


def test_exact_vector_18_decimals_with_a_constant_bonus(market, alice, liquidator, fund):
    """10 WETH at $2,000 (CF 80%), 16,800 DAI, LB 105%: HF = 0.952380952380952380,
    T = 16800 * (1.05 - HF) / (1.05 - 0.84) = 80000 * 0.09761904761904762 DAI exactly."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})
    open_position(p, alice, {"WETH": 10 * 10**18}, {"DAI": 16_800 * 10**18})
    assert p.health_factor(alice) == 952380952380952380
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    event = tx.events["LiquidationCall"]
    assert exp.debt_to_target_ray == 7809523809523809600000 * RAY
    assert event["debtRepaid"] == 7809523809523809600000
    assert event["collateralSeized"] == 4100000000000000040  # debt x 1.05 / 2000
    # fee = ceil(cs * 10% * 500 / 10500) = cs / 210, exact
    assert event["protocolFee"] == 19523809523809524
    assert p.tokens["WETH"].balanceOf(liquidator) - 100_000 * 10**18 == \
        4100000000000000040 - 19523809523809524
    assert p.health_factor(alice) >= 105 * 10**16


def test_exact_vector_8_decimal_collateral_6_decimal_debt(market, alice, liquidator):
    """1 WBTC at $60,000 (CF 75%, LB 108%), 50,000 USDC: HF 0.9, T = 50000 * 0.15 / 0.24 = 31250
    USDC, seizing 31250 * 1.08 / 60000 = 0.5625 WBTC; HF after exactly 1.05."""
    p = market
    wbtc, usdc = p.tokens["WBTC"], p.tokens["USDC"]
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})
    open_position(p, alice, {"WBTC": 10**8}, {"USDC": 50_000 * 10**6})
    assert p.health_factor(alice) == 9 * 10**17
    tx, _exp = liquidate_and_check(p, wbtc, usdc, alice, MAX, liquidator)
    event = tx.events["LiquidationCall"]
    assert event["debtRepaid"] == 31_250 * 10**6
    assert event["collateralSeized"] == 56_250_000
    assert event["protocolFee"] == 416_667  # ceil(56250000 * 1000 * 800 / (10800 * 1e4))
    assert p.health_factor(alice) == 105 * 10**16


def _two_borrow_position(p, alice, dai_debt):
    open_position(p, alice, {"WETH": 20 * 10**18}, {"DAI": dai_debt, "USDC": 10_000 * 10**6})
    set_health_factor(p, alice, "WETH", 95 * 10**16)


def test_repayment_is_the_target_when_it_is_the_smallest(seasoned, alice, liquidator):
    p = seasoned
    _two_borrow_position(p, alice, 20_000 * 10**18)
    _tx, exp = liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, 15_000 * 10**18,
                                  liquidator)
    ds_target = pm.div_up(exp.debt_to_target_ray, exp.debt.index)
    ds_cover = 15_000 * 10**18 * RAY // exp.debt.index
    drawn = exp.account.borrows[str(p.tokens["DAI"])]
    assert ds_target < ds_cover and ds_target < drawn
    assert exp.debt_shares == ds_target


def test_repayment_is_debt_to_cover_when_it_is_the_smallest(seasoned, alice, liquidator):
    p = seasoned
    _two_borrow_position(p, alice, 20_000 * 10**18)
    tx, exp = liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, 1_234_567_890_123,
                                  liquidator)
    ds_cover = 1_234_567_890_123 * RAY // exp.debt.index
    assert ds_cover < pm.div_up(exp.debt_to_target_ray, exp.debt.index)
    assert exp.debt_shares == ds_cover
    assert tx.events["LiquidationCall"]["debtRepaid"] <= 1_234_567_890_123
    assert tx.events["LiquidationCall"]["debtRepaid"] == pm.ray_mul_up(ds_cover, exp.debt.index)


def test_repayment_is_the_reserve_debt_when_it_is_the_smallest(seasoned, alice, liquidator):
    p = seasoned
    # 20k WETH-backed position with only 1,500 DAI on the liquidated reserve: the target
    # (several thousand dollars) exceeds it, so the whole DAI debt is repaid.
    open_position(p, alice, {"WETH": 20 * 10**18},
                  {"DAI": 1_500 * 10**18, "USDC": 30_000 * 10**6})
    set_health_factor(p, alice, "WETH", 95 * 10**16)
    dai = p.tokens["DAI"]
    drawn = p.pool.getUserShares(alice, dai)[1]
    _tx, exp = liquidate_and_check(p, p.tokens["WETH"], dai, alice, MAX, liquidator)
    assert pm.div_up(exp.debt_to_target_ray, exp.debt.index) > drawn
    assert exp.debt_shares == drawn
    assert p.pool.getUserShares(alice, dai)[1] == 0
    assert account_state(p, alice).borrows == {str(p.tokens["USDC"]): exp.account.borrows[
        str(p.tokens["USDC"])]}


def test_debt_to_cover_max_never_overflows_with_a_large_index(seasoned, alice, liquidator):
    """type(uint256).max means no cap; the middle term is skipped rather than overflowing."""
    p = seasoned
    open_position(p, alice, {"WETH": 10 * 10**18}, {"DAI": 16_000 * 10**18})
    set_health_factor(p, alice, "WETH", 96 * 10**16)
    liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
    # A huge but finite cap behaves like max (debtToCover * RAY fits in 256 bits here).
    assert p.health_factor(alice) >= 105 * 10**16
