"""The borrow factor `maxLtv` (protocol.md v2 sections 2-3): borrow, withdraw of active collateral and
disabling collateral need the health factor computed with `maxLtv` to stay at or above 1, while
liquidation keeps using the collateral factor, so interest alone cannot make a maximum borrow
liquidatable at once. Offboarding a collateral goes through `maxLtv` = 0: the collateral factor
itself can reach 0 only while nobody supplies the reserve (Aave V3's rule), so no account is ever
left with debt, no liquidatable collateral and no recorded deficit."""

import brownie
import pytest
from brownie import chain
from liquidation_helpers import MAX, account_state, open_position, set_config

from tests.reference import protocol_math as pm

E18 = 10**18


def test_borrowing_stops_at_the_borrow_factor(market, alice):
    """10 WETH at $2,000, CF 80% and maxLtv 75%: at most $15,000 may be borrowed, where the
    liquidation health factor is still 16,000 / 15,000."""
    p = market
    set_config(p, "WETH", max_ltv=75_00)
    p.supply(alice, "WETH", 10 * E18)
    usdc = p.tokens["USDC"]
    with brownie.reverts(revert_pattern=r"HealthFactorBelowThreshold: .*"):
        p.pool.borrow(usdc, 15_000 * 10**6 + 1, {"from": alice})
    p.pool.borrow(usdc, 15_000 * 10**6, {"from": alice})
    assert p.health_factor(alice) == pm.health_factor(80_00 * 20_000 * 10**26, 15_000 * 10**26 * 10**27)


@pytest.mark.parametrize("max_ltv,liquidatable", [(80_00, True), (75_00, False)], ids=["v1", "v2"])
def test_a_maximum_borrow_is_not_liquidatable_a_second_later_from_interest(
    market, alice, liquidator, max_ltv, liquidatable
):
    """With a rate model running, a borrow up to the borrow factor (75%) leaves the liquidation health
    factor above 1 after interest accrues; without the gap (maxLtv = CF, the v1 rule) the same
    maximum borrow is liquidatable one second later."""
    p = market
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    set_config(p, "USDC", base_rate=20_00)
    set_config(p, "WETH", max_ltv=max_ltv)
    p.supply(alice, "WETH", 10 * E18)
    # The most the borrow factor allows, less 10 units for the rounding up of drawn shares.
    p.pool.borrow(usdc, 10 * 2_000 * max_ltv * 10**6 // 10**4 - 10, {"from": alice})
    chain.sleep(1)
    chain.mine()
    if liquidatable:
        assert p.health_factor(alice) < E18
        p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})
    else:
        assert p.health_factor(alice) > E18
        with brownie.reverts(revert_pattern=r"HealthFactorNotBelowThreshold: .*"):
            p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})


def test_withdraw_and_disabling_collateral_need_the_borrow_health_factor(market, alice):
    p = market
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    set_config(p, "WETH", max_ltv=75_00)
    p.supply(alice, "WETH", 10 * E18)
    p.pool.borrow(usdc, 14_000 * 10**6, {"from": alice})
    # $14,000 needs 14,000 / 0.75 = $18,666.67 of WETH: 1 WETH more than that may not leave.
    with brownie.reverts(revert_pattern=r"HealthFactorBelowThreshold: .*"):
        p.pool.withdraw(weth, E18, alice, {"from": alice})
    with brownie.reverts(revert_pattern=r"HealthFactorBelowThreshold: .*"):
        p.pool.setUsingAsCollateral(weth, False, {"from": alice})
    p.pool.withdraw(weth, E18 // 2, alice, {"from": alice})


def test_the_collateral_factor_cannot_reach_zero_while_the_reserve_is_supplied(market, alice):
    """The review's offboarding attack: the owner sets WETH's collateral factor to 0 with Alice
    borrowing against it; in the v1 pool she then withdrew all her WETH and kept the debt."""
    p = market
    weth = p.tokens["WETH"]
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 15_000 * E18})
    shares = p.pool.getReserveData(weth).dict()["totalSupplyShares"]
    with brownie.reverts(f"CollateralFactorInUse: {weth.address.lower()}, {shares}"):
        set_config(p, "WETH", collateral_factor=0, max_ltv=0)
    with brownie.reverts(revert_pattern=r"HealthFactorBelowThreshold: .*"):
        p.pool.withdraw(weth, MAX, alice, {"from": alice})


def test_offboarding_through_the_borrow_factor_keeps_liquidations_working(market, alice, liquidator):
    """maxLtv 0: Alice can neither borrow more nor take any WETH out, and when WETH falls she is
    liquidated through WETH exactly as before."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 15_000 * E18})
    set_config(p, "WETH", max_ltv=0)
    assert p.health_factor(alice) > E18, "the liquidation health factor does not change"
    with brownie.reverts("HealthFactorBelowThreshold: 0"):
        p.pool.borrow(dai, E18, {"from": alice})
    with brownie.reverts("HealthFactorBelowThreshold: 0"):
        p.pool.withdraw(weth, 1, alice, {"from": alice})
    p.set_price("WETH", 1_800 * 10**8)
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    assert tx.events["LiquidationCall"]["debtRepaid"] > 0
    assert account_state(p, alice).health_factor >= 105 * 10**16 - 10**6


def test_a_reserve_nobody_supplies_can_drop_its_collateral_factor_to_zero(market, supplier):
    p = market
    wbtc = p.tokens["WBTC"]
    p.pool.withdraw(wbtc, MAX, supplier, {"from": supplier})
    assert p.pool.getReserveData(wbtc).dict()["totalSupplyShares"] == 0
    set_config(p, "WBTC", collateral_factor=0, max_ltv=0)
    assert p.pool.getReserveData(wbtc).dict()["config"]["collateralFactor"] == 0
