"""The model without a node: health factors in Python integers equal the reference maths, and a
price update re-scores only the accounts that hold the re-priced asset (the oracle -> accounts
index)."""

from __future__ import annotations

from dataclasses import replace

from stage_world import ALICE, BOB, CAROL, WAD, borrower, pool_model

from keeper.maths import UNREADABLE_HEALTH_FACTOR
from tests.reference import protocol_math as reference

WETH_ID, WBTC_ID, USDC_ID = 0, 1, 2


def test_a_health_factor_is_the_references_to_the_wei():
    alice = borrower(ALICE, {WETH_ID: 10 * 10**18, WBTC_ID: 10**7}, {USDC_ID: 15_500 * 10**6})
    model = pool_model(alice)

    weighted = sum(
        reference.to_value(reference.to_assets_down(shares, 10**30, 10**30), decimals, price) * factor
        for shares, decimals, price, factor in (
            (10 * 10**18, 18, 2000 * 10**8, 8000),
            (10**7, 8, 60_000 * 10**8, 7500),
        )
    )
    debt_ray = reference.to_value(15_500 * 10**6 * reference.RAY, 6, 10**8)
    assert model.health_factor(ALICE) == reference.health_factor(weighted, debt_ray)
    data = model.account_data(ALICE)
    assert (data.active_collateral_count, data.borrow_count) == (2, 1)


def test_a_price_update_re_scores_only_the_holders_of_the_re_priced_asset():
    alice = borrower(ALICE, {WETH_ID: 10 * 10**18}, {USDC_ID: 15_500 * 10**6})  # HF 1.03 at $2,000
    bob = borrower(BOB, {WBTC_ID: 10**8}, {USDC_ID: 40_000 * 10**6})  # HF 1.125 at $60,000
    carol = borrower(CAROL, {WETH_ID: 10**18}, {})  # supplies only
    model = pool_model(alice, bob, carol)
    before = {user: model.health_factor(user) for user in (ALICE, BOB, CAROL)}
    assert before[ALICE] > WAD

    weth = model.reserves[WETH_ID]
    model.update_reserve(replace(weth, price=1900 * 10**8))

    assert model.holders_of({WETH_ID}) == {ALICE, CAROL}
    assert model.health_factor(ALICE) < WAD < before[ALICE]
    assert model.health_factor(ALICE) == before[ALICE] * 1900 // 2000  # linear in the collateral price
    assert model.health_factor(BOB) == before[BOB]
    assert model.health_factor(CAROL) == reference.MAX_UINT256  # no debt


def test_a_new_position_moves_the_account_in_the_index():
    model = pool_model(borrower(ALICE, {WETH_ID: 10**18}, {USDC_ID: 10**6}))
    model.set_account(borrower(ALICE, {WBTC_ID: 10**8}, {USDC_ID: 10**6}))
    assert model.holders_of({WETH_ID}) == set()
    assert model.holders_of({WBTC_ID}) == {ALICE}
    model.forget(ALICE)
    assert model.holders_of({WBTC_ID, USDC_ID}) == set() and model.borrowers() == []


def test_liquidation_pairs_are_every_enabled_collateral_against_every_debt():
    alice = borrower(ALICE, {WETH_ID: 10**18, WBTC_ID: 10**8}, {USDC_ID: 10**6})
    alice = replace(alice, config=alice.config & ~(1 << (2 * WBTC_ID + 1)))  # WBTC not as collateral
    model = pool_model(alice)
    assert [(c.symbol, d.symbol) for c, d in model.liquidation_pairs(ALICE)] == [("WETH", "USDC")]


def test_an_account_using_a_reserve_without_a_price_is_unreadable_not_liquidatable():
    alice = borrower(ALICE, {WETH_ID: 10 * 10**18}, {USDC_ID: 15_500 * 10**6})
    bob = borrower(BOB, {WBTC_ID: 10**8}, {USDC_ID: 40_000 * 10**6})
    model = pool_model(alice, bob)
    model.update_reserve(replace(model.reserves[WBTC_ID], price=0))  # the oracle does not answer

    assert model.health_factor(BOB) == UNREADABLE_HEALTH_FACTOR  # as the lens reports it
    assert model.health_factor(ALICE) < UNREADABLE_HEALTH_FACTOR  # valued as before
