"""Settling a deficit, protocol.md section 6: the fee receiver's supply shares pay first (the insurance
fund), then the rest is written off against all suppliers, whose share price drops. v2: the
liquidation that reports a deficit settles it at once, so no supplier escapes the loss by withdrawing
first; `settleDeficit` settles what a paused reserve kept recorded, and `coverDeficit` lets anyone pay
a recorded deficit in the underlying."""

import brownie
import pytest
from liquidation_helpers import MAX, liquidate_and_check, open_position, reserve_state

from tests.reference import protocol_math as pm

E18 = 10**18


@pytest.fixture
def dai_deficit(market, alice, liquidator):
    """Alice owes 2,000 USDC and 2,500 DAI against 1 WETH ($2,000). DAI is paused when her WETH is
    seized for the USDC debt: the USDC write-off is settled by that liquidation, the 2,500 DAI stays
    recorded as deficit until settleDeficit (section 6, v2). The owner then unpauses DAI."""
    p = market
    dai = p.tokens["DAI"]
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})
    open_position(p, alice, {"WETH": E18}, {"USDC": 2_000 * 10**6, "DAI": 2_500 * E18})
    p.pool.setReservePaused(dai, True, {"from": p.guardian})
    tx = p.pool.liquidate(p.tokens["WETH"], p.tokens["USDC"], alice, MAX, False, {"from": liquidator})
    assert {str(e["asset"]) for e in tx.events["DeficitReported"]} == {str(p.tokens["USDC"]), str(dai)}
    assert p.pool.deficit(p.tokens["USDC"]) == 0, "settled by the liquidation"
    p.pool.setReservePaused(dai, False, {"from": p.deployer})
    deficit = p.pool.deficit(dai)
    assert deficit == 2_500 * E18
    return deficit


def _expected_settlement(p, fund_shares, deficit):
    """(covered, burned, socialized) by the model of section 6."""
    r = reserve_state(p, p.tokens["DAI"])
    a, s = r.total_assets, r.total_supply_shares
    covered = min(deficit, pm.to_assets_down(fund_shares, a, s))
    burned = min(pm.to_shares_up(covered, a, s), fund_shares) if covered else 0
    return covered, burned, deficit - covered, a, s


def test_settlement_burns_the_fee_receivers_shares_first(market, dai_deficit, fund, supplier,
                                                          bob):
    p = market
    dai = p.tokens["DAI"]
    p.supply(fund, "DAI", 10_000 * E18)
    fund_shares = p.pool.getUserShares(fund, dai)[0]
    supplier_before = p.pool.getUserPosition(supplier, dai)[0]
    covered, burned, socialized, _a, s = _expected_settlement(p, fund_shares, dai_deficit)
    assert covered == dai_deficit and socialized == 0

    tx = p.pool.settleDeficit(dai, {"from": bob})  # permissionless
    assert tx.events["DeficitCovered"][0]["asset"] == dai
    assert tx.events["DeficitCovered"][0]["coveredBy"] == fund
    assert tx.events["DeficitCovered"][0]["amount"] == dai_deficit
    assert tx.events["DeficitCovered"][0]["sharesBurned"] == burned == dai_deficit  # price 1
    assert "DeficitSocialized" not in tx.events
    assert p.pool.deficit(dai) == 0
    assert p.pool.getUserShares(fund, dai)[0] == fund_shares - burned
    assert p.pool.getReserveData(dai)[6] == s - burned
    assert p.pool.getUserPosition(supplier, dai)[0] == supplier_before, "suppliers untouched"


def test_settlement_socializes_what_the_fee_receiver_cannot_cover(market, dai_deficit, fund,
                                                                   supplier):
    p = market
    dai = p.tokens["DAI"]
    p.supply(fund, "DAI", 100 * E18)
    fund_shares = p.pool.getUserShares(fund, dai)[0]
    supplier_shares = p.pool.getUserShares(supplier, dai)[0]
    supplier_before = p.pool.getUserPosition(supplier, dai)[0]
    covered, burned, socialized, a, s = _expected_settlement(p, fund_shares, dai_deficit)
    assert covered == 100 * E18 and burned == fund_shares

    tx = p.pool.settleDeficit(dai, {"from": fund})
    assert tx.events["DeficitCovered"][0]["amount"] == 100 * E18
    assert tx.events["DeficitCovered"][0]["sharesBurned"] == fund_shares
    assert tx.events["DeficitSocialized"][0]["asset"] == dai
    assert tx.events["DeficitSocialized"][0]["amount"] == socialized == dai_deficit - 100 * E18
    assert p.pool.getUserShares(fund, dai)[0] == 0
    assert p.pool.deficit(dai) == 0
    # totalAddedAssets falls by the whole deficit, supply shares by the fund's: the price drops.
    data = p.pool.getReserveData(dai)
    assert data[8] == a - dai_deficit and data[6] == s - fund_shares
    supplier_after = p.pool.getUserPosition(supplier, dai)[0]
    assert supplier_after == pm.to_assets_down(supplier_shares, a - dai_deficit, s - fund_shares)
    assert supplier_after < supplier_before


