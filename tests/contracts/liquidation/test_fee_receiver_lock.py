"""The fee receiver shares its storage slot with the re-entrancy status (LendingPool's `_state`,
`DataTypes.PoolState`), and `setFeeReceiver` refuses to run while a guarded call holds the lock.
An owner that re-enters through a token hook in the middle of a liquidation gets
`ReentrancyGuardReentrantCall()`, the liquidation still pays its fee to the fee receiver it started
with, and outside a pool call the same owner changes the fee receiver normally."""

import pytest
from brownie import MockHookERC20, MockPriceFeed, ReentrantOwner, web3
from liquidation_helpers import MAX, PRICE_MAX_AGE, cfg, liquidate_and_check, open_position

E18 = 10**18
GUARD_SELECTOR = "0x" + web3.keccak(text="ReentrancyGuardReentrantCall()")[:4].hex().removeprefix(
    "0x")


@pytest.fixture(scope="module")
def owned_hook_market(market, supplier, liquidator):
    """`market` with HOOK listed (18 decimals, $2,000, CF 80%, max bonus 105%) and the pool owned by
    a `ReentrantOwner` that HOOK transfers call back."""
    p = market
    token = MockHookERC20.deploy("Hook Token", "HOOK", 18, {"from": p.deployer})
    feed = MockPriceFeed.deploy(8, 2_000 * 10**8, {"from": p.deployer})
    p.oracle.setFeed(token, feed, PRICE_MAX_AGE, {"from": p.deployer})
    p.pool.addReserve(token, cfg(80_00, 105_00, 10_00), {"from": p.deployer})
    p.tokens["HOOK"] = token
    p.feeds["HOOK"] = feed
    p.supply(supplier, "HOOK", 100_000 * E18)
    p.mint_and_approve(liquidator, "HOOK", 100_000 * E18)
    owner = ReentrantOwner.deploy(p.pool, {"from": p.deployer})
    p.pool.transferOwnership(owner, {"from": p.deployer})
    owner.acceptOwnership({"from": p.deployer})
    assert p.pool.owner() == owner
    token.setHook(owner, {"from": p.deployer})
    return p, owner


def test_fee_receiver_cannot_change_inside_a_liquidation(owned_hook_market, alice, bob, liquidator):
    p, owner = owned_hook_market
    hook, dai = p.tokens["HOOK"], p.tokens["DAI"]
    fund = p.pool.feeReceiver()
    open_position(p, alice, {"HOOK": 10 * E18}, {"DAI": 16_100 * E18})
    owner.arm(bob, {"from": p.deployer})

    tx, _exp = liquidate_and_check(p, hook, dai, alice, MAX, liquidator)
    assert owner.attempted() and owner.reverted()
    assert owner.selector() == GUARD_SELECTOR
    assert p.pool.feeReceiver() == fund
    assert "FeeReceiverUpdated" not in tx.events
    assert p.pool.getUserShares(fund, hook)[0] > 0, "the fee went to the fee receiver of the call"
    assert p.pool.getUserShares(bob, hook)[0] == 0


def test_the_lock_is_released_after_the_liquidation(owned_hook_market, alice, bob, liquidator):
    p, owner = owned_hook_market
    hook, dai = p.tokens["HOOK"], p.tokens["DAI"]
    open_position(p, alice, {"HOOK": 10 * E18}, {"DAI": 16_100 * E18})
    liquidate_and_check(p, hook, dai, alice, MAX, liquidator)

    tx = owner.setFeeReceiver(bob, {"from": p.deployer})
    assert p.pool.feeReceiver() == bob
    assert tx.events["FeeReceiverUpdated"]["newReceiver"] == bob
    # Guarded calls still work after the fee receiver changed (the lock bit is clear).
    p.supply(alice, "DAI", 10 * E18)
