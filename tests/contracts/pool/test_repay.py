"""repay(asset, amount, onBehalfOf): drawn shares removed rounded down; an amount at or above the
debt (or type(uint256).max) repays all of it and charges exactly the debt."""

import brownie
import pytest

from tests.reference import protocol_math as pm

MAX = 2**256 - 1
RAY = pm.RAY


@pytest.fixture
def debtor(liquidity, alice):
    """Alice: 1 WETH of collateral, 1,000 USDC of debt."""
    liquidity.supply(alice, "WETH", 10**18)
    liquidity.borrow(alice, "USDC", 1000 * 10**6)
    liquidity.tokens["USDC"].approve(liquidity.pool, MAX, {"from": alice})
    return liquidity


def test_a_partial_repay_removes_drawn_shares_rounded_down_and_emits_repay(debtor, alice):
    pool, usdc = debtor.pool, debtor.tokens["USDC"]
    cash_before = pool.getReserveData(usdc).dict()["cash"]
    tx = pool.repay(usdc, 300 * 10**6, alice, {"from": alice})

    shares = pm.mul_div_down(300 * 10**6, RAY, RAY)
    assert tx.return_value == 300 * 10**6
    assert dict(tx.events["Repay"]) == {
        "asset": usdc.address,
        "payer": alice.address,
        "onBehalfOf": alice.address,
        "assets": 300 * 10**6,
        "shares": shares,
    }
    assert usdc.balanceOf(alice) == 700 * 10**6
    assert tuple(pool.getUserShares(alice, usdc)) == (0, 1000 * 10**6 - shares)
    assert pool.getUserPosition(alice, usdc)[1] == 700 * 10**6
    assert pool.getReserveData(usdc).dict()["cash"] == cash_before + 300 * 10**6
    assert pool.getUserAccountData(alice)["borrowCount"] == 1


def test_repaying_max_repays_exactly_the_debt_and_clears_the_borrowing_flag(debtor, alice):
    pool, usdc = debtor.pool, debtor.tokens["USDC"]
    usdc.mint(alice, 50 * 10**6, {"from": alice})
    tx = pool.repay(usdc, MAX, alice, {"from": alice})
    assert tx.return_value == 1000 * 10**6
    assert tx.events["Repay"]["assets"] == 1000 * 10**6
    assert tx.events["Repay"]["shares"] == 1000 * 10**6
    assert usdc.balanceOf(alice) == 50 * 10**6
    assert tuple(pool.getUserShares(alice, usdc)) == (0, 0)
    assert pool.getUserConfig(alice) == 2  # only the WETH collateral bit is left
    account = pool.getUserAccountData(alice).dict()
    assert (account["borrowCount"], account["totalDebtValue"], account["healthFactor"]) == (
        0,
        0,
        MAX,
    )


def test_an_amount_above_the_debt_charges_only_the_debt(debtor, alice):
    pool, usdc = debtor.pool, debtor.tokens["USDC"]
    usdc.mint(alice, 1000 * 10**6, {"from": alice})
    tx = pool.repay(usdc, 1500 * 10**6, alice, {"from": alice})
    assert tx.return_value == 1000 * 10**6
    assert usdc.balanceOf(alice) == 1000 * 10**6
    assert pool.getUserShares(alice, usdc)[1] == 0


def test_anyone_may_repay_on_behalf_of_a_borrower(debtor, alice, bob):
    pool, usdc = debtor.pool, debtor.tokens["USDC"]
    debtor.mint_and_approve(bob, "USDC", 2000 * 10**6)
    tx = pool.repay(usdc, MAX, alice, {"from": bob})
    assert tx.events["Repay"]["payer"] == bob
    assert tx.events["Repay"]["onBehalfOf"] == alice
    assert usdc.balanceOf(bob) == 1000 * 10**6
    assert usdc.balanceOf(alice) == 1000 * 10**6  # the borrowed cash stays with alice
    assert pool.getUserShares(alice, usdc)[1] == 0


def test_after_a_full_repay_all_collateral_may_be_withdrawn(debtor, alice):
    pool = debtor.pool
    pool.repay(debtor.tokens["USDC"], MAX, alice, {"from": alice})
    pool.withdraw(debtor.tokens["WETH"], MAX, alice, {"from": alice})
    assert pool.getUserConfig(alice) == 0


def test_repaying_without_debt_reverts_no_debt(debtor, bob):
    debtor.mint_and_approve(bob, "USDC", 10**6)
    with brownie.reverts("NoDebt: "):
        debtor.pool.repay(debtor.tokens["USDC"], 10**6, bob, {"from": bob})
    with brownie.reverts("NoDebt: "):
        debtor.pool.repay(debtor.tokens["WETH"], MAX, bob, {"from": bob})


def test_repaying_zero_reverts_invalid_amount(debtor, alice):
    with brownie.reverts("InvalidAmount: "):
        debtor.pool.repay(debtor.tokens["USDC"], 0, alice, {"from": alice})


def test_repaying_an_unlisted_asset_reverts(debtor, alice):
    with brownie.reverts(f"ReserveNotListed: {alice.address.lower()}"):
        debtor.pool.repay(alice, 1, alice, {"from": alice})


def test_repay_needs_no_price(debtor, alice, clock):
    clock.sleep(7200)
    clock.mine()
    tx = debtor.pool.repay(debtor.tokens["USDC"], MAX, alice, {"from": alice})
    assert tx.return_value == 1000 * 10**6
