"""A first depositor cannot inflate the share price by donating (protocol.md section 2): the pool
keeps its cash on its books, so tokens sent straight to it count for nobody, and the virtual
offset of 1e6 shares and assets keeps an empty reserve's price at exactly 1."""

import brownie
from brownie.test import given
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.reference import protocol_math as pm

MAX = 2**256 - 1
V = pm.VIRTUAL_SHARES


def test_a_donation_after_a_one_unit_deposit_does_not_move_the_books(protocol, bob):
    p = protocol
    pool, usdc = p.pool, p.tokens["USDC"]
    attacker = bob
    tx = p.supply(attacker, "USDC", 1)
    assert tx.return_value == 1  # 1 * (0 + V) / (0 + V)
    p.mint_and_approve(attacker, "USDC", 1_000_000 * 10**6)
    usdc.transfer(pool, 1_000_000 * 10**6, {"from": attacker})

    assert usdc.balanceOf(pool) == 1_000_000 * 10**6 + 1
    data = pool.getReserveData(usdc).dict()
    assert (data["cash"], data["totalAddedAssets"], data["totalSupplyShares"]) == (1, 1, 1)
    assert pool.getUserPosition(attacker, usdc)[0] == 1


def test_the_victim_of_an_attempted_inflation_gets_fair_shares_and_the_attacker_loses_the_donation(
    protocol, alice, bob
):
    p = protocol
    pool, usdc = p.pool, p.tokens["USDC"]
    attacker, victim = bob, alice
    p.supply(attacker, "USDC", 1)
    p.mint_and_approve(attacker, "USDC", 10_000 * 10**6)
    usdc.transfer(pool, 10_000 * 10**6, {"from": attacker})

    # The classic attack needs the victim's deposit to round to (almost) zero shares.
    tx = p.supply(victim, "USDC", 5_000 * 10**6)
    assert tx.return_value == pm.to_shares_down(5_000 * 10**6, 1, 1) == 5_000 * 10**6

    assert pool.withdraw(usdc, MAX, victim, {"from": victim}).return_value == 5_000 * 10**6
    assert pool.withdraw(usdc, MAX, attacker, {"from": attacker}).return_value == 1
    assert usdc.balanceOf(attacker) == 1  # of the 10,000.000001 USDC spent
    assert usdc.balanceOf(victim) == 5_000 * 10**6
    # The donation is stranded in the pool, outside every reserve's books.
    assert usdc.balanceOf(pool) == 10_000 * 10**6
    assert pool.getReserveData(usdc).dict()["cash"] == 0


def test_a_donation_is_not_lent_out(protocol, alice, bob):
    p = protocol
    pool, usdc = p.pool, p.tokens["USDC"]
    p.mint_and_approve(bob, "USDC", 1_000 * 10**6)
    usdc.transfer(pool, 1_000 * 10**6, {"from": bob})
    p.supply(alice, "WETH", 10**18)
    # The pool holds 1,000 USDC, but none of it is cash of the reserve.
    with brownie.reverts("InsufficientLiquidity: 1, 0"):
        pool.borrow(usdc, 1, {"from": alice})


@settings(max_examples=15, suppress_health_check=[HealthCheck.data_too_large])
@given(
    first=st.integers(1, 10**12),
    donation=st.integers(0, 10**15),
    victim_amount=st.integers(1, 10**12),
)
def test_after_any_first_deposit_and_donation_a_victim_redeems_exactly_what_they_supplied(
    protocol, alice, bob, first, donation, victim_amount
):
    p = protocol
    pool, usdc = p.pool, p.tokens["USDC"]
    attacker, victim = bob, alice
    p.mint_and_approve(attacker, "USDC", first + donation)
    pool.supply(usdc, first, attacker, {"from": attacker})
    if donation:
        usdc.transfer(pool, donation, {"from": attacker})
    shares = p.supply(victim, "USDC", victim_amount).return_value
    # Share price stays exactly 1 (A == S): shares equal assets on the way in and out.
    assert shares == victim_amount
    assert pool.withdraw(usdc, MAX, victim, {"from": victim}).return_value == victim_amount
    assert pool.withdraw(usdc, MAX, attacker, {"from": attacker}).return_value == first
