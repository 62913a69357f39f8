"""Interest (protocol.md section 2): the borrow index accrues per second from a kinked rate model on
utilisation, and debt and the supplier share price follow it. Every number is checked against
tests/reference/protocol_math (`borrow_rate_ray` then `accrue_index`) from the reserve's state at the
previous accrual and the elapsed seconds between the two transactions' blocks.
"""

from __future__ import annotations

import brownie
import pytest
from brownie import chain

from tests.reference import protocol_math as pm

RAY = pm.RAY
MAX = 2**256 - 1
DAY = 86400
YEAR = pm.SECONDS_PER_YEAR

#: USDC's listing (CF 85%, max bonus 104%, fee 10%) with a rate model: 1% base, +10% up to 80%
#: utilisation, +300% from there to 100%.
RATES = dict(base=100, slope1=10_00, slope2=300_00, optimal=80_00)


def usdc_config(base=0, slope1=0, slope2=0, optimal=80_00) -> tuple:
    return (85_00, 104_00, 10_00, True, False, False, base, slope1, slope2, optimal, 85_00)


def reserve_at(pool, asset, tx) -> dict:
    """Reserve state right after `tx`; if `tx` accrued the reserve, borrowIndex is the stored
    index."""
    return pool.getReserveData(asset, block_identifier=tx.block_number).dict()


def model_index(previous: dict, timestamp: int, rates: dict = RATES) -> int:
    """The index the pool computes at `timestamp`, from the state stored at the previous accrual."""
    assert timestamp >= previous["lastUpdate"]
    rate = pm.borrow_rate_ray(
        rates["base"],
        rates["slope1"],
        rates["slope2"],
        rates["optimal"],
        previous["cash"],
        pm.ray_mul_down(previous["totalDrawnShares"], previous["borrowIndex"]),
    )
    return pm.accrue_index(previous["borrowIndex"], rate, timestamp - previous["lastUpdate"])


@pytest.fixture
def market(protocol, supplier, alice, bob):
    """The supplier provides 1,000,000 USDC; alice and bob hold 1,000 WETH each. USDC still has zero
    rates, so the index is exactly 1e27 until a test starts the rate model (`start_rates`)."""
    p = protocol
    p.supply(supplier, "USDC", 1_000_000 * 10**6)
    p.supply(alice, "WETH", 1000 * 10**18)
    p.supply(bob, "WETH", 1000 * 10**18)
    return p


def start_rates(p, rates: dict = RATES):
    """Switch USDC to `rates`; the update first accrues under the zero-rate model, so the index is
    exactly 1e27 at this transaction and grows from its timestamp on."""
    return p.pool.updateReserveConfig(p.tokens["USDC"], usdc_config(**rates), {"from": p.deployer})


def poke(p):
    """Accrue USDC without changing its state: the owner re-applies the same configuration."""
    usdc = p.tokens["USDC"]
    cfg = tuple(p.pool.getReserveData(usdc).dict()["config"].values())
    return p.pool.updateReserveConfig(usdc, cfg, {"from": p.deployer})


def test_below_optimal_the_index_debt_and_share_price_follow_the_model(market, alice, supplier):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 500_000 * 10**6)  # 50% utilisation
    start = start_rates(p)
    before = reserve_at(pool, usdc, start)
    assert (before["borrowIndex"], before["lastUpdate"]) == (RAY, start.timestamp)

    chain.sleep(30 * DAY)
    tx = poke(p)

    # 1% + 10% * 50% / 80% = 7.25% a year.
    rate = pm.borrow_rate_ray(100, 10_00, 300_00, 80_00, 500_000 * 10**6, 500_000 * 10**6)
    assert rate == 725 * 10**23
    index = pm.accrue_index(RAY, rate, tx.timestamp - start.timestamp)
    assert index == model_index(before, tx.timestamp) > RAY
    assert tx.events["InterestAccrued"]["borrowIndex"] == index
    after = reserve_at(pool, usdc, tx)
    assert (after["borrowIndex"], after["lastUpdate"]) == (index, tx.timestamp)

    at_poke = {"block_identifier": tx.block_number}
    assert pool.getUserPosition(alice, usdc, **at_poke)[1] == pm.ray_mul_up(500_000 * 10**6, index)
    total_assets = 500_000 * 10**6 + pm.ray_mul_down(500_000 * 10**6, index)
    assert after["totalAddedAssets"] == total_assets
    supplied = pool.getUserPosition(supplier, usdc, **at_poke)[0]
    assert supplied == pm.to_assets_down(1_000_000 * 10**6, total_assets, 1_000_000 * 10**6)
    assert supplied > 1_000_000 * 10**6


