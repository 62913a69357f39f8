"""D4: a liquidation's delay counts from the first block its account was liquidatable, and no record
is left without one.

The candidates stage knows since when each account has been liquidatable: the block whose price
update it re-scored the account for, or, for an account found liquidatable after a gap (a restart),
the block located on the chain from the price updates and events in the gap. On Anvil, after a
restart with accounts made liquidatable at two different blocks while the keeper was down, every
record's `delay_blocks` is what the independent observer (bench/observer.py) says."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_abi import decode, encode
from fake_node import Contracts, RpcError, block
from harness import make_keeper, rpc, run_until_idle
from stage_world import ALICE, BOB, LENS, WBTC, WETH, WETH_FEED, candidates_world

from bench.observer import Observer
from keeper.blocks import BlockContext, Crossing
from keeper.calls import function
from keeper.discovery import PriceUpdate, ScanResult
from keeper.maths import UNREADABLE_HEALTH_FACTOR

WAD = 10**18
HEALTHY = 2 * WAD


def test_after_a_restart_every_record_has_the_delay_the_observer_measures(devnet, keeper_key, tmp_path):
    early = [
        devnet.borrower(i, "WETH", 5 + i, "USDC", hf=1.02 + i / 100, collateral_price=2000) for i in (1, 2)
    ]
    late = [
        devnet.borrower(i, "WETH", 5 + i, "USDC", hf=1.07 + i / 100, collateral_price=2000) for i in (3, 4)
    ]
    devnet.borrower(5, "WETH", 10, "USDC", hf=1.6, collateral_price=2000)
    db = tmp_path / "k.sqlite"
    first = make_keeper(devnet, keeper_key, db)
    first.start()
    run_until_idle(first)
    start = devnet.w3.eth.block_number
    first.store.close()  # the keeper is down from here

    first_drop = devnet.set_price("WETH", 1900)  # the early accounts become liquidatable
    for _ in range(3):
        rpc(devnet, "evm_mine")
    second_drop = devnet.set_price("WETH", 1750)  # and the late ones
    for _ in range(2):
        rpc(devnet, "evm_mine")
    assert all(devnet.health_factor(u) < WAD for u in early + late)

    second = make_keeper(devnet, keeper_key, db)
    second.start()
    run_until_idle(second)
    rpc(devnet, "evm_mine")
    run_until_idle(second)
    obs = Observer(devnet.w3.provider.endpoint_uri, devnet.deployment_path).observe(
        start, devnet.w3.eth.block_number, watch=[second.ctx.address]
    )

    records = second.store.liquidations()
    assert sorted(r["user"] for r in records) == sorted(early + late)
    starts = {e.user: e.start_block for e in obs.episodes}
    assert {u: starts[u] for u in early} == dict.fromkeys(early, first_drop)
    assert {u: starts[u] for u in late} == dict.fromkeys(late, second_drop)
    for record in records:
        [episode] = obs.episodes_of(record["user"])
        assert record["trigger_block"] == episode.start_block
        assert record["delay_blocks"] == record["inclusion_block"] - episode.start_block == episode.delay


# The stage on its own, against a fake lens that answers as of the block asked.


@pytest.fixture
def world(tmp_path):
    """The candidates stage over a lens where each account is liquidatable from a block on
    (`liquidatable_from`, default never), and every `(block, accounts)` the lens was asked."""
    model, candidates, _, provider = candidates_world(tmp_path, WETH=1900 * 10**8)  # alice, bob below 1
    liquidatable_from: dict[str, int] = {}
    unreadable_before = [0]
    asked: list[tuple[int, list[str]]] = []
    contracts = Contracts()
    at = [0]

    def hf(user: str) -> int:
        return WAD - 1 if at[0] >= liquidatable_from.get(user, 10**9) else HEALTHY

    contracts.on(
        LENS, function("LiquidationLens", "getHealthFactors"), lambda users: ([hf(u) for u in users],)
    )

    def eth_call(params: list) -> str:
        at[0] = int(params[1], 16)
        if at[0] < unreadable_before[0]:
            raise RpcError("missing trie node")
        answer = contracts(params)
        asked.append(
            (at[0], sorted(provider.call_args(function("LiquidationLens", "getHealthFactors"))[-1][0]))
        )
        return answer

    provider.handlers["eth_call"] = eth_call
    provider.handlers["eth_getBlockByNumber"] = lambda params: block(int(params[0], 16))
    return model, candidates, liquidatable_from, unreadable_before, asked, provider


def weth_update(number: int, price: int = 1900) -> PriceUpdate:
    return PriceUpdate(WETH, WETH_FEED, price * 10**8, 1, 1, number, 0, "0x")


def step(head: int, *updates: PriceUpdate, first: int | None = None) -> BlockContext:
    """Blocks `first`..`head` (just `head` by default), seen at 5,000 ms, the head at time 1,000."""
    return BlockContext(
        head, "0x", head if first is None else first, 5_000, ScanResult(prices=list(updates)), timestamp=1_000
    )


def time_of(number: int) -> int:
    return int(block(number)["timestamp"], 16)


Lens = Callable[[], list[tuple[int, list[str]]]]


def test_an_account_re_scored_for_a_price_update_it_sees_is_liquidatable_since_that_block(world):
    model, candidates, liquidatable_from, _, asked, _ = world
    liquidatable_from.update({ALICE: 10})

    selection = candidates.select(model, step(10, weth_update(10)))

    assert selection.users == [ALICE]  # bob holds no WETH
    seen = candidates.since[ALICE]
    assert (seen.update, seen.seen_ms, seen.block_ts) == (weth_update(10), 5_000, 1_000)
    assert asked == [(10, [ALICE])]  # only the confirmation: nothing to locate


def test_after_a_gap_the_first_liquidatable_block_is_located_among_its_price_updates(world):
    model, candidates, liquidatable_from, _, asked, provider = world
    liquidatable_from.update({ALICE: 14, BOB: 13})
    gap = ScanResult(prices=[weth_update(12, 1950), weth_update(14)])
    candidates.rescore_all(11, gap)  # the keeper was down from block 11 to 16

    batches = provider.batches
    selection = candidates.select(model, step(16, first=17))  # the first step after the restart

    assert selection.users == sorted([ALICE, BOB])
    alice = candidates.since[ALICE]
    assert (alice.update, alice.block_ts) == (weth_update(14), time_of(14))
    # bob's WBTC moved in no block the keeper read: he was liquidatable after 14, not after 12
    assert candidates.since[BOB].update == Crossing(14)
    assert sorted(b for b, _ in asked[1:]) == [10, 12, 14]  # the change blocks and the one before
    assert provider.batches - batches == 3  # confirmation, the probes, the block times


def test_an_account_liquidatable_before_the_gap_is_searched_back_by_halving(world):
    model, candidates, liquidatable_from, _, asked, _ = world
    liquidatable_from.update({ALICE: 5, BOB: 10**9})
    candidates.rescore_all(11, ScanResult())

    selection = candidates.select(model, step(16, first=17))

    assert selection.users == [ALICE]
    assert candidates.since[ALICE].update == Crossing(5)
    assert [b for b, _ in asked[1:]] == [10, 9, 7, 3, 5, 4]  # the gap's edge, then back by doubling, halving


def test_a_block_the_node_no_longer_holds_stops_the_search_at_the_oldest_known(world):
    model, candidates, liquidatable_from, unreadable_before, _, _ = world
    liquidatable_from.update({ALICE: 2})
    unreadable_before[0] = 8
    candidates.rescore_all(11, ScanResult())

    candidates.select(model, step(16, first=17))

    assert candidates.since[ALICE].update == Crossing(9)  # read liquidatable at 10 and 9; 7 unanswered


def test_an_account_healthy_again_is_forgotten_and_liquidatable_since_its_next_crossing(world):
    model, candidates, liquidatable_from, _, _, _ = world
    liquidatable_from.update({ALICE: 20})
    candidates.select(model, step(20, weth_update(20)))
    assert candidates.since[ALICE].update.block == 20

    model.update_reserve(model.reserves[0].__class__(**{**vars(model.reserves[0]), "price": 2100 * 10**8}))
    liquidatable_from.update({ALICE: 10**9})
    assert candidates.select(model, step(21, weth_update(21, 2100))).users == []
    assert ALICE not in candidates.since

    model.update_reserve(model.reserves[0].__class__(**{**vars(model.reserves[0]), "price": 1900 * 10**8}))
    liquidatable_from.update({ALICE: 22})
    candidates.select(model, step(22, weth_update(22)))
    assert candidates.since[ALICE].update.block == 22


def test_an_account_nobody_can_value_keeps_the_block_it_has_been_liquidatable_since(world):
    """WETH's price refused for a while (the TWAP guard's breaker holding it): Alice's health factor
    is unreadable, which says nothing about her, so she stays liquidatable since block 20, as the
    observer keeps an episode open through blocks it cannot read."""
    model, candidates, liquidatable_from, _, _, _ = world
    liquidatable_from.update({ALICE: 20})
    candidates.select(model, step(20, weth_update(20)))

    set_model_price(model, WETH, 0)  # the oracle refuses WETH
    assert candidates.select(model, step(21, weth_update(21, 1500))).users == []
    assert candidates.since[ALICE].update.block == 20

    set_model_price(model, WETH, 1500 * 10**8)  # it answers again
    assert candidates.select(model, step(22, weth_update(22, 1500))).users == [ALICE]
    assert candidates.since[ALICE].update == weth_update(20)


def test_a_block_whose_health_factor_nobody_can_read_is_passed_over_when_locating(world):
    """After a gap, Alice is liquidatable from the WETH update of block 12; the lens cannot read her at
    blocks 13 and 14 (WETH refused): those probes say nothing, and block 12 is found behind them."""
    model, candidates, liquidatable_from, _, asked, provider = world
    liquidatable_from.update({ALICE: 12, BOB: 10**9})
    lens = provider.handlers["eth_call"]

    def held_at_13_and_14(params: list) -> str:
        answer = lens(params)
        if int(params[1], 16) in (13, 14):
            [hfs] = decode(["uint256[]"], bytes.fromhex(answer[2:]))
            return "0x" + encode(["uint256[]"], [[UNREADABLE_HEALTH_FACTOR] * len(hfs)]).hex()
        return answer

    provider.handlers["eth_call"] = held_at_13_and_14
    gap = ScanResult(prices=[weth_update(12), weth_update(13, 1500), weth_update(14, 1500)])
    candidates.rescore_all(11, gap)

    assert candidates.select(model, step(16, first=17)).users == [ALICE]
    assert candidates.since[ALICE].update == weth_update(12)
    assert sorted(b for b, _ in asked[1:]) == [10, 12, 13, 14]


def set_model_price(model, asset: str, price: int) -> None:
    reserve = model.by_asset[asset]
    model.update_reserve(reserve.__class__(**{**vars(reserve), "price": price}))


def test_the_liquidation_stage_takes_the_first_liquidatable_block_as_the_trigger(world):
    model, candidates, liquidatable_from, _, _, _ = world
    liquidatable_from.update({ALICE: 14})
    candidates.rescore_all(11, ScanResult(prices=[weth_update(12, 1950), weth_update(14)]))
    candidates.select(model, step(16, first=17))
    later = BlockContext(
        16,
        "0x",
        17,
        0,
        ScanResult(),
        prices_seen={WBTC: candidates.since[ALICE]},
        first_liquidatable=candidates.since,
    )

    assert later.trigger([WETH], ALICE).update == weth_update(14)
    assert later.trigger([WBTC]) is candidates.since[ALICE]  # without an account: the latest price update
