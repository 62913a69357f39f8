"""Liquidation bonus, protocol.md section 4: a Dutch auction on the health factor, from the minimum
bonus just below HF 1 to the maximum at `healthFactorForMaxBonus`, fixed for the whole call."""

import brownie
import pytest
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from liquidation_helpers import MAX, WAD, open_position

from tests.reference import protocol_math as pm

HF_FOR_MAX = 7 * 10**17
BONUS_FACTOR = 20_00


def test_health_factor_just_below_one_gives_the_minimum_bonus(market):
    weth = market.tokens["WETH"]
    # minLB = floor((10500 - 1e4) * 20% ) + 1e4 = 10100; the slope term floors to 0.
    assert market.pool.getLiquidationBonus(weth, WAD - 1) == 10100
    assert market.pool.getLiquidationBonus(market.tokens["WBTC"], WAD - 1) == 10160
    assert market.pool.getLiquidationBonus(market.tokens["USDC"], WAD - 1) == 10080


@pytest.mark.parametrize("hf", [HF_FOR_MAX, HF_FOR_MAX - 1, 5 * 10**17, 1, 0])
def test_health_factor_at_or_below_hf_for_max_bonus_gives_the_maximum_bonus(market, hf):
    assert market.pool.getLiquidationBonus(market.tokens["WETH"], hf) == 105_00
    assert market.pool.getLiquidationBonus(market.tokens["WBTC"], hf) == 108_00
    assert market.pool.getLiquidationBonus(market.tokens["USDC"], hf) == 104_00


def test_bonus_just_above_hf_for_max_bonus_is_one_below_the_maximum(market):
    # 10100 + floor(400 * (0.3e18 - 1) / 0.3e18) = 10100 + 399
    assert market.pool.getLiquidationBonus(market.tokens["WETH"], HF_FOR_MAX + 1) == 10499


@pytest.mark.parametrize("hf", [0, HF_FOR_MAX, 8 * 10**17, 999_999_999_999_999_999, WAD, MAX])
def test_bonus_factor_of_100_percent_gives_a_constant_bonus(market, hf):
    market.pool.setLiquidationConfig(105 * 10**16, HF_FOR_MAX, 100_00, {"from": market.deployer})
    assert market.pool.getLiquidationBonus(market.tokens["WETH"], hf) == 105_00
    assert market.pool.getLiquidationBonus(market.tokens["WBTC"], hf) == 108_00


def test_bonus_factor_of_zero_starts_the_auction_at_no_bonus(market):
    market.pool.setLiquidationConfig(105 * 10**16, HF_FOR_MAX, 0, {"from": market.deployer})
    weth = market.tokens["WETH"]
    assert market.pool.getLiquidationBonus(weth, WAD - 1) == 100_00
    # 10000 + floor(500 * 0.15 / 0.3) = 10250
    assert market.pool.getLiquidationBonus(weth, 85 * 10**16) == 102_50


@pytest.mark.parametrize(
    "symbol,hf,expected",
    [
        ("WETH", 85 * 10**16, 103_00),  # 10100 + 400 * 0.5
        ("WBTC", 85 * 10**16, 104_80),  # 10160 + 640 * 0.5
        ("USDC", 85 * 10**16, 102_40),  # 10080 + 320 * 0.5
        ("WETH", 993788819875776397, 101_08),  # the worked example
        ("WETH", 9 * 10**17, 102_33),  # 10100 + floor(400 / 3)
        ("WBTC", 712345678901234567, 107_73),  # 10160 + floor(640 * 0.2876543 / 0.3)
    ],
)
def test_bonus_between_the_ends_is_linear_in_the_health_factor(market, symbol, hf, expected):
    assert market.pool.getLiquidationBonus(market.tokens[symbol], hf) == expected
    max_bonus = market.pool.getReserveData(market.tokens[symbol])[0][1]
    assert pm.liquidation_bonus(max_bonus, hf, HF_FOR_MAX, BONUS_FACTOR) == expected


def test_health_factor_at_or_above_one_gives_the_minimum_bonus(market):
    # Not liquidatable; the NatSpec documents the minimum bonus for the view.
    weth = market.tokens["WETH"]
    assert market.pool.getLiquidationBonus(weth, WAD) == 10100
    assert market.pool.getLiquidationBonus(weth, MAX) == 10100


def test_bonus_of_an_unlisted_reserve_reverts(market):
    with brownie.reverts(f"ReserveNotListed: {market.deployer.address.lower()}"):
        market.pool.getLiquidationBonus(market.deployer, WAD - 1)


@settings(max_examples=20, suppress_health_check=[HealthCheck.data_too_large])
@given(
    hf=st.integers(min_value=0, max_value=WAD + 10**17),
    hf_for_max=st.integers(min_value=0, max_value=WAD - 1),
    bonus_factor=st.integers(min_value=0, max_value=100_00),
    max_bonus=st.integers(min_value=100_00, max_value=112_00),
)
def test_bonus_matches_the_model_for_any_configuration(market, hf, hf_for_max, bonus_factor,
                                                       max_bonus):
    p = market
    p.pool.setLiquidationConfig(105 * 10**16, hf_for_max, bonus_factor, {"from": p.deployer})
    # CF 80% keeps ceil(maxLB * CF / 1e4) < 1e4 for every max bonus drawn.
    p.pool.updateReserveConfig(p.tokens["WETH"], (80_00, max_bonus, 10_00, True, False, False,
                                                  0, 0, 0, 80_00, 80_00), {"from": p.deployer})
    assert p.pool.getLiquidationBonus(p.tokens["WETH"], hf) == \
        pm.liquidation_bonus(max_bonus, hf, hf_for_max, bonus_factor)


@pytest.mark.parametrize("price", [1_900 * 10**8, 1_700 * 10**8, 1_500 * 10**8, 1_300 * 10**8])
def test_liquidation_uses_the_bonus_of_the_health_factor_before_it(market, alice, liquidator,
                                                                  price):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10 * 10**18}, {"DAI": 16_000 * 10**18}, {"WETH": price})
    hf = p.health_factor(alice)
    expected = pm.liquidation_bonus(105_00, hf, HF_FOR_MAX, BONUS_FACTOR)
    assert p.pool.getLiquidationBonus(weth, hf) == expected
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    assert tx.events["LiquidationCall"]["liquidationBonus"] == expected
    assert tx.events["LiquidationCall"]["healthFactorBefore"] == hf
