"""Rounding never favours the user (protocol.md section 2): supplying rounds shares down,
withdrawing rounds the shares burned up, borrowing rounds drawn shares up and repaying rounds the
shares removed down, at any share price. Property tests draw the reserve's history (its first
supply, how much of it is borrowed, how long interest runs) and the user's amounts, then compare
the pool with tests/reference/protocol_math to the wei.

Each example pins the timestamp of the transaction under test (Anvil's
evm_setNextBlockTimestamp), so the model knows the exact index the pool will accrue to."""

from __future__ import annotations

import brownie
import pytest
from brownie import web3
from brownie.test import given
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st

from tests.reference import protocol_math as pm

RAY = pm.RAY
V = pm.VIRTUAL_SHARES
MAX = 2**256 - 1
YEAR = pm.SECONDS_PER_YEAR
DECIMALS = {"USDC": 6, "DAI": 18}
#: Steep rates so that a few simulated years move the share price a lot (index up to ~30x).
RATES = dict(base=0, slope1=50_00, slope2=1000_00, optimal=80_00)
EXAMPLES = settings(
    max_examples=20, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def config(symbol: str) -> tuple:
    cf = 85_00 if symbol == "USDC" else 0
    return (
        cf,
        104_00,
        10_00,
        True,
        False,
        False,
        RATES["base"],
        RATES["slope1"],
        RATES["slope2"],
        RATES["optimal"],
        cf,  # maxLtv
    )


@pytest.fixture(scope="module")
def market(protocol, deployer, supplier, alice, bob, carol):
    """USDC and DAI with steep rates; prices never go stale; everyone holds and has approved
    plenty."""
    p = protocol
    for symbol in DECIMALS:
        p.pool.updateReserveConfig(p.tokens[symbol], config(symbol), {"from": deployer})
        for user in (supplier, bob, carol):
            p.mint_and_approve(user, symbol, 10 ** (DECIMALS[symbol] + 12))
    for symbol, feed in p.feeds.items():
        p.oracle.setFeed(p.tokens[symbol], feed, 2**32 - 1, {"from": deployer})
    p.supply(alice, "WETH", 10**7 * 10**18)  # $20B of collateral for the reserve's borrower
    p.supply(bob, "WBTC", 10**5 * 10**8)  # $6B for the borrow properties
    return p


def at_time(timestamp: int) -> None:
    """The next transaction is mined at exactly `timestamp`."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def reserve_at(pool, token, tx) -> dict:
    return pool.getReserveData(token, block_identifier=tx.block_number).dict()


class Reserve:
    """The reserve as the model sees it: its state at the last accrual, projected to any time."""

    def __init__(self, state: dict):
        self.state = state

    def index(self, timestamp: int) -> int:
        s = self.state
        debt = pm.ray_mul_down(s["totalDrawnShares"], s["borrowIndex"])
        rate = pm.borrow_rate_ray(
            RATES["base"], RATES["slope1"], RATES["slope2"], RATES["optimal"], s["cash"], debt
        )
        return pm.accrue_index(s["borrowIndex"], rate, timestamp - s["lastUpdate"])

    def totals(self, timestamp: int) -> tuple[int, int, int]:
        """(totalAddedAssets, totalSupplyShares, borrowIndex) at `timestamp`."""
        s, index = self.state, self.index(timestamp)
        assets = s["cash"] + pm.ray_mul_down(s["totalDrawnShares"], index) + s["deficit"]
        return assets, s["totalSupplyShares"], index


def build_history(p, supplier, alice, symbol, seed, borrowed_bps, elapsed) -> tuple[Reserve, int]:
    """The supplier supplies `seed`, alice borrows `borrowed_bps` of it; returns the model and
    the time `elapsed` seconds after the last accrual."""
    token = p.tokens[symbol]
    tx = p.pool.supply(token, seed, supplier, {"from": supplier})
    borrowed = seed * borrowed_bps // 10_000
    if borrowed:
        tx = p.pool.borrow(token, borrowed, {"from": alice})
    state = reserve_at(p.pool, token, tx)
    return Reserve(state), state["lastUpdate"] + elapsed


history = dict(
    symbol=st.sampled_from(sorted(DECIMALS)),
    seed_digits=st.integers(0, 13),
    seed_mantissa=st.integers(1, 10**6),
    borrowed_bps=st.integers(0, 95_00),
    elapsed=st.integers(0, 3 * YEAR),
)


def seed_amount(symbol, digits, mantissa) -> int:
    """From 1 unit to ten million whole tokens (USDC) or 1e25 units (DAI), spread over every
    order of magnitude."""
    return max(1, mantissa * 10**digits // 10**6) * 10 ** (
        DECIMALS[symbol] - 6 if digits > 6 else 0
    )


def share_price_not_lower(before: tuple[int, int], after: tuple[int, int]) -> bool:
    """(A' + V) / (S' + V) >= (A + V) / (S + V): nobody else's shares lost value."""
    (a0, s0), (a1, s1) = before, after
    return (a1 + V) * (s0 + V) >= (a0 + V) * (s1 + V)


@EXAMPLES
@given(**history, amount_digits=st.integers(0, 13), amount_mantissa=st.integers(1, 10**6))
def test_supply_mints_shares_rounded_down_and_never_worth_more_than_supplied(
    market,
    supplier,
    alice,
    carol,
    symbol,
    seed_digits,
    seed_mantissa,
    borrowed_bps,
    elapsed,
    amount_digits,
    amount_mantissa,
):
    p = market
    token = p.tokens[symbol]
    seed = seed_amount(symbol, seed_digits, seed_mantissa)
    reserve, t = build_history(p, supplier, alice, symbol, seed, borrowed_bps, elapsed)
    amount = seed_amount(symbol, amount_digits, amount_mantissa)
    assets, shares_total, _ = reserve.totals(t)
    expected = pm.to_shares_down(amount, assets, shares_total)

    at_time(t)
    if expected == 0:
        event("worth zero shares")
        with brownie.reverts("InvalidAmount: "):
            p.pool.supply(token, amount, carol, {"from": carol})
        return
    tx = p.pool.supply(token, amount, carol, {"from": carol})
    assert tx.timestamp == t
    assert tx.return_value == expected
    after = reserve_at(p.pool, token, tx)
    assert (after["totalAddedAssets"], after["totalSupplyShares"]) == (
        assets + amount,
        shares_total + expected,
    )
    worth = p.pool.getUserPosition(carol, token, block_identifier=tx.block_number)[0]
    assert worth == pm.to_assets_down(expected, assets + amount, shares_total + expected) <= amount
    assert share_price_not_lower((assets, shares_total), (assets + amount, shares_total + expected))


@EXAMPLES
@given(**history, amount=st.integers(1, 10**25))
def test_supply_then_withdraw_everything_in_the_same_second_returns_at_most_the_supply(
    market,
    supplier,
    alice,
    carol,
    symbol,
    seed_digits,
    seed_mantissa,
    borrowed_bps,
    elapsed,
    amount,
):
    p = market
    token = p.tokens[symbol]
    amount = amount % 10 ** (DECIMALS[symbol] + 9) + 1
    seed = seed_amount(symbol, seed_digits, seed_mantissa)
    reserve, t = build_history(p, supplier, alice, symbol, seed, borrowed_bps, elapsed)
    assets, shares_total, _ = reserve.totals(t)
    if pm.to_shares_down(amount, assets, shares_total) == 0:
        event("worth zero shares")
        return  # covered by the supply property
    balance = token.balanceOf(carol)

    at_time(t)
    p.pool.supply(token, amount, carol, {"from": carol})
    cash = p.pool.getReserveData(token).dict()["cash"]
    at_time(t)
    if (
        pm.to_assets_down(
            p.pool.getUserShares(carol, token)[0],
            assets + amount,
            shares_total + p.pool.getUserShares(carol, token)[0],
        )
        > cash
    ):
        event("not enough cash")
        return  # not enough cash to leave in one go; not what this property is about
    tx = p.pool.withdraw(token, MAX, carol, {"from": carol})
    assert tx.timestamp == t
    assert tx.return_value <= amount
    assert token.balanceOf(carol) <= balance
    after = reserve_at(p.pool, token, tx)
    assert share_price_not_lower(
        (assets, shares_total), (after["totalAddedAssets"], after["totalSupplyShares"])
    )


@EXAMPLES
@given(**history, fraction_bps=st.integers(0, 10_000))
def test_withdraw_burns_shares_rounded_up_and_never_lowers_the_share_price(
    market, supplier, alice, symbol, seed_digits, seed_mantissa, borrowed_bps, elapsed, fraction_bps
):
    p = market
    token = p.tokens[symbol]
    seed = seed_amount(symbol, seed_digits, seed_mantissa)
    reserve, t = build_history(p, supplier, alice, symbol, seed, borrowed_bps, elapsed)
    assets, shares_total, _ = reserve.totals(t)
    owned = p.pool.getUserShares(supplier, token)[0]
    available = min(pm.to_assets_down(owned, assets, shares_total), reserve.state["cash"])
    amount = available * fraction_bps // 10_000
    if amount == 0:
        event("nothing to withdraw")
        return
    burned = pm.to_shares_up(amount, assets, shares_total)

    at_time(t)
    tx = p.pool.withdraw(token, amount, supplier, {"from": supplier})
    assert tx.timestamp == t
    assert tx.events["Withdraw"]["shares"] == burned
    assert burned >= pm.to_shares_down(amount, assets, shares_total)
    after = (assets - amount, shares_total - burned)
    state = reserve_at(p.pool, token, tx)
    assert (state["totalAddedAssets"], state["totalSupplyShares"]) == after
    assert share_price_not_lower((assets, shares_total), after)
    # What the supplier still owns plus what she took is at most what she owned.
    remaining = pm.to_assets_down(owned - burned, *after)
    assert remaining + amount <= pm.to_assets_down(owned, assets, shares_total)


@EXAMPLES
@given(**history, borrow=st.integers(1, 10**24), repay_bps=st.integers(0, 10_000))
def test_borrowed_debt_rounds_up_and_repaid_shares_round_down(
    market,
    supplier,
    alice,
    bob,
    symbol,
    seed_digits,
    seed_mantissa,
    borrowed_bps,
    elapsed,
    borrow,
    repay_bps,
):
    p = market
    token = p.tokens[symbol]
    seed = seed_amount(symbol, seed_digits, seed_mantissa)
    reserve, t = build_history(p, supplier, alice, symbol, seed, borrowed_bps, elapsed)
    cash = reserve.state["cash"]
    if cash == 0:
        event("no cash")
        return
    borrow = borrow % cash + 1
    index = reserve.index(t)

    at_time(t)
    tx = p.pool.borrow(token, borrow, {"from": bob})
    assert tx.timestamp == t
    drawn = pm.mul_div_up(borrow, RAY, index)
    assert tx.return_value == drawn
    debt = pm.ray_mul_up(drawn, index)
    assert debt >= borrow
    assert p.pool.getUserPosition(bob, token, block_identifier=tx.block_number)[1] == debt

    repay = borrow * repay_bps // 10_000
    removed = pm.mul_div_down(repay, RAY, index)
    if repay == 0 or removed == 0:
        event("repay worth zero shares")
        return
    at_time(t)
    tx = p.pool.repay(token, repay, bob, {"from": bob})
    assert tx.events["Repay"]["shares"] == removed
    assert pm.ray_mul_down(removed, index) <= repay
    left = p.pool.getUserPosition(bob, token, block_identifier=tx.block_number)[1]
    assert left == pm.ray_mul_up(drawn - removed, index) >= debt - repay


def test_a_supply_worth_less_than_one_share_reverts_invalid_amount(market, supplier, alice, carol):
    p = market
    usdc = p.tokens["USDC"]
    reserve, t = build_history(p, supplier, alice, "USDC", 1000 * 10**6, 90_00, YEAR)
    assets, shares_total, _ = reserve.totals(t)
    assert assets > shares_total  # share price above 1
    assert pm.to_shares_down(1, assets, shares_total) == 0
    at_time(t)
    with brownie.reverts("InvalidAmount: "):
        p.pool.supply(usdc, 1, carol, {"from": carol})


def test_withdrawing_one_unit_at_a_share_price_above_one_burns_a_whole_share(
    market, supplier, alice
):
    p = market
    usdc = p.tokens["USDC"]
    reserve, t = build_history(p, supplier, alice, "USDC", 1000 * 10**6, 50_00, YEAR)
    assets, shares_total, _ = reserve.totals(t)
    assert pm.to_shares_down(1, assets, shares_total) == 0
    at_time(t)
    tx = p.pool.withdraw(usdc, 1, supplier, {"from": supplier})
    assert tx.events["Withdraw"]["shares"] == 1
