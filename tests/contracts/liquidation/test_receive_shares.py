"""receiveShares, protocol.md section 5 step 7: the liquidator may take the seized collateral as
supply shares instead of the underlying. That needs no pool cash, and is refused
(`CannotReceiveShares`) when the collateral reserve is frozen or has receiveSharesEnabled off."""

import brownie
import pytest
from liquidation_helpers import MAX, liquidate_and_check, open_position, set_config

E18 = 10**18


@pytest.fixture
def unhealthy(market, alice):
    """The worked example's account: 10 WETH, 16,100 DAI, HF 0.9938."""
    open_position(market, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    return market


def test_liquidator_receives_supply_shares(unhealthy, alice, liquidator, fund):
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    reserve_before = p.pool.getReserveData(weth)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator, receive_shares=True)
    # The worked example's numbers, kept in the pool as shares (share price 1).
    assert p.pool.getUserShares(liquidator, weth)[0] == 1893015826980444167
    assert p.pool.getUserShares(fund, weth)[0] == 2024776267815711
    assert weth.balanceOf(liquidator) == 100_000 * E18
    reserve_after = p.pool.getReserveData(weth)
    assert reserve_after[5] == reserve_before[5], "no cash leaves the pool"
    assert reserve_after[6] == reserve_before[6], "shares only change hands"
    assert tx.events["LiquidationCall"]["receiveShares"] is True


def test_received_shares_are_withdrawable(unhealthy, alice, liquidator):
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.liquidate(weth, dai, alice, MAX, True, {"from": liquidator})
    p.pool.withdraw(weth, MAX, liquidator, {"from": liquidator})
    assert weth.balanceOf(liquidator) == 100_000 * E18 + 1893015826980444167
    assert p.pool.getUserShares(liquidator, weth)[0] == 0


def test_receiving_shares_needs_no_pool_cash(unhealthy, alice, carol, liquidator):
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.supply(carol, "WBTC", 10_000 * 10**8)
    cash = p.pool.getReserveData(weth)[5]
    p.borrow(carol, "WETH", cash)
    assert p.pool.getReserveData(weth)[5] == 0
    expected_out = 1893015826980444167
    with brownie.reverts(f"InsufficientLiquidity: {expected_out}, 0"):
        p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    with brownie.reverts(f"InsufficientLiquidity: {expected_out}, 0"):
        p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator})
    p.pool.liquidate(weth, dai, alice, MAX, True, {"from": liquidator})
    assert p.pool.getUserShares(liquidator, weth)[0] == expected_out


def test_frozen_collateral_refuses_shares_but_pays_the_underlying(unhealthy, alice, liquidator):
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    set_config(p, "WETH", frozen=True)
    with brownie.reverts("CannotReceiveShares: "):
        p.pool.liquidate(weth, dai, alice, MAX, True, {"from": liquidator})
    liquidate_and_check(p, weth, dai, alice, MAX, liquidator, receive_shares=False)


def test_receive_shares_disabled_refuses_shares_but_pays_the_underlying(unhealthy, alice,
                                                                         liquidator):
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    set_config(p, "WETH", receive_shares=False)
    with brownie.reverts("CannotReceiveShares: "):
        p.pool.liquidate(weth, dai, alice, MAX, True, {"from": liquidator})
    liquidate_and_check(p, weth, dai, alice, MAX, liquidator, receive_shares=False)


def test_frozen_debt_reserve_does_not_refuse_shares(unhealthy, alice, liquidator):
    """Only the collateral reserve's flags matter for receiving shares."""
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    set_config(p, "DAI", collateral_factor=0, max_bonus=104_00, frozen=True,
               receive_shares=False)
    liquidate_and_check(p, weth, dai, alice, MAX, liquidator, receive_shares=True)


def test_receiving_shares_at_a_share_price_above_one(seasoned, alice, liquidator, fund):
    p = seasoned
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    open_position(p, alice, {"WETH": 7 * E18}, {"USDC": 11_000 * 10**6})
    p.set_price("WETH", 1_900 * 10**8)
    _tx, exp = liquidate_and_check(p, weth, usdc, alice, MAX, liquidator, receive_shares=True)
    assert exp.coll.total_assets > exp.coll.total_supply_shares
    assert p.pool.getUserShares(liquidator, weth)[0] == exp.liquidator_shares
