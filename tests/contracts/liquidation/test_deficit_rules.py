"""Who can stand in the way of a deficit (protocol.md v2 section 6). A deficit is never written off
for an account that still has collateral, the insurance fund's own included; a supply someone else
makes on a borrower's behalf does not enable collateral, so a 1-wei gift cannot keep the deficit
from being recognised; and where a clean-up liquidation is still needed (the borrower's own dust
collateral), the protocol fee does not take what the liquidator is owed."""

import brownie
from liquidation_helpers import (
    MAX,
    assert_no_zombie,
    liquidate_and_check,
    model_liquidation,
    open_position,
    reserve_state,
    set_config,
)

E18 = 10**18
WETH_AT_1000 = 1_000 * 10**8


def test_the_insurance_funds_own_liquidation_writes_off_only_what_no_collateral_backs(
    market, fund, liquidator
):
    """The review's case: the fee receiver holds 10 WETH against 16,000 DAI and WETH falls to
    $1,000. All 10 WETH are seized; it pays itself no fee, so nothing flows back, it is left with no
    collateral, and the remaining debt is written off (v1: the fee shares came back, its collateral
    flag stayed set, and 6,476.19 DAI was written off anyway)."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, fund, {"WETH": 10 * E18}, {"DAI": 16_000 * E18}, prices={"WETH": WETH_AT_1000})
    exp = model_liquidation(p, weth, dai, fund, MAX)
    assert exp.deficit and exp.fee_shares == 0 and exp.collateral_shares == 10 * E18

    tx = p.pool.liquidate(weth, dai, fund, MAX, False, {"from": liquidator})
    event = tx.events["LiquidationCall"]
    assert (event["debtRepaid"], event["collateralSeized"], event["protocolFee"]) == (
        exp.debt_to_repay, exp.collateral_seized, 0)
    assert tuple(p.pool.getUserShares(fund, weth)) == (0, 0)
    assert not p.pool.getUserPosition(fund, weth)[2], "no collateral flag without collateral"
    assert p.pool.getUserAccountData(fund)[5] == 0, "no debt left"
    assert [e["amount"] for e in tx.events["DeficitReported"]] == list(exp.remaining_debts.values())


def test_a_supply_on_someone_elses_behalf_does_not_enable_collateral(market, alice, bob):
    p = market
    wbtc = p.tokens["WBTC"]
    p.mint_and_approve(bob, "WBTC", 1)
    tx = p.pool.supply(wbtc, 1, alice, {"from": bob})
    assert "CollateralToggled" not in tx.events
    assert p.pool.getUserShares(alice, wbtc)[0] > 0
    assert not p.pool.getUserPosition(alice, wbtc)[2]
    # The owner of the shares may still enable them.
    p.pool.setUsingAsCollateral(wbtc, True, {"from": alice})
    assert p.pool.getUserPosition(alice, wbtc)[2]


def test_a_one_wei_gift_cannot_block_the_deficit(market, alice, bob, liquidator):
    """Alice: 10 WETH against 16,000 DAI at WETH $1,000. Bob gives her 1 wei of WBTC first; her full
    WETH liquidation still reports (and settles) the deficit, and leaves no debt (v1: the gift was
    active collateral, no deficit was reported and 6,476 DAI stayed owed against $0.0006)."""
    p = market
    weth, dai, wbtc = p.tokens["WETH"], p.tokens["DAI"], p.tokens["WBTC"]
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_000 * E18}, prices={"WETH": WETH_AT_1000})
    p.mint_and_approve(bob, "WBTC", 1)
    p.pool.supply(wbtc, 1, alice, {"from": bob})
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert exp.deficit and "DeficitReported" in tx.events
    assert p.pool.getUserAccountData(alice)[5] == 0, "no debt left"
    assert p.pool.getUserShares(alice, wbtc)[0] > 0, "the gift stays hers, as a plain supply"


def test_the_clean_up_of_the_borrowers_own_dust_collateral_pays_the_liquidator(market, alice, liquidator):
    """Where Alice enabled 1 wei of WBTC herself, the WETH liquidation leaves her that collateral and the
    debt; the clean-up liquidation seizes the single WBTC share, the fee does not take it (v1: the fee
    rounded up to the whole share and the liquidator paid for nothing), and the deficit follows."""
    p = market
    weth, dai, wbtc = p.tokens["WETH"], p.tokens["DAI"], p.tokens["WBTC"]
    p.supply(alice, "WBTC", 1)
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_000 * E18}, prices={"WETH": WETH_AT_1000})
    _tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert not exp.deficit, "the WBTC is still active collateral"

    wbtc_before = wbtc.balanceOf(liquidator)
    tx, exp = liquidate_and_check(p, wbtc, dai, alice, MAX, liquidator)
    received = wbtc.balanceOf(liquidator) - wbtc_before
    assert exp.collateral_shares == 1 and exp.fee_shares == 0 and received == 1
    r_wbtc, r_dai = reserve_state(p, wbtc), reserve_state(p, dai)
    received_value = received * r_wbtc.price * 10**10
    paid_value = exp.debt_to_repay * r_dai.price
    assert received_value >= paid_value, "the clean-up never costs the liquidator more than it pays"
    assert exp.deficit and "DeficitReported" in tx.events
    assert_no_zombie(p, alice)


def test_a_debt_to_cover_that_moves_nothing_reverts(market, alice, liquidator):
    """A 1-wei debtToCover repays no debt share (v1: the call succeeded and moved nothing)."""
    p = market
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    set_config(p, "USDC", base_rate=2_00)
    open_position(p, alice, {"WETH": 10 * E18}, {"USDC": 15_000 * 10**6}, prices={"WETH": 1_800 * 10**8})
    brownie.chain.sleep(3600)
    p.refresh_prices()
    assert p.pool.getReserveData(usdc).dict()["borrowIndex"] > 10**27
    with brownie.reverts("NothingToLiquidate: "):
        p.pool.liquidate(weth, usdc, alice, 1, False, {"from": liquidator})
    with brownie.reverts("NothingToLiquidate: "):
        p.pool.previewLiquidation(weth, usdc, alice, 1, {"from": liquidator})