def test_settlement_without_fee_receiver_shares_socializes_everything(market, dai_deficit,
                                                                       supplier, alice):
    p = market
    dai = p.tokens["DAI"]
    supplier_shares = p.pool.getUserShares(supplier, dai)[0]
    r = reserve_state(p, dai)
    tx = p.pool.settleDeficit(dai, {"from": alice})
    assert "DeficitCovered" not in tx.events
    assert tx.events["DeficitSocialized"][0]["amount"] == dai_deficit
    assert p.pool.getUserPosition(supplier, dai)[0] == pm.to_assets_down(
        supplier_shares, r.total_assets - dai_deficit, r.total_supply_shares)
    assert p.pool.getUserPosition(supplier, dai)[0] < 500_000_000 * E18


def test_fee_receiver_shares_of_another_reserve_do_not_pay(market, dai_deficit, fund):
    """The liquidation credited WETH fee shares to the fund; the DAI deficit ignores them."""
    p = market
    weth_fee_shares = p.pool.getUserShares(fund, p.tokens["WETH"])[0]
    assert weth_fee_shares > 0
    tx = p.pool.settleDeficit(p.tokens["DAI"], {"from": fund})
    assert "DeficitCovered" not in tx.events
    assert p.pool.getUserShares(fund, p.tokens["WETH"])[0] == weth_fee_shares


def test_settle_reverts_without_a_deficit(market, dai_deficit):
    p = market
    with brownie.reverts("NoDeficit: "):
        p.pool.settleDeficit(p.tokens["USDC"], {"from": p.deployer})
    p.pool.settleDeficit(p.tokens["DAI"], {"from": p.deployer})
    with brownie.reverts("NoDeficit: "):
        p.pool.settleDeficit(p.tokens["DAI"], {"from": p.deployer})


def test_cover_deficit_pays_the_underlying(market, dai_deficit, bob, supplier):
    p = market
    dai = p.tokens["DAI"]
    p.mint_and_approve(bob, "DAI", 1_000 * E18)
    supplier_before = p.pool.getUserPosition(supplier, dai)[0]
    cash_before = p.pool.getReserveData(dai)[5]
    tx = p.pool.coverDeficit(dai, 100 * E18, {"from": bob})
    assert tx.return_value == 100 * E18
    event = tx.events["DeficitCovered"][0]
    assert (event["asset"], event["coveredBy"], event["amount"], event["sharesBurned"]) == \
        (dai, bob, 100 * E18, 0)
    assert dai.balanceOf(bob) == 900 * E18
    assert p.pool.deficit(dai) == dai_deficit - 100 * E18
    assert p.pool.getReserveData(dai)[5] == cash_before + 100 * E18
    assert p.pool.getUserPosition(supplier, dai)[0] == supplier_before


def test_cover_deficit_takes_no_more_than_the_deficit(market, dai_deficit, bob):
    p = market
    dai = p.tokens["DAI"]
    p.mint_and_approve(bob, "DAI", 1_000 * E18)
    p.mint_and_approve(bob, "DAI", 2_000 * E18)
    tx = p.pool.coverDeficit(dai, 3_000 * E18, {"from": bob})
    assert tx.return_value == dai_deficit
    assert dai.balanceOf(bob) == 3_000 * E18 - dai_deficit
    assert p.pool.deficit(dai) == 0
    with brownie.reverts("NoDeficit: "):
        p.pool.coverDeficit(dai, 1, {"from": bob})
    with brownie.reverts("NoDeficit: "):
        p.pool.settleDeficit(dai, {"from": bob})


def test_cover_deficit_reverts_without_a_deficit(market, bob):
    p = market
    p.mint_and_approve(bob, "DAI", 1_000 * E18)
    with brownie.reverts("NoDeficit: "):
        p.pool.coverDeficit(p.tokens["DAI"], 1_000 * E18, {"from": bob})


def test_the_liquidation_that_reports_a_deficit_settles_it_at_once(market, alice, fund, liquidator):
    """The fund's DAI shares pay first, in the liquidation's own transaction; the reserve keeps no
    deficit."""
    p = market
    dai = p.tokens["DAI"]
    p.supply(fund, "DAI", 10_000 * E18)
    fund_shares = p.pool.getUserShares(fund, dai)[0]
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})
    open_position(p, alice, {"WETH": E18}, {"DAI": 2_500 * E18})
    tx, exp = liquidate_and_check(p, p.tokens["WETH"], dai, alice, MAX, liquidator)
    written_off = exp.remaining_debts[str(dai)]
    assert written_off == 2_500 * E18 - 1904761904761904761905 == 595238095238095238095
    covered = tx.events["DeficitCovered"][0]
    assert (covered["asset"], covered["coveredBy"], covered["amount"]) == (dai, fund, written_off)
    assert "DeficitSocialized" not in tx.events
    assert p.pool.deficit(dai) == 0
    assert p.pool.getUserShares(fund, dai)[0] == fund_shares - covered["sharesBurned"]
