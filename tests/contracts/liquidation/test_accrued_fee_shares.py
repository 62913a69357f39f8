"""Protocol fee shares wait in the reserve (`accruedFeeShares`) instead of being written to the fee
receiver's position by every liquidation; protocol.md section 5 step 6 still holds to the wei:
they are the fee receiver's supply shares in every view and every operation. The fee receiver
withdraws, supplies, enables collateral, is liquidated and settles deficits with them exactly as
if they sat in its position; a new fee receiver does not inherit them; and when the 88-bit field
would overflow they are credited to the position at once."""

import pytest
from brownie import MockERC20, MockPriceFeed
from liquidation_helpers import (
    MAX,
    PRICE_MAX_AGE,
    cfg,
    liquidate_and_check,
    model_liquidation,
    open_position,
    reserve_state,
)

from tests.reference import protocol_math as pm

E18 = 10**18


@pytest.fixture
def weth_fee(market, alice, liquidator, fund):
    """The worked example (10 WETH against 16,100 DAI, liquidated for max): the fee receiver, which
    held no WETH before, is owed the fee shares."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    assert tuple(p.pool.getUserShares(fund, weth)) == (0, 0)
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    _tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert exp.fee_shares == 2024776267815711  # the worked example's fee, at share price 1
    return exp.fee_shares


def test_every_view_counts_the_fee_shares(market, weth_fee, fund):
    p = market
    weth = p.tokens["WETH"]
    assert tuple(p.pool.getUserShares(fund, weth)) == (weth_fee, 0)
    r = reserve_state(p, weth)
    assert tuple(p.pool.getUserPosition(fund, weth)) == (r.to_assets_down(weth_fee), 0, False)
    assert p.lens.getPositions([fund])[1][0][0] == weth_fee  # WETH is reserve id 0


def test_the_fee_receiver_enables_them_as_collateral_and_borrows_against_them(market, weth_fee,
                                                                              fund):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    tx = p.pool.setUsingAsCollateral(weth, True, {"from": fund})
    assert tx.events["CollateralToggled"]["enabled"] is True
    value = pm.to_value(reserve_state(p, weth).to_assets_down(weth_fee), 18, 2_000 * 10**8)
    data = p.pool.getUserAccountData(fund)
    assert data[0] == value and data[4] == 1
    p.pool.borrow(dai, 3 * E18, {"from": fund})  # $3 against ~$4 of WETH at 80%
    assert p.pool.getUserAccountData(fund)[2] == pm.health_factor(80_00 * value, 3 * E18 * 10**8
                                                                  * 10**27)


def test_the_fee_receiver_withdraws_them(market, weth_fee, fund):
    p = market
    weth = p.tokens["WETH"]
    expected = reserve_state(p, weth).to_assets_down(weth_fee)
    tx = p.pool.withdraw(weth, MAX, fund, {"from": fund})
    assert tx.return_value == expected
    assert tx.events["Withdraw"]["shares"] == weth_fee
    assert weth.balanceOf(fund) == expected
    assert tuple(p.pool.getUserShares(fund, weth)) == (0, 0)


def test_a_supply_to_the_fee_receiver_on_top_of_them_is_not_a_first_supply(market, weth_fee, fund,
                                                                            bob):
    """As when the fee shares sat in the position: no automatic collateral for a second supply."""
    p = market
    weth = p.tokens["WETH"]
    p.mint_and_approve(bob, "WETH", E18)
    tx = p.pool.supply(weth, E18, fund, {"from": bob})
    assert "CollateralToggled" not in tx.events
    assert p.pool.getUserShares(fund, weth)[0] == weth_fee + tx.return_value
    assert p.pool.getUserConfig(fund) == 0


def test_a_new_fee_receiver_does_not_inherit_them(market, weth_fee, fund, bob, carol, liquidator):
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setFeeReceiver(bob, {"from": p.deployer})
    assert p.pool.getUserShares(fund, weth)[0] == weth_fee
    assert p.pool.getUserShares(bob, weth)[0] == 0
    # The old receiver still withdraws them; the next fee goes to the new one.
    assert p.pool.withdraw(weth, MAX, fund, {"from": fund}).events["Withdraw"]["shares"] == weth_fee
    open_position(p, carol, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    exp = model_liquidation(p, weth, dai, carol, MAX)
    p.pool.liquidate(weth, dai, carol, MAX, False, {"from": liquidator})
    assert exp.fee_shares > 0
    assert p.pool.getUserShares(bob, weth)[0] == exp.fee_shares
    assert p.pool.getUserShares(fund, weth)[0] == 0


def test_liquidating_the_fee_receiver_counts_them(market, weth_fee, fund, liquidator):
    """The fee receiver borrows against its WETH (fee shares plus a supply) and is liquidated: the
    amounts are the model's, with the fee shares in its collateral, and its own new fee shares go
    straight into its position."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.supply(fund, "WETH", 5 * E18)
    p.pool.setUsingAsCollateral(weth, True, {"from": fund})
    p.set_price("WETH", 2_000_000 * 10**8)
    p.pool.borrow(dai, 8_100 * E18, {"from": fund})
    p.set_price("WETH", 2_000 * 10**8)
    shares_before = p.pool.getUserShares(fund, weth)[0]
    exp = model_liquidation(p, weth, dai, fund, MAX)
    assert exp.health_factor < E18 and exp.account.supplies[str(weth)] == shares_before

    tx = p.pool.liquidate(weth, dai, fund, MAX, False, {"from": liquidator})
    event = tx.events["LiquidationCall"]
    assert (event["debtRepaid"], event["collateralSeized"], event["protocolFee"]) == (
        exp.debt_to_repay, exp.collateral_seized, exp.protocol_fee)
    assert p.pool.getUserShares(fund, weth)[0] == \
        shares_before - exp.collateral_shares + exp.fee_shares
    assert p.pool.getUserShares(fund, dai)[1] == exp.account.borrows[str(dai)] - exp.debt_shares


