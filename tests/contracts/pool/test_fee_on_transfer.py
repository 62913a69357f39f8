"""Fee-on-transfer tokens are not supported: after every inbound transfer the pool checks that its
balance rose by the amount credited, and reverts `InboundTransferShortfall` otherwise."""

import brownie
import pytest
from brownie import MockFeeOnTransferERC20, MockPriceFeed

MAX = 2**256 - 1
UNIT = 10**18


@pytest.fixture(scope="module")
def fot(protocol, deployer, supplier, alice):
    """A fee-on-transfer token at $1, CF 50%, listed while its fee is 0; supplier and alice hold
    it."""
    token = MockFeeOnTransferERC20.deploy("Fee token", "FOT", 18, 0, {"from": deployer})
    feed = MockPriceFeed.deploy(8, 10**8, {"from": deployer})
    protocol.oracle.setFeed(token, feed, 3600, {"from": deployer})
    protocol.pool.addReserve(
        token, (50_00, 105_00, 10_00, True, False, False, 0, 0, 0, 80_00, 50_00), {"from": deployer}
    )
    for user in (supplier, alice):
        token.mint(user, 1_000_000 * UNIT, {"from": user})
        token.approve(protocol.pool, MAX, {"from": user})
    return token


def test_the_mock_burns_its_fee_on_every_transfer(fot, alice, bob):
    fot.setFeeBps(1_00, {"from": alice})
    fot.transfer(bob, 1000 * UNIT, {"from": alice})
    assert fot.balanceOf(bob) == 990 * UNIT
    assert fot.balanceOf(alice) == 999_000 * UNIT


def test_supplying_a_token_that_takes_a_fee_reverts_inbound_transfer_shortfall(
    protocol, fot, supplier
):
    fot.setFeeBps(1_00, {"from": supplier})
    with brownie.reverts(
        f"InboundTransferShortfall: {fot.address.lower()}, {990 * UNIT}, {1000 * UNIT}"
    ):
        protocol.pool.supply(fot, 1000 * UNIT, supplier, {"from": supplier})
    assert fot.balanceOf(protocol.pool) == 0
    assert tuple(protocol.pool.getUserShares(supplier, fot)) == (0, 0)


def test_without_a_fee_the_same_token_is_supplied_normally(protocol, fot, supplier):
    tx = protocol.pool.supply(fot, 1000 * UNIT, supplier, {"from": supplier})
    assert tx.return_value == 1000 * UNIT
    assert fot.balanceOf(protocol.pool) == 1000 * UNIT


@pytest.fixture
def fot_debt(protocol, fot, supplier, alice):
    """Fee-free: the supplier supplies 10,000 FOT, alice borrows 1,000 against WETH. Then the fee
    switches on (1%)."""
    protocol.pool.supply(fot, 10_000 * UNIT, supplier, {"from": supplier})
    protocol.supply(alice, "WETH", 10 * UNIT)
    protocol.pool.borrow(fot, 1000 * UNIT, {"from": alice})
    fot.setFeeBps(1_00, {"from": alice})
    return protocol


@pytest.mark.parametrize("amount", [500 * UNIT, MAX])
def test_repaying_with_a_token_that_takes_a_fee_reverts_inbound_transfer_shortfall(
    fot_debt, fot, alice, amount
):
    pool = fot_debt.pool
    repaid = min(amount, 1000 * UNIT)
    with brownie.reverts(
        f"InboundTransferShortfall: {fot.address.lower()}, {repaid * 99 // 100}, {repaid}"
    ):
        pool.repay(fot, amount, alice, {"from": alice})
    assert pool.getUserPosition(alice, fot)[1] == 1000 * UNIT


def test_a_donated_surplus_does_not_let_a_shortfall_through(protocol, fot, supplier, bob):
    """A supply credits exactly what arrived or reverts, whatever already sits in the pool (v1 checked
    balance >= cash, so 100 donated tokens let a 1% fee-on-transfer supply of 1,000 be credited in full
    although 990 arrived)."""
    fot.mint(bob, 100 * UNIT, {"from": bob})
    fot.transfer(protocol.pool, 100 * UNIT, {"from": bob})  # fee still 0
    fot.setFeeBps(1_00, {"from": bob})
    with brownie.reverts(
        f"InboundTransferShortfall: {fot.address.lower()}, {990 * UNIT}, {1000 * UNIT}"
    ):
        protocol.pool.supply(fot, 1000 * UNIT, supplier, {"from": supplier})
    assert fot.balanceOf(protocol.pool) == 100 * UNIT
    assert protocol.pool.getReserveData(fot).dict()["cash"] == 0
