"""The candidates stage against a fake lens: the model proposes the holders of a re-priced asset, the
lens confirms them at the block (one batch), a disagreement is logged, the sweep checks every
borrower, and an account waiting for funds is re-scored at the next block."""

from __future__ import annotations

from dataclasses import replace

import pytest
from stage_world import (
    ALICE,
    BOB,
    CAROL,
    WAD,
    WETH,
    WETH_FEED,
    candidates_world,
)

from keeper.blocks import BlockContext
from keeper.calls import function
from keeper.discovery import PriceUpdate, ScanResult

WETH_ID, WBTC_ID, USDC_ID = 0, 1, 2


@pytest.fixture
def world(tmp_path):
    return candidates_world(tmp_path)


def block_with(
    head: int, *prices: str, touched: set[str] = frozenset(), first: int | None = None
) -> BlockContext:
    updates = [PriceUpdate(a, WETH_FEED, 1, 1, 1, head, i, "0x") for i, a in enumerate(prices)]
    scan = ScanResult(touched=set(touched), prices=updates)
    return BlockContext(head, "0x", head if first is None else first, 0, scan)


def reprice_weth(model, price_usd: int) -> None:
    model.update_reserve(replace(model.reserves[WETH_ID], price=price_usd * 10**8))


def lens_calls(provider) -> list[list[str]]:
    """The accounts of every lens health-factor call, in order."""
    return [args[0] for args in provider.call_args(function("LiquidationLens", "getHealthFactors"))]


def test_only_holders_of_the_re_priced_asset_are_proposed_and_the_lens_confirms_them(world):
    model, candidates, chain_hfs, provider = world
    reprice_weth(model, 1900)  # alice falls below 1; bob is below 1 too, but nothing re-priced WBTC
    chain_hfs.update({ALICE: model.health_factor(ALICE)})

    selection = candidates.select(model, block_with(10, WETH))

    assert selection.users == [ALICE] and not selection.sweep
    assert lens_calls(provider) == [[ALICE]]  # carol holds WETH but stays healthy
    assert provider.batches == 1


def test_an_account_the_lens_finds_healthy_is_dropped_and_the_mismatch_logged(world, caplog):
    model, candidates, chain_hfs, _ = world
    reprice_weth(model, 1900)
    chain_hfs[ALICE] = WAD  # the chain disagrees: not liquidatable

    with caplog.at_level("WARNING"):
        selection = candidates.select(model, block_with(10, WETH))

    assert selection.users == []
    assert f"model_mismatch user={ALICE}" in caplog.text


def test_no_price_update_and_no_event_is_no_candidate_and_no_lens_call(world):
    model, candidates, _, provider = world
    assert candidates.select(model, block_with(10)).users == []
    assert provider.requests == []


def test_the_sweep_checks_every_borrower_and_adds_what_the_model_missed(world, caplog):
    model, candidates, chain_hfs, provider = world
    # The model thinks carol healthy; the chain does not.
    chain_hfs.update({ALICE: 2 * WAD, BOB: model.health_factor(BOB), CAROL: WAD - 1})

    with caplog.at_level("WARNING"):
        selection = candidates.select(model, block_with(30, first=11))  # 20 blocks since the last

    assert selection.sweep
    assert selection.users == sorted([BOB, CAROL])
    assert sorted(lens_calls(provider)[0]) == sorted([ALICE, BOB, CAROL])
    assert f"sweep_found_missed accounts=1 first={CAROL}" in caplog.text
    assert not candidates.select(model, block_with(31)).sweep  # the count restarts


def test_an_account_handed_back_for_retry_is_re_scored_at_the_next_block(world):
    model, candidates, chain_hfs, _ = world
    chain_hfs[BOB] = model.health_factor(BOB)
    candidates.retry({BOB})

    assert candidates.select(model, block_with(10)).users == [BOB]
    assert candidates.select(model, block_with(11)).users == []  # only once unless handed back