def test_the_deficit_settlement_burns_them_first(market, alice, bob, liquidator, fund):
    """Fee shares accrued on DAI (a DAI-collateral liquidation) pay a DAI deficit."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.updateReserveConfig(dai, cfg(80_00, 105_00, 100_00), {"from": p.deployer})
    open_position(p, bob, {"DAI": 20_000 * E18}, {"WETH": 8 * E18})
    p.set_price("WETH", 2_200 * 10**8)
    _tx, exp = liquidate_and_check(p, dai, weth, bob, MAX, liquidator)
    fee_shares = exp.fee_shares
    assert fee_shares > 0 and p.pool.getUserShares(fund, dai)[0] == fee_shares
    p.set_price("WETH", 2_000 * 10**8)

    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})
    open_position(p, alice, {"WETH": E18}, {"DAI": 2_500 * E18})
    # v2: the liquidation that reports the DAI deficit settles it; the fund's fee shares pay first.
    tx, _exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    outstanding = tx.events["DeficitReported"][0]["amount"]
    event = tx.events["DeficitCovered"][0]
    burned = event["sharesBurned"]
    # The reserve as the settlement saw it: the loss and the burned shares were still in it.
    r = reserve_state(p, dai)
    total_assets, total_shares = r.total_assets + event["amount"], r.total_supply_shares + burned
    if "DeficitSocialized" in tx.events:
        total_assets += tx.events["DeficitSocialized"][0]["amount"]
    covered = min(outstanding, pm.to_assets_down(fee_shares, total_assets, total_shares))
    assert event["coveredBy"] == fund and event["amount"] == covered > 0
    assert burned == min(pm.to_shares_up(covered, total_assets, total_shares), fee_shares)
    assert p.pool.getUserShares(fund, dai)[0] == fee_shares - burned
    assert p.pool.deficit(dai) == 0


def test_more_fee_shares_than_88_bits_are_credited_at_once(market, alice, liquidator, fund):
    """A cheap 18-decimal token ($1e-8 each, 2e11 of them as collateral): one liquidation owes
    the fee receiver more than 2**88 shares, which go to its position directly, to the wei."""
    p = market
    meme = MockERC20.deploy("Meme", "MEME", 18, {"from": p.deployer})
    feed = MockPriceFeed.deploy(8, 1, {"from": p.deployer})
    p.oracle.setFeed(meme, feed, PRICE_MAX_AGE, {"from": p.deployer})
    p.pool.addReserve(meme, cfg(80_00, 105_00, 100_00), {"from": p.deployer})
    meme.mint(alice, 2 * 10**29, {"from": alice})  # $2,000
    meme.approve(p.pool, MAX, {"from": alice})
    p.pool.supply(meme, 2 * 10**29, alice, {"from": alice})
    feed.setPrice(1_000, {"from": p.deployer})
    p.pool.borrow(p.tokens["DAI"], 1_700 * E18, {"from": alice})
    feed.setPrice(1, {"from": p.deployer})

    _tx, exp = liquidate_and_check(p, meme, p.tokens["DAI"], alice, MAX, liquidator)
    assert exp.fee_shares > 2**88
    assert p.pool.getUserShares(fund, meme)[0] == exp.fee_shares
    assert p.pool.withdraw(meme, MAX, fund, {"from": fund}).events["Withdraw"]["shares"] == \
        exp.fee_shares
