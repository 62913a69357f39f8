"""Deficit reporting, protocol.md section 6, over the full table: collateral reserve emptied or not
x one or several active collaterals x debt reserve emptied or not x one or several borrows.

A deficit is reported exactly when the liquidation empties the user's only active collateral and
debt remains (on the liquidated reserve or another one). Every remaining debt is then written off
with one `DeficitReported` per reserve, and no account is left with debt and no collateral.

All cases liquidate WETH ($2,000, CF 80%) for DAI with a constant 105% bonus (bonus factor 100%),
so that "both emptied" can be hit exactly: 500 DAI seizes exactly 0.2625 WETH."""

import pytest
from liquidation_helpers import (
    MAX,
    account_state,
    assert_no_zombie,
    liquidate_and_check,
    open_position,
)

E18, E8, E6 = 10**18, 10**8, 10**6

# (collateral emptied, several collaterals, debt reserve emptied, several borrows):
#     (collateral, debt)
CASES = {
    (False, False, False, False): ({"WETH": 10 * E18}, {"DAI": 16_100 * E18}),
    (False, False, False, True): ({"WETH": 10 * E18}, {"DAI": 15_000 * E18, "USDC": 1_100 * E6}),
    (False, True, False, False): ({"WETH": 10 * E18, "WBTC": E8 // 10}, {"DAI": 20_600 * E18}),
    (False, True, False, True): ({"WETH": 10 * E18, "WBTC": E8 // 10},
                                 {"DAI": 19_500 * E18, "USDC": 1_100 * E6}),
    (False, False, True, False): ({"WETH": 3 * E18 // 10}, {"DAI": 500 * E18}),
    (False, False, True, True): ({"WETH": 10 * E18}, {"DAI": 500 * E18, "USDC": 15_600 * E6}),
    (False, True, True, False): ({"WETH": 3 * E18 // 10, "WBTC": 20_000}, {"DAI": 500 * E18}),
    (False, True, True, True): ({"WETH": 10 * E18, "WBTC": E8 // 10},
                                {"DAI": 500 * E18, "USDC": 20_100 * E6}),
    (True, False, False, False): ({"WETH": E18}, {"DAI": 2_500 * E18}),
    (True, False, False, True): ({"WETH": E18}, {"DAI": 2_500 * E18, "USDC": 100 * E6}),
    (True, True, False, False): ({"WETH": E18, "WBTC": E8 // 10}, {"DAI": 7_000 * E18}),
    (True, True, False, True): ({"WETH": E18, "WBTC": E8 // 10},
                                {"DAI": 6_900 * E18, "USDC": 100 * E6}),
    (True, False, True, False): ({"WETH": 2625 * E18 // 10_000}, {"DAI": 500 * E18}),
    (True, False, True, True): ({"WETH": 2625 * E18 // 10_000},
                                {"DAI": 500 * E18, "USDC": 100 * E6}),
    (True, True, True, False): ({"WETH": 2625 * E18 // 10_000, "WBTC": 100_000},
                                {"DAI": 500 * E18}),
    (True, True, True, True): ({"WETH": 2625 * E18 // 10_000, "WBTC": 100_000},
                               {"DAI": 500 * E18, "USDC": 100 * E6}),
}


def _case_id(case):
    c, m, e, b = case
    return "-".join([
        "coll_emptied" if c else "coll_left",
        "multi_coll" if m else "one_coll",
        "debt_emptied" if e else "debt_left",
        "multi_borrow" if b else "one_borrow",
    ])


@pytest.mark.parametrize("case", list(CASES), ids=[_case_id(c) for c in CASES])
def test_deficit_is_reported_iff_the_only_collateral_is_emptied_with_debt_left(
        market, alice, supplier, liquidator, case):
    coll_emptied, several_collaterals, debt_emptied, several_borrows = case
    expect_deficit = coll_emptied and not several_collaterals and (
        not debt_emptied or several_borrows)
    p = market
    weth, dai, usdc = p.tokens["WETH"], p.tokens["DAI"], p.tokens["USDC"]
    p.pool.setLiquidationConfig(105 * 10**16, 7 * 10**17, 100_00, {"from": p.deployer})
    collateral, debt = CASES[case]
    open_position(p, alice, collateral, debt)

    before = account_state(p, alice)
    assert (len(before.active_collaterals) > 1) == several_collaterals
    assert (len(before.borrows) > 1) == several_borrows
    dai_debt = p.pool.getUserPosition(alice, dai)[1]
    supplier_dai = p.pool.getUserPosition(supplier, dai)[0]
    supplier_usdc = p.pool.getUserPosition(supplier, usdc)[0]

    preview = p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator})
    assert preview[6] == expect_deficit, "previewLiquidation's deficit flag"
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)

    # The case is what its label says.
    assert (p.pool.getUserShares(alice, weth)[0] == 0) == coll_emptied
    assert (tx.events["LiquidationCall"]["debtRepaid"] == dai_debt) == debt_emptied
    assert exp.deficit == expect_deficit

    reported = {str(e["asset"]): e["amount"] for e in tx.events["DeficitReported"]} \
        if "DeficitReported" in tx.events else {}
    if expect_deficit:
        expected = {}
        if not debt_emptied:
            expected[str(dai)] = dai_debt - tx.events["LiquidationCall"]["debtRepaid"]
        if several_borrows:
            expected[str(usdc)] = debt["USDC"]
        assert reported == expected
        for event in tx.events["DeficitReported"]:
            assert event["user"] == alice
        # v2: settled in the same call (the fund holds none of these reserves: all socialised).
        assert p.pool.deficit(dai) == 0 and p.pool.deficit(usdc) == 0
        socialized = {str(e["asset"]): e["amount"] for e in tx.events["DeficitSocialized"]}
        assert socialized == expected
        assert p.pool.getUserAccountData(alice)[5] == 0, "every remaining debt written off"
        assert p.pool.getUserConfig(alice) & 0x5555 == 0, "no borrowing bit left"
    else:
        assert reported == {}
        assert p.pool.deficit(dai) == 0 and p.pool.deficit(usdc) == 0
    assert_no_zombie(p, alice)
    # A written-off debt is in the share price at once: the supplier of each reserve it hit loses.
    for token, before_ in ((dai, supplier_dai), (usdc, supplier_usdc)):
        if str(token) in reported:
            assert p.pool.getUserPosition(supplier, token)[0] < before_
        else:
            assert p.pool.getUserPosition(supplier, token)[0] == before_


def test_supplies_that_are_not_active_collateral_do_not_prevent_a_deficit(market, alice,
                                                                          liquidator):
    """DAI (collateral factor 0) and WBTC disabled as collateral still leave WETH as the only
    active collateral."""
    p = market
    weth, dai, wbtc = p.tokens["WETH"], p.tokens["DAI"], p.tokens["WBTC"]
    p.supply(alice, "DAI", 5_000 * E18)
    p.supply(alice, "WBTC", E8)
    p.pool.setUsingAsCollateral(wbtc, False, {"from": alice})
    open_position(p, alice, {"WETH": E18}, {"DAI": 2_500 * E18})
    assert account_state(p, alice).active_collaterals == [str(weth)]
    tx, exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert exp.deficit
    repaid = tx.events["LiquidationCall"]["debtRepaid"]
    assert tx.events["DeficitReported"][0]["amount"] == 2_500 * E18 - repaid
    assert p.pool.getUserShares(alice, dai)[0] > 0 and p.pool.getUserShares(alice, wbtc)[0] > 0
    assert p.pool.getUserAccountData(alice)[5] == 0


def test_a_written_off_debt_is_in_the_share_price_from_the_reporting_transaction(
    market, alice, supplier, liquidator
):
    """v2 section 6 (v1 kept the share price until settleDeficit, so a supplier could leave first)."""
    p = market
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    open_position(p, alice, {"WETH": E18}, {"DAI": 2_500 * E18})
    reserve_before = p.pool.getReserveData(dai)
    tx, _exp = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    reserve_after = p.pool.getReserveData(dai)
    repaid = tx.events["LiquidationCall"]["debtRepaid"]
    written_off = 2_500 * E18 - repaid
    assert tx.events["DeficitSocialized"][0]["amount"] == written_off  # the fund holds no DAI
    assert reserve_after[10] == 0  # deficit
    assert reserve_after[5] == reserve_before[5] + repaid  # cash
    assert reserve_after[8] == reserve_before[8] - written_off, "totalAddedAssets fell by the loss"
    assert reserve_after[6] == reserve_before[6], "supply shares unchanged"
