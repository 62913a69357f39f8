"""Protocol fee, protocol.md section 5 step 6: a share of the bonus part only, rounded up for the
protocol, feeShares = ceil(cs * fee * (LB - 1e4) / (LB * 1e4)), credited to the fee receiver as
supply shares. Splitting a liquidation never pays the liquidator more than doing it at once."""

import brownie
import pytest
from brownie.test import given, strategy
from hypothesis import HealthCheck, settings
from liquidation_helpers import MAX, liquidate_and_check, model_liquidation, open_position, set_config

from tests.reference import protocol_math as pm

E18, E6 = 10**18, 10**6


def _constant_bonus(p):
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})


def test_fee_is_the_rounded_up_share_of_the_bonus_part(market, alice, liquidator, fund):
    """1 WBTC (LB 108%), 50,000 USDC: 0.5625 WBTC seized, fee ceil(56250000 * 10% * 800 / 10800)
    = ceil(416666.67) = 416667 sat."""
    p = market
    _constant_bonus(p)
    open_position(p, alice, {"WBTC": 10**8}, {"USDC": 50_000 * E6})
    _tx, exp = liquidate_and_check(p, p.tokens["WBTC"], p.tokens["USDC"], alice, MAX, liquidator)
    assert exp.fee_shares == 416_667
    assert p.pool.getUserShares(fund, p.tokens["WBTC"])[0] == 416_667
    assert p.pool.getUserPosition(fund, p.tokens["WBTC"])[0] == 416_667
    assert p.tokens["WBTC"].balanceOf(liquidator) - 10_000 * 10**8 == 56_250_000 - 416_667


@pytest.mark.parametrize("fee", [0, 1, 25_00, 100_00])
def test_fee_follows_the_reserve_fee_setting(market, alice, liquidator, fund, fee):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    set_config(p, "WETH", fee=fee)
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    tx, _exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    seized = 1895040603248259878  # the worked example, LB 10108
    expected_fee = pm.div_up(seized * fee * 108, 10108 * 10**4)
    assert tx.events["LiquidationCall"]["protocolFee"] == expected_fee
    assert p.pool.getUserShares(fund, weth)[0] == expected_fee
    if fee == 100_00:
        # The liquidator keeps only the repaid value: seized / 1.0108, rounded down.
        assert weth.balanceOf(liquidator) - 100_000 * E18 == seized - expected_fee
        assert (seized - expected_fee) * 10108 <= seized * 10**4


def test_no_bonus_means_no_fee(market, alice, liquidator, fund):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    set_config(p, "WETH", max_bonus=100_00, fee=100_00)
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    tx, _exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert tx.events["LiquidationCall"]["liquidationBonus"] == 100_00
    assert tx.events["LiquidationCall"]["protocolFee"] == 0
    assert p.pool.getUserShares(fund, weth)[0] == 0


def test_fee_shares_at_a_share_price_above_one(seasoned, alice, liquidator, fund):
    p = seasoned
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert exp.fee_shares == pm.div_up(exp.collateral_shares * 10_00 * (exp.bonus - 10**4),
                                       exp.bonus * 10**4)
    assert tx.events["LiquidationCall"]["protocolFee"] == pm.to_assets_down(
        exp.fee_shares, exp.coll.total_assets, exp.coll.total_supply_shares)


def _twin_positions(p, alice, bob):
    """Identical accounts: 100,000 USDC (6 decimals, LB 104% constant) against 44 WETH of debt."""
    _constant_bonus(p)
    for user in (alice, bob):
        open_position(p, user, {"USDC": 100_000 * E6}, {"WETH": 44 * E18})
    assert p.health_factor(alice) == p.health_factor(bob) < E18


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    total=strategy("uint256", min_value=10**15, max_value=15 * E18),
    split_ppm=strategy("uint256", min_value=1, max_value=999_999),
)
def test_splitting_a_liquidation_never_pays_the_liquidator_more(twins, alice, bob, liquidator,
                                                                 total, split_ppm):
    """alice is liquidated for `total` WETH at once, her twin bob in two calls of the same total.
    Per call the seized collateral rounds down and the fee up, so bob's liquidator gets no more
    USDC and the fund no less, for the same WETH paid. (brownie's `given` snapshots after the
    fixtures and reverts after each example.)"""
    p = twins
    usdc, weth = p.tokens["USDC"], p.tokens["WETH"]
    first = total * split_ppm // 10**6
    if first == 0:
        first = 1
    second = total - first

    balance0 = usdc.balanceOf(liquidator)
    fund0 = p.pool.getUserShares(p.fund, usdc)[0]
    tx, _ = liquidate_and_check(p, usdc, weth, alice, total, liquidator)
    whole_paid = tx.events["LiquidationCall"]["debtRepaid"]
    whole_received = usdc.balanceOf(liquidator) - balance0
    whole_fee = p.pool.getUserShares(p.fund, usdc)[0] - fund0

    balance1 = usdc.balanceOf(liquidator)
    fund1 = p.pool.getUserShares(p.fund, usdc)[0]
    tx1, _ = liquidate_and_check(p, usdc, weth, bob, first, liquidator)
    tx2, _ = liquidate_and_check(p, usdc, weth, bob, second, liquidator)
    split_paid = tx1.events["LiquidationCall"]["debtRepaid"] + \
        tx2.events["LiquidationCall"]["debtRepaid"]
    split_received = usdc.balanceOf(liquidator) - balance1
    split_fee = p.pool.getUserShares(p.fund, usdc)[0] - fund1

    assert split_paid == whole_paid == total
    assert split_received <= whole_received
    assert split_fee >= whole_fee
    assert split_received + split_fee <= whole_received + whole_fee


@pytest.fixture
def twins(market, alice, bob):
    _twin_positions(market, alice, bob)
    return market


@pytest.mark.parametrize("first", [1, 1_923_077, 10**12 + 7, 3_333_333_333_333_333_333])
def test_split_liquidation_pays_no_more_for_odd_splits(twins, alice, bob, liquidator, first):
    p = twins
    usdc, weth = p.tokens["USDC"], p.tokens["WETH"]
    total = 7_777_777_777_777_777_777
    b0 = usdc.balanceOf(liquidator)
    liquidate_and_check(p, usdc, weth, alice, total, liquidator)
    whole = usdc.balanceOf(liquidator) - b0
    b1 = usdc.balanceOf(liquidator)
    small = model_liquidation(p, usdc, weth, bob, first)
    if small.collateral_shares == 0 or small.debt_shares == 0:
        # Too small to seize a share: v2 refuses it instead of succeeding with nothing moved.
        with brownie.reverts("NothingToLiquidate: "):
            p.pool.liquidate(usdc, weth, bob, first, False, {"from": liquidator})
    else:
        liquidate_and_check(p, usdc, weth, bob, first, liquidator)
    liquidate_and_check(p, usdc, weth, bob, total - first, liquidator)
    assert usdc.balanceOf(liquidator) - b1 <= whole
