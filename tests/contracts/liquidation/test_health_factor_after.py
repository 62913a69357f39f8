"""Health factor after a liquidation, protocol.md section 5 step 1: repaying the whole target
amount leaves the health factor at or above the target; otherwise the liquidation still raises it
unless bonus x CF exceeds the health factor, in which case it lowers it (and T exceeds the debt,
so a cap binds)."""

import pytest
from liquidation_helpers import (
    MAX,
    WAD,
    account_state,
    debt_for_health_factor,
    liquidate_and_check,
    model_liquidation,
    open_position,
    set_config,
    set_health_factor,
)

from tests.reference import protocol_math as pm

E18, E6 = 10**18, 10**6
TARGET = 105 * 10**16

STATES = [
    # collateral, debt, symbol whose price sets the HF, HF
    ({"WETH": 10 * E18}, "DAI", "WETH", 99 * 10**16),
    ({"WETH": 10 * E18}, "USDC", "WETH", 91 * 10**16),
    ({"WBTC": 10**8}, "DAI", "WBTC", 95 * 10**16),
    ({"USDC": 80_000 * E6}, "WETH", "USDC", 97 * 10**16),
    ({"WETH": 10 * E18, "USDC": 10_000 * E6}, "WBTC", "WETH", 93 * 10**16),
]


@pytest.mark.parametrize("collateral,debt,mover,hf", STATES)
def test_repaying_the_whole_target_reaches_the_target(seasoned, alice, liquidator, collateral,
                                                      debt, mover, hf):
    p = seasoned
    open_position(p, alice, collateral, {debt: debt_for_health_factor(p, collateral, debt, WAD)})
    set_health_factor(p, alice, mover, hf)
    coll = p.tokens[mover]
    _tx, exp = liquidate_and_check(p, coll, p.tokens[debt], alice, MAX, liquidator)
    assert exp.debt_shares == pm.div_up(exp.debt_to_target_ray, exp.debt.index), "target repaid"
    after = p.health_factor(alice)
    assert after == account_state(p, alice).health_factor
    assert after >= TARGET
    assert after - TARGET < 10**12, "and not much above it"


@pytest.mark.parametrize("target", [WAD, 12 * 10**17, 2 * WAD])
def test_any_target_health_factor_is_reached(market, alice, liquidator, target):
    p = market
    p.pool.setLiquidationConfig(target, 7 * 10**17, 20_00, {"from": p.deployer})
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    _tx, _exp = liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
    assert p.health_factor(alice) >= target


@pytest.mark.parametrize("debt_to_cover", [10 * E18, 1_000 * E18, 3_000 * E18])
def test_partial_liquidation_raises_the_health_factor_when_bonus_times_cf_is_below_it(
        market, alice, liquidator, debt_to_cover):
    p = market
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    before = p.health_factor(alice)
    exp = model_liquidation(p, p.tokens["WETH"], p.tokens["DAI"], alice, debt_to_cover)
    assert exp.bonus * 80_00 * 10**10 < before
    liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, debt_to_cover, liquidator)
    assert before < p.health_factor(alice) < TARGET


@pytest.fixture
def high_penalty(market):
    """WETH with CF 90% and max bonus 110% (ceil(11000 * 9000 / 1e4) = 9900 < 1e4): at HF 0.8 the
    bonus is 10733 and LB x CF = 0.966 > HF."""
    set_config(market, "WETH", collateral_factor=90_00, max_bonus=110_00)
    return market


def test_liquidation_lowers_the_health_factor_when_bonus_times_cf_exceeds_it(high_penalty,
                                                                             alice, liquidator):
    p = high_penalty
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 18_000 * E18})
    set_health_factor(p, alice, "WETH", 8 * 10**17)
    before = p.health_factor(alice)
    exp = model_liquidation(p, p.tokens["WETH"], p.tokens["DAI"], alice, 2_000 * E18)
    assert exp.bonus == 107_33
    assert exp.bonus * 90_00 * 10**10 > before
    assert exp.debt_to_target_ray > 18_000 * E18 * 10**27, "T exceeds the whole debt"
    liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, 2_000 * E18, liquidator)
    assert p.health_factor(alice) < before


def test_liquidating_a_whole_reserve_debt_lowers_the_health_factor_too(high_penalty, alice,
                                                                      liquidator):
    """With two borrows the DAI reserve debt caps the repayment; the HF still falls."""
    p = high_penalty
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 5_000 * E18, "USDC": 13_000 * E6})
    set_health_factor(p, alice, "WETH", 8 * 10**17)
    before = p.health_factor(alice)
    tx, _exp = liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 5_000 * E18
    assert p.health_factor(alice) < before


def test_same_state_with_a_normal_bonus_raises_the_health_factor(market, alice, liquidator):
    """Control for the two tests above: CF 80%, max bonus 105% (LB x CF = 0.84 > 0.8 still, so
    use HF 0.9 where 10233 x 0.8 = 0.819 < 0.9)."""
    p = market
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 5_000 * E18, "USDC": 13_000 * E6})
    set_health_factor(p, alice, "WETH", 9 * 10**17)
    before = p.health_factor(alice)
    liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
    assert p.health_factor(alice) > before
