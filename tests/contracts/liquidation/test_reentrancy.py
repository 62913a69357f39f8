"""Re-entrancy, protocol.md section 8: `liquidate` is `nonReentrant`. A token whose transfers call
a hook contract hands control to an attacker in the middle of a liquidation; every attempt to
re-enter the pool (liquidate, withdraw, borrow) reverts `ReentrancyGuardReentrantCall()`, while the
same attempts made outside a pool call go through, which shows the guard is what stops them."""

import pytest
from brownie import MockHookERC20, MockPriceFeed, ReentrantAttacker, web3
from liquidation_helpers import MAX, PRICE_MAX_AGE, cfg, liquidate_and_check, open_position

E18 = 10**18
LIQUIDATE, WITHDRAW, BORROW = 0, 1, 2
GUARD_SELECTOR = "0x" + web3.keccak(text="ReentrancyGuardReentrantCall()")[:4].hex().removeprefix(
    "0x")
assert GUARD_SELECTOR == "0x3ee5aeb5"


@pytest.fixture(scope="module")
def hook_market(market, supplier, liquidator, carol):
    """`market` with HOOK (18 decimals, $2,000, CF 80%, max bonus 105%) listed, deep HOOK
    liquidity, and an attacker holding HOOK collateral it could withdraw or borrow against."""
    p = market
    token = MockHookERC20.deploy("Hook Token", "HOOK", 18, {"from": p.deployer})
    feed = MockPriceFeed.deploy(8, 2_000 * 10**8, {"from": p.deployer})
    p.oracle.setFeed(token, feed, PRICE_MAX_AGE, {"from": p.deployer})
    p.pool.addReserve(token, cfg(80_00, 105_00, 10_00), {"from": p.deployer})
    p.tokens["HOOK"] = token
    p.feeds["HOOK"] = feed
    p.supply(supplier, "HOOK", 100_000 * E18)
    p.mint_and_approve(liquidator, "HOOK", 100_000 * E18)

    attacker = ReentrantAttacker.deploy(p.pool, {"from": p.deployer})
    p.mint_and_approve(carol, "HOOK", 10 * E18)
    p.pool.supply(token, 10 * E18, attacker, {"from": carol})
    attacker.enableCollateral(token, {"from": carol})  # a supply on its behalf is not collateral by itself
    return p, attacker


def _outcomes(attacker):
    return {name: tuple(attacker.outcome(i))
            for name, i in (("liquidate", LIQUIDATE), ("withdraw", WITHDRAW), ("borrow", BORROW))}


def _assert_all_blocked_by_the_guard(attacker):
    for name, (attempted, reverted, guard_error, selector) in _outcomes(attacker).items():
        assert attempted, f"{name} was attempted"
        assert reverted, f"re-entrant {name} reverted"
        assert guard_error, f"re-entrant {name} reverted ReentrancyGuardReentrantCall"
        assert selector == GUARD_SELECTOR


def test_hook_on_seized_collateral_cannot_reenter(hook_market, alice, liquidator):
    p, attacker = hook_market
    hook, dai = p.tokens["HOOK"], p.tokens["DAI"]
    open_position(p, alice, {"HOOK": 10 * E18}, {"DAI": 16_100 * E18})
    hook.setHook(attacker, {"from": p.deployer})
    attacker.arm(hook, dai, alice, hook, {"from": p.deployer})
    calls = attacker.hookCalls()

    tx, _exp = liquidate_and_check(p, hook, dai, alice, MAX, liquidator)
    assert attacker.hookCalls() == calls + 1, "the collateral transfer called the hook once"
    assert not attacker.armed()
    _assert_all_blocked_by_the_guard(attacker)
    # The worked example's numbers: the liquidation itself was not disturbed.
    assert tx.events["LiquidationCall"]["debtRepaid"] == 3749585681140205536543
    assert tx.events["LiquidationCall"]["collateralSeized"] == 1895040603248259878


def test_hook_on_repaid_debt_cannot_reenter(hook_market, alice, liquidator):
    p, attacker = hook_market
    hook, weth = p.tokens["HOOK"], p.tokens["WETH"]
    open_position(p, alice, {"WETH": 10 * E18}, {"HOOK": 8_05 * E18 // 100})
    p.set_price("HOOK", 2_000 * 10**8)
    hook.setHook(attacker, {"from": p.deployer})
    attacker.arm(weth, hook, alice, hook, {"from": p.deployer})

    _tx, _exp = liquidate_and_check(p, weth, hook, alice, MAX, liquidator)
    assert attacker.hookCalls() == 1, "the debt transferFrom called the hook once"
    _assert_all_blocked_by_the_guard(attacker)


def test_the_same_attempts_outside_a_pool_call_are_not_blocked(hook_market, alice, bob):
    """Control: a plain HOOK transfer between users triggers the attacker outside the pool. Its
    withdraw and borrow succeed, and its liquidate reverts for another reason than the guard."""
    p, attacker = hook_market
    hook, dai = p.tokens["HOOK"], p.tokens["DAI"]
    p.mint_and_approve(bob, "HOOK", E18)
    hook.setHook(attacker, {"from": p.deployer})
    attacker.arm(hook, dai, alice, hook, {"from": p.deployer})
    hook.transfer(alice, E18, {"from": bob})
    outcomes = _outcomes(attacker)
    assert outcomes["withdraw"][:3] == (True, False, False)
    assert outcomes["borrow"][:3] == (True, False, False)
    assert outcomes["liquidate"][:3] == (True, True, False)
    assert hook.balanceOf(attacker) == 2  # 1 wei withdrawn, 1 wei borrowed
