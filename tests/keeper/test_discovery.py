"""Discovery and the chain follower against a fake node: log ranges halve when the node refuses
them and nothing is skipped; logs decode into touched accounts and price updates; a replaced block
is found by its parent hash and rolled back to the common ancestor, and our transactions mined in
it come back as pending."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fake_node import RpcError, block, block_hash_for, fake_web3
from stage_world import ALICE, BOB, POOL, USDC, WETH, WETH_FEED, log, write_deployment

from keeper.blocks import ChainFollower
from keeper.discovery import Discovery
from keeper.identity import ChainIdentity
from keeper.rpc_batch import RpcCounter
from keeper.store import MINED, PENDING, Store, TxRecord


def _range(params: list) -> tuple[int, int]:
    query = params[0]
    return int(query["fromBlock"], 16), int(query["toBlock"], 16)


def test_a_refused_range_halves_until_the_node_serves_it_then_grows_back(tmp_path):
    asked: list[tuple[int, int]] = []

    def get_logs(params: list) -> list:
        start, end = _range(params)
        asked.append((start, end))
        if end - start + 1 > 250:
            raise RpcError("query exceeds max block range 250", code=-32005)
        return []

    w3 = fake_web3({"eth_getLogs": get_logs})
    rpc = RpcCounter()
    discovery = Discovery(w3, write_deployment(tmp_path), rpc, max_chunk=1000)

    discovery.scan(1, 2000)

    served = [(s, e) for s, e in asked if e - s + 1 <= 250]
    assert sum(e - s + 1 for s, e in served) == 2000  # every block once
    assert sorted(b for s, e in served for b in range(s, e + 1)) == list(range(1, 2001))
    assert asked[:3] == [(1, 1000), (1, 500), (1, 250)]  # halved twice
    assert asked[3] == (251, 750)  # after a served range, the chunk doubles again
    assert rpc.calls == len(asked)


def test_an_error_that_is_not_about_the_range_on_one_block_is_raised(tmp_path):
    def get_logs(params: list) -> list:
        raise RpcError("internal error")

    discovery = Discovery(fake_web3({"eth_getLogs": get_logs}), write_deployment(tmp_path), RpcCounter())
    with pytest.raises(Exception, match="internal error"):
        discovery.scan(7, 7)


def test_pool_events_touch_accounts_and_feed_updates_become_prices(tmp_path):
    logs = [
        log("LendingPool", "Borrow", POOL, 5, 0, asset=USDC, user=ALICE, assets=10, shares=10),
        log("MockPriceFeed", "AnswerUpdated", WETH_FEED, 6, 1, current=1900 * 10**8, roundId=7, updatedAt=99),
        log("LendingPool", "Supply", POOL, 6, 2, asset=WETH, caller=BOB, onBehalfOf=BOB, assets=1, shares=1),
    ]
    w3 = fake_web3({"eth_getLogs": lambda params: logs})
    discovery = Discovery(w3, write_deployment(tmp_path), RpcCounter())

    result = discovery.scan(5, 6)

    assert result.touched == {ALICE, BOB}
    assert result.first_seen == {ALICE: 5, BOB: 6}
    [price] = result.prices
    assert (price.asset, price.price, price.round_id, price.block, price.log_index) == (
        WETH,
        1900 * 10**8,
        7,
        6,
        1,
    )
    assert [e.name for e in result.events] == ["Borrow", "Supply"]


class Chain:
    """A fake chain of blocks by number; `fork(n)` replaces block n and every later one."""

    def __init__(self, head: int):
        self.head = head
        self.blocks = {n: block(n) for n in range(0, head + 1)}
        self.logs: list[dict] = []

    def fork(self, first: int, head: int) -> None:
        parent = self.blocks[first - 1]["hash"]
        for n in range(first, head + 1):
            forked = block(n, parent=parent, block_hash=block_hash_for(n, fork="b"))
            self.blocks[n] = forked
            parent = forked["hash"]
        for n in [n for n in self.blocks if n > head]:
            del self.blocks[n]
        self.head = head

    def handlers(self) -> dict:
        return {
            "eth_blockNumber": lambda params: hex(self.head),
            "eth_getBlockByNumber": lambda params: self.blocks.get(int(params[0], 16)),
            "eth_getLogs": lambda params: [
                entry
                for entry in self.logs
                if _range(params)[0] <= int(entry["blockNumber"], 16) <= _range(params)[1]
            ],
        }


def _follower(tmp_path, chain: Chain) -> tuple[ChainFollower, Store]:
    w3 = fake_web3(chain.handlers())
    deployment = write_deployment(tmp_path, deploy_block=1)
    store = Store(tmp_path / "k.sqlite")
    follower = ChainFollower(w3, Discovery(w3, deployment, RpcCounter()), store, 1, keep_blocks=64)
    follower.resume(ChainIdentity.of(w3, deployment))
    follower.catch_up(chain.head)
    return follower, store


def test_a_replaced_block_is_found_by_its_parent_hash_and_rolled_back_to_the_ancestor(tmp_path):
    chain = Chain(head=3)
    chain.logs = [log("LendingPool", "Borrow", POOL, 5, 0, asset=USDC, user=ALICE, assets=1, shares=1)]
    follower, store = _follower(tmp_path, chain)
    for head in (4, 5):
        chain.head = head
        chain.blocks[head] = block(head)
        follower.commit(follower.next_block())
    ours = TxRecord("0x01", 0, "liquidate", "liquidate:a:b:c", MINED, "0x", 1, 1, 1, 5, 0, mined_block=5)
    store.add_tx(ours)
    assert ALICE in store.accounts()

    chain.logs = []  # alice's borrow was in the replaced block 5
    chain.fork(4, 6)
    context = follower.next_block()

    assert context.reorg is not None
    assert (context.reorg.ancestor, context.reorg.depth) == (3, 2)
    assert context.reorg.reopened == [replace(ours, status=PENDING, mined_block=None)]
    assert ALICE not in context.reorg.known and store.accounts() == []
    assert context.first == 4 and context.head == 6  # the step reads the new branch from the ancestor
    assert store.checkpoint() == (3, block_hash_for(3))
    follower.commit(context)
    assert store.checkpoint() == (6, block_hash_for(6, fork="b"))
    assert follower.processed == 6


def test_a_chain_shorter_than_the_last_block_processed_rolls_back_and_reads_nothing_new(tmp_path):
    chain = Chain(head=6)
    follower, _ = _follower(tmp_path, chain)
    for head in (7, 8):
        chain.head = head
        chain.blocks[head] = block(head)
        follower.commit(follower.next_block())

    chain.fork(7, 7)  # block 8 is gone and 7 replaced
    context = follower.next_block()

    assert context.scan is None and context.head == 7
    assert (context.reorg.ancestor, context.reorg.depth) == (6, 2)
    assert follower.processed == 6  # the next step reads block 7 again
    assert follower.next_block().first == 7


def test_no_new_block_is_no_context(tmp_path):
    chain = Chain(head=3)
    follower, _ = _follower(tmp_path, chain)
    assert follower.next_block() is None


def test_price_updates_are_kept_across_blocks_with_when_they_were_seen(tmp_path):
    chain = Chain(head=3)
    follower, _ = _follower(tmp_path, chain)
    follower.clock = lambda: 1000.0
    chain.head, chain.blocks[4] = 4, block(4, timestamp=1234)
    chain.logs = [log("MockPriceFeed", "AnswerUpdated", WETH_FEED, 4, 0, current=1, roundId=1, updatedAt=1)]
    follower.commit(follower.next_block())
    chain.head, chain.blocks[5], chain.logs = 5, block(5), []

    context = follower.next_block()

    seen = context.prices_seen[WETH]
    assert (seen.update.block, seen.seen_ms, seen.block_ts) == (4, 1_000_000, 1234)
    assert context.trigger([USDC]) is None and context.trigger([USDC, WETH]) is seen