def test_at_exactly_optimal_utilisation_the_rate_is_base_plus_the_first_slope(market, alice):
    p = market
    p.borrow(alice, "USDC", 800_000 * 10**6)
    start = start_rates(p)
    chain.sleep(7 * DAY)
    tx = poke(p)
    rate = pm.borrow_rate_ray(100, 10_00, 300_00, 80_00, 200_000 * 10**6, 800_000 * 10**6)
    assert rate == 11_00 * 10**23
    index = pm.accrue_index(RAY, rate, tx.timestamp - start.timestamp)
    assert tx.events["InterestAccrued"]["borrowIndex"] == index


def test_above_optimal_the_rate_follows_the_steep_second_slope(market, alice):
    p = market
    p.borrow(alice, "USDC", 900_000 * 10**6)  # 90% utilisation
    start = start_rates(p)
    chain.sleep(7 * DAY)
    tx = poke(p)
    # 1% + 10% + 300% * (90% - 80%) / (100% - 80%) = 161%, far above the 12.25% that the first
    # slope extended to 90% would give.
    rate = pm.borrow_rate_ray(100, 10_00, 300_00, 80_00, 100_000 * 10**6, 900_000 * 10**6)
    assert rate == 161_00 * 10**23
    index = pm.accrue_index(RAY, rate, tx.timestamp - start.timestamp)
    assert tx.events["InterestAccrued"]["borrowIndex"] == index
    assert reserve_at(p.pool, p.tokens["USDC"], tx)["borrowIndex"] == index


def test_interest_compounds_across_accruals_at_each_period_utilisation(market, alice, bob):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 300_000 * 10**6)  # 30%
    state = reserve_at(pool, usdc, start_rates(p))

    chain.sleep(10 * DAY)
    p.refresh_prices()
    second = p.borrow(bob, "USDC", 600_000 * 10**6)  # accrues, then utilisation goes above 80%
    index = model_index(state, second.timestamp)
    assert second.events["InterestAccrued"]["borrowIndex"] == index
    assert second.events["Borrow"]["shares"] == pm.mul_div_up(600_000 * 10**6, RAY, index)
    state = reserve_at(pool, usdc, second)
    assert state["borrowIndex"] == index
    utilisation = state["totalDebt"] * RAY // (state["cash"] + state["totalDebt"])
    assert utilisation > 80 * 10**25

    chain.sleep(20 * DAY + 7)
    third = poke(p)
    index = model_index(state, third.timestamp)
    assert third.events["InterestAccrued"]["borrowIndex"] == index
    for user in (alice, bob):
        drawn = pool.getUserShares(user, usdc)[1]
        debt = pool.getUserPosition(user, usdc, block_identifier=third.block_number)[1]
        assert debt == pm.ray_mul_up(drawn, index)


def test_a_config_update_accrues_under_the_old_rate_model_first(market, alice, deployer):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 500_000 * 10**6)
    state = reserve_at(pool, usdc, start_rates(p))

    chain.sleep(15 * DAY)
    new_rates = dict(base=5_00, slope1=20_00, slope2=100_00, optimal=50_00)
    update = start_rates(p, new_rates)
    index = model_index(state, update.timestamp, RATES)
    assert update.events["InterestAccrued"]["borrowIndex"] == index
    state = reserve_at(pool, usdc, update)

    chain.sleep(15 * DAY)
    tx = poke(p)
    assert tx.events["InterestAccrued"]["borrowIndex"] == model_index(
        state, tx.timestamp, new_rates
    )


