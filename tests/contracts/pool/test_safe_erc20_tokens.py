"""Tokens that do not follow ERC20 to the letter, handled through SafeERC20: a token returning
`false` instead of reverting makes the operation revert `SafeERC20FailedOperation`, and a USDT-
style token that returns nothing works."""

import brownie
import pytest
from brownie import MockNoReturnERC20, MockPriceFeed, MockReturnsFalseERC20

MAX = 2**256 - 1
CONFIG = (70_00, 105_00, 10_00, True, False, False, 0, 0, 0, 80_00, 70_00)


def list_token(protocol, token, deployer):
    feed = MockPriceFeed.deploy(8, 10**8, {"from": deployer})
    protocol.oracle.setFeed(token, feed, 3600, {"from": deployer})
    protocol.pool.addReserve(token, CONFIG, {"from": deployer})
    return token


@pytest.fixture(scope="module")
def returns_false(protocol, deployer):
    return list_token(
        protocol, MockReturnsFalseERC20.deploy("False", "FLS", 18, {"from": deployer}), deployer
    )


@pytest.fixture(scope="module")
def no_return(protocol, deployer):
    return list_token(
        protocol, MockNoReturnERC20.deploy("Tether-like", "USDT", 6, {"from": deployer}), deployer
    )


# Returns false


def test_the_returns_false_mock_returns_false_instead_of_reverting(returns_false, alice, bob):
    assert returns_false.transfer.call(bob, 1, {"from": alice}) is False
    assert returns_false.transferFrom.call(alice, bob, 0, {"from": bob}) is True
    returns_false.mint(alice, 10, {"from": alice})
    assert returns_false.transferFrom.call(alice, bob, 1, {"from": bob}) is False  # no allowance


def test_a_transfer_from_that_returns_false_reverts_the_supply(protocol, returns_false, alice):
    returns_false.mint(alice, 10**18, {"from": alice})  # a balance but no allowance
    with brownie.reverts(f"SafeERC20FailedOperation: {returns_false.address.lower()}"):
        protocol.pool.supply(returns_false, 10**18, alice, {"from": alice})
    assert tuple(protocol.pool.getUserShares(alice, returns_false)) == (0, 0)
    assert protocol.pool.getReserveData(returns_false).dict()["cash"] == 0


def test_a_transfer_that_returns_false_reverts_the_withdrawal_and_keeps_the_books(
    protocol, returns_false, alice
):
    returns_false.mint(alice, 10**18, {"from": alice})
    returns_false.approve(protocol.pool, MAX, {"from": alice})
    protocol.pool.supply(returns_false, 10**18, alice, {"from": alice})
    assert returns_false.balanceOf(protocol.pool) == 10**18

    returns_false.setFailTransfers(True, {"from": alice})
    with brownie.reverts(f"SafeERC20FailedOperation: {returns_false.address.lower()}"):
        protocol.pool.withdraw(returns_false, MAX, alice, {"from": alice})
    assert tuple(protocol.pool.getUserShares(alice, returns_false)) == (10**18, 0)
    returns_false.setFailTransfers(False, {"from": alice})
    assert protocol.pool.withdraw(returns_false, MAX, alice, {"from": alice}).return_value == 10**18
    assert returns_false.balanceOf(alice) == 10**18


def test_a_repay_that_returns_false_reverts_and_leaves_the_debt(
    protocol, returns_false, supplier, alice
):
    returns_false.mint(supplier, 10**21, {"from": supplier})
    returns_false.approve(protocol.pool, MAX, {"from": supplier})
    protocol.pool.supply(returns_false, 10**21, supplier, {"from": supplier})
    protocol.supply(alice, "WETH", 10**18)
    protocol.pool.borrow(returns_false, 10**20, {"from": alice})
    # alice approves nothing: transferFrom returns false.
    with brownie.reverts(f"SafeERC20FailedOperation: {returns_false.address.lower()}"):
        protocol.pool.repay(returns_false, MAX, alice, {"from": alice})
    assert protocol.pool.getUserPosition(alice, returns_false)[1] == 10**20


# No return value


def test_a_token_without_return_values_supports_every_operation(
    protocol, no_return, supplier, alice
):
    pool = protocol.pool
    for user in (supplier, alice):
        no_return.mint(user, 10_000 * 10**6, {"from": user})
        no_return.approve(pool, MAX, {"from": user})
    assert (
        pool.supply(no_return, 10_000 * 10**6, supplier, {"from": supplier}).return_value
        == 10_000 * 10**6
    )
    assert no_return.balanceOf(pool) == 10_000 * 10**6

    protocol.supply(alice, "WETH", 10**18)
    pool.borrow(no_return, 1_000 * 10**6, {"from": alice})
    assert no_return.balanceOf(alice) == 11_000 * 10**6
    assert pool.repay(no_return, MAX, alice, {"from": alice}).return_value == 1_000 * 10**6
    assert no_return.balanceOf(alice) == 10_000 * 10**6

    assert (
        pool.withdraw(no_return, MAX, supplier, {"from": supplier}).return_value == 10_000 * 10**6
    )
    assert no_return.balanceOf(supplier) == 10_000 * 10**6
    assert no_return.balanceOf(pool) == 0


def test_a_failing_token_without_return_values_reverts_with_its_own_reason(
    protocol, no_return, alice
):
    no_return.mint(alice, 10**6, {"from": alice})
    with brownie.reverts("allowance"):
        protocol.pool.supply(no_return, 10**6, alice, {"from": alice})
    no_return.approve(protocol.pool, MAX, {"from": alice})
    with brownie.reverts("balance"):
        protocol.pool.supply(no_return, 2 * 10**6, alice, {"from": alice})
