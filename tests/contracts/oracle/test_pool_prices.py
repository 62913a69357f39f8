"""The pool reads every price through the oracle: a bad price for an asset an account uses makes
its health factor unreadable, and so blocks borrowing and collateral withdrawals (protocol.md 3
and 7)."""

import brownie
import pytest
from brownie import MockPriceFeed, chain, web3
from oracle_helpers import min_accepted

WETH_PRICE = 2000 * 10**8


@pytest.fixture
def borrower(protocol, supplier, alice):
    """Alice: 10 WETH of collateral, 5,000 USDC of debt. The supplier provides USDC and DAI."""
    protocol.supply(supplier, "USDC", 1_000_000 * 10**6)
    protocol.supply(supplier, "DAI", 1_000_000 * 10**18)
    protocol.supply(alice, "WETH", 10 * 10**18)
    protocol.borrow(alice, "USDC", 5000 * 10**6)
    return protocol


def weth_lower(p) -> str:
    return p.tokens["WETH"].address.lower()


def test_a_stale_collateral_price_makes_the_account_data_revert(borrower, alice):
    p = borrower
    updated_at = p.feeds["WETH"].latestRoundData()[3]
    web3.provider.make_request("evm_setNextBlockTimestamp", [updated_at + 3601])
    chain.mine()
    with brownie.reverts(f"StalePrice: {weth_lower(p)}, {updated_at}, 3600"):
        p.pool.getUserAccountData(alice)
    with brownie.reverts(f"StalePrice: {weth_lower(p)}, {updated_at}, 3600"):
        p.pool.getHealthFactors([alice])


@pytest.mark.parametrize("answer", [0, -1])
def test_a_non_positive_collateral_price_makes_the_account_data_revert(borrower, alice, answer):
    p = borrower
    p.set_price("WETH", answer)
    with brownie.reverts(f"InvalidPrice: {weth_lower(p)}, {answer}"):
        p.pool.getUserAccountData(alice)


def test_an_incomplete_round_on_the_debt_asset_makes_the_account_data_revert(borrower, alice):
    p = borrower
    p.feeds["USDC"].setRoundData(10**8, 0, {"from": p.deployer})
    with brownie.reverts(f"InvalidPrice: {p.tokens['USDC'].address.lower()}, {10**8}"):
        p.pool.getUserAccountData(alice)


def test_a_price_deviation_blocks_borrowing_and_withdrawing_collateral(borrower, alice, deployer):
    p = borrower
    weth = p.tokens["WETH"]
    second = MockPriceFeed.deploy(8, WETH_PRICE * 90 // 100, {"from": deployer})
    p.oracle.setSecondaryFeed(weth, second, 3600, 500, {"from": deployer})
    message = f"PriceDeviation: {weth_lower(p)}, {WETH_PRICE}, {WETH_PRICE * 90 // 100}"
    with brownie.reverts(message):
        p.pool.getUserAccountData(alice)
    with brownie.reverts(message):
        p.pool.borrow(p.tokens["USDC"], 10**6, {"from": alice})
    with brownie.reverts(message):
        p.pool.withdraw(weth, 10**18, alice, {"from": alice})
    # v2 (symmetric deviation): exactly at the 5% bound is WETH_PRICE / 1.05 rounded up, no longer
    # WETH_PRICE * 0.95 (5.26% below the primary, refused now).
    second.setPrice(min_accepted(WETH_PRICE, 500), {"from": deployer})
    p.pool.borrow(p.tokens["USDC"], 10**6, {"from": alice})


def test_accounts_that_do_not_use_the_asset_are_unaffected(borrower, bob):
    p = borrower
    p.supply(bob, "WBTC", 10**8)
    p.borrow(bob, "DAI", 1000 * 10**18)
    p.set_price("WETH", 0)
    assert p.pool.getUserAccountData(bob)["borrowCount"] == 1
    p.borrow(bob, "DAI", 10**18)


def test_the_reserve_view_reports_price_zero_instead_of_reverting(borrower):
    p = borrower
    weth = p.tokens["WETH"]
    assert p.pool.getReserveData(weth).dict()["price"] == WETH_PRICE
    p.set_price("WETH", -5)
    assert p.pool.getReserveData(weth).dict()["price"] == 0