def test_repaying_with_interest_charges_the_accrued_debt_and_suppliers_earn_it(
    market, alice, supplier
):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 500_000 * 10**6)
    state = reserve_at(pool, usdc, start_rates(p))
    chain.sleep(YEAR // 2)
    p.mint_and_approve(alice, "USDC", 100_000 * 10**6)
    repay = pool.repay(usdc, MAX, alice, {"from": alice})
    index = model_index(state, repay.timestamp)
    debt = pm.ray_mul_up(500_000 * 10**6, index)
    assert debt > 518_000 * 10**6  # about 7.25% for half a year
    assert repay.return_value == debt
    assert repay.events["Repay"]["shares"] == 500_000 * 10**6

    state = reserve_at(pool, usdc, repay)
    assert (state["totalDrawnShares"], state["cash"]) == (0, 500_000 * 10**6 + debt)
    p.refresh_prices()
    withdraw = pool.withdraw(usdc, MAX, supplier, {"from": supplier})
    # Without debt nothing accrues in between: the supplier gets her shares' worth, rounded down.
    expected = pm.to_assets_down(1_000_000 * 10**6, state["cash"], state["totalSupplyShares"])
    assert withdraw.return_value == expected
    assert expected > 1_000_000 * 10**6
    assert reserve_at(pool, usdc, withdraw)["cash"] == state["cash"] - expected


def test_a_zero_rate_model_leaves_the_index_at_exactly_one_ray(market, alice, supplier, carol):
    p = market  # USDC has zero rates until start_rates
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 900_000 * 10**6)

    chain.sleep(10 * YEAR)
    tx = p.supply(carol, "USDC", 10**6)  # accrues
    assert "InterestAccrued" not in tx.events
    state = reserve_at(pool, usdc, tx)
    assert (state["borrowIndex"], state["lastUpdate"]) == (RAY, tx.timestamp)
    assert pool.getUserPosition(alice, usdc)[1] == 900_000 * 10**6
    assert pool.getUserPosition(supplier, usdc)[0] == 1_000_000 * 10**6
    assert tx.events["Supply"]["shares"] == 10**6


def test_without_borrowers_the_index_still_accrues_at_the_base_rate(market):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    start = start_rates(p)
    state = reserve_at(pool, usdc, start)
    chain.sleep(YEAR)
    tx = poke(p)
    index = pm.accrue_index(RAY, 100 * 10**23, tx.timestamp - start.timestamp)
    assert index == model_index(state, tx.timestamp)
    assert tx.events["InterestAccrued"]["borrowIndex"] == index
    # Nobody owes or earns anything from it.
    assert reserve_at(pool, usdc, tx)["totalAddedAssets"] == 1_000_000 * 10**6


def test_the_views_accrue_to_the_current_block_without_storing(market, alice):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 500_000 * 10**6)
    start = start_rates(p)
    state = reserve_at(pool, usdc, start)
    chain.sleep(3 * DAY)
    mined = p.set_price("WETH", 2000 * 10**8)  # a transaction that does not touch the pool
    view = reserve_at(pool, usdc, mined)
    assert view["borrowIndex"] == model_index(state, mined.timestamp) > RAY
    assert view["lastUpdate"] == start.timestamp  # still the stored one


def test_a_repay_too_small_to_remove_a_drawn_share_reverts_invalid_amount(market, alice):
    p = market
    usdc = p.tokens["USDC"]
    p.borrow(alice, "USDC", 500_000 * 10**6)
    start_rates(p)
    chain.sleep(30 * DAY)
    p.mint_and_approve(alice, "USDC", 10)
    # 1 unit at an index above 1 is worth less than one drawn share: floor(1 * RAY / index) = 0.
    with brownie.reverts("InvalidAmount: "):
        p.pool.repay(usdc, 1, alice, {"from": alice})
    # 2 units remove one share (floor(2 * RAY / index) = 1).
    tx = p.pool.repay(usdc, 2, alice, {"from": alice})
    assert tx.events["Repay"]["shares"] == 1


def test_borrowing_one_unit_at_an_index_above_one_owes_two(market, alice, bob):
    p = market
    pool, usdc = p.pool, p.tokens["USDC"]
    p.borrow(alice, "USDC", 500_000 * 10**6)
    start_rates(p)
    chain.sleep(30 * DAY)
    p.refresh_prices()
    tx = p.borrow(bob, "USDC", 1)
    index = reserve_at(pool, usdc, tx)["borrowIndex"]
    assert RAY < index < 2 * RAY
    # Drawn shares round up: ceil(1 * RAY / index) = 1 share, worth ceil(index / RAY) = 2 units.
    assert tx.return_value == pm.mul_div_up(1, RAY, index) == 1
    assert pool.getUserPosition(bob, usdc, block_identifier=tx.block_number)[1] == 2
