"""D1: a price drop while the keeper is down. The restarted keeper indexes the missed blocks and
re-scores every borrower in its first step, so every account the drop made liquidatable is
liquidated in the first block after the restart, not at the next sweep. Measured from the chain:
the pool's LiquidationCall logs."""

from __future__ import annotations

import pytest
from harness import make_keeper, rpc, run_until_idle
from stage_world import (
    ALICE,
    BOB,
    CAROL,
    WETH,
    WETH_FEED,
    candidates_world,
)

from keeper.blocks import BlockContext
from keeper.discovery import PriceUpdate, ScanResult

WAD = 10**18
WETH_ID, WBTC_ID, USDC_ID = 0, 1, 2


def test_accounts_made_liquidatable_during_downtime_are_liquidated_in_the_first_block(
    devnet, keeper_key, tmp_path
):
    borrowers = [
        devnet.borrower(index, "WETH", 5 + index, "USDC", hf=1.02 + index / 100, collateral_price=2000)
        for index in range(1, 5)
    ]
    healthy = devnet.borrower(5, "WETH", 10, "USDC", hf=1.6, collateral_price=2000)
    db = tmp_path / "k.sqlite"
    first = make_keeper(devnet, keeper_key, db)
    first.start()
    assert not any(r.sent or r.candidates for r in run_until_idle(first))
    first.store.close()  # the keeper is down from here

    devnet.set_price("WETH", 1800)
    for _ in range(5):
        rpc(devnet, "evm_mine")
    assert all(devnet.health_factor(user) < WAD for user in borrowers)
    assert devnet.health_factor(healthy) >= WAD

    second = make_keeper(devnet, keeper_key, db)
    second.start()
    restart_head = devnet.w3.eth.block_number
    rpc(devnet, "evm_setAutomine", False)
    try:
        second.step()  # the first step after the restart, before any new block
        rpc(devnet, "evm_mine")
        second.step()
    finally:
        rpc(devnet, "evm_setAutomine", True)

    calls = devnet.pool.events.LiquidationCall.get_logs(from_block=restart_head + 1)
    assert {log["blockNumber"] for log in calls} == {restart_head + 1}
    assert sorted(log["args"]["user"] for log in calls) == sorted(borrowers)
    assert {log["args"]["liquidator"] for log in calls} == {second.ctx.address}
    assert all(devnet.health_factor(user) >= WAD for user in borrowers)


# The candidates stage on its own, against a fake lens.


@pytest.fixture
def stage(tmp_path):
    model, candidates, chain_hfs, _ = candidates_world(tmp_path, WETH=1900 * 10**8)  # alice below 1 too
    chain_hfs.update({u: model.health_factor(u) for u in (ALICE, BOB, CAROL)})
    return model, candidates


def quiet_block(head: int, *prices: str, first: int | None = None) -> BlockContext:
    """Blocks `first`..`head` with a price update of each of `prices` in the first of them."""
    start = head if first is None else first
    updates = [PriceUpdate(a, WETH_FEED, 1, 1, 1, start, i, "0x") for i, a in enumerate(prices)]
    return BlockContext(head, "0x", start, 0, ScanResult(prices=updates))


def test_a_pending_rescore_scores_every_borrower_once_without_a_price_update(stage):
    model, candidates = stage
    assert candidates.select(model, quiet_block(10)).users == []  # nothing re-priced: nothing proposed

    candidates.rescore_all()
    assert candidates.rescore_pending
    selection = candidates.select(model, quiet_block(11))
    assert selection.users == sorted([ALICE, BOB]) and not selection.sweep
    assert not candidates.rescore_pending
    assert candidates.select(model, quiet_block(12)).users == []


def test_a_step_over_several_blocks_rescores_the_holders_of_assets_re_priced_in_the_gap(stage):
    model, candidates = stage
    selection = candidates.select(model, quiet_block(15, WETH, first=10))
    assert selection.users == [ALICE] and not selection.sweep  # bob holds no WETH
