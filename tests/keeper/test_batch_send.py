"""Liquidations leave in batches (one JSON-RPC request for many signed transactions). A batch is
stored before it leaves, and a transaction the node refuses never leaves a nonce gap behind: the
transactions after it would otherwise wait forever."""

from __future__ import annotations

from dataclasses import replace

from harness import make_keeper, rpc

from keeper.store import MINED, PENDING
from keeper.transactions import NoFunds, Refused, Send

MAX = 2**256 - 1


def approvals(devnet, count: int, gas_limit: int = 80_000) -> list[Send]:
    token = devnet.token("USDC")
    return [
        Send(f"test:{i}", token.functions.approve(devnet.deployment.pool, MAX - i), gas_limit, 10**17)
        for i in range(count)
    ]


class Memo:
    """A note kept with a transaction, as the liquidation stage keeps its detections."""

    def __init__(self, key: str):
        self.key = key

    def render(self, signed_ms: int) -> str:
        return f"signed at {signed_ms}"


def test_a_batch_goes_out_at_consecutive_nonces_and_every_transaction_mines(devnet, keeper_key, tmp_path):
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    dispatcher = keeper.dispatcher
    first = dispatcher.sync_nonce()
    rpc(devnet, "evm_setAutomine", False)
    sends = [replace(send, memo=Memo(f"memo:{send.intent}")) for send in approvals(devnet, 5)]

    results = [r.record for r in dispatcher.submit_many("test", sends, 0)]

    assert [r.nonce for r in results] == list(range(first, first + 5))
    stored = [keeper.store.get_meta(f"memo:{s.intent}") for s in sends]  # in the batch's commit
    assert all(memo is not None and memo.startswith("signed at ") for memo in stored)
    assert {t.hash for t in keeper.store.txs(PENDING)} == {r.hash for r in results}
    rpc(devnet, "evm_mine")
    receipts = [devnet.w3.eth.get_transaction_receipt(r.hash) for r in results]
    assert [r["status"] for r in receipts] == [1] * 5
    assert len({r["blockNumber"] for r in receipts}) == 1
    assert dispatcher.nonce == first + 5


def test_a_refused_transaction_in_mid_batch_has_its_nonce_filled(devnet, keeper_key, tmp_path, caplog):
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    dispatcher = keeper.dispatcher
    first = dispatcher.sync_nonce()
    block_gas = devnet.w3.eth.get_block("latest")["gasLimit"]
    sends = approvals(devnet, 4)
    sends[1] = Send("test:too-big", sends[1].call, block_gas + 1, 10**17)  # no block can hold it

    with caplog.at_level("WARNING"):
        outcomes = dispatcher.submit_many("test", sends, devnet.w3.eth.block_number)

    assert isinstance(outcomes[1], Refused)
    results = {i: outcomes[i].record for i in (0, 2, 3)}
    assert [results[i].nonce for i in (0, 2, 3)] == [first, first + 2, first + 3]
    assert f"nonce_filled nonce={first + 1}" in caplog.text
    filler = next(t for t in keeper.store.txs() if t.kind == "fill")
    assert filler.nonce == first + 1
    for record in (results[0], filler, results[2], results[3]):
        assert devnet.w3.eth.get_transaction_receipt(record.hash)["status"] == 1
    assert devnet.w3.eth.get_transaction_count(keeper.ctx.address) == first + 4
    assert dispatcher.nonce == first + 4
    assert all(t.intent != "test:too-big" for t in keeper.store.txs())  # it never left

    head = devnet.w3.eth.block_number
    outcomes = dispatcher.poll(head)
    assert {o.record.status for o in outcomes} == {MINED}
    assert dispatcher.pending_count() == 0


def test_a_refused_last_transaction_leaves_its_nonce_for_the_next_send(devnet, keeper_key, tmp_path):
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    dispatcher = keeper.dispatcher
    first = dispatcher.sync_nonce()
    block_gas = devnet.w3.eth.get_block("latest")["gasLimit"]
    sends = approvals(devnet, 3)
    sends[2] = Send("test:too-big", sends[2].call, block_gas + 1, 10**17)

    results = dispatcher.submit_many("test", sends, devnet.w3.eth.block_number)

    assert isinstance(results[2], Refused)
    assert not any(t.kind == "fill" for t in keeper.store.txs())  # nothing waits behind it
    assert dispatcher.nonce == first + 2
    [after] = [
        r.record for r in dispatcher.submit_many("test", approvals(devnet, 1), devnet.w3.eth.block_number)
    ]
    assert after.nonce == first + 2
    assert devnet.w3.eth.get_transaction_receipt(after.hash)["status"] == 1


def test_a_batch_below_the_base_fee_is_sent_again_with_a_higher_fee_at_the_same_nonces(
    devnet, keeper_key, tmp_path, caplog
):
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    dispatcher = keeper.dispatcher
    first = dispatcher.sync_nonce()
    fees = dispatcher.current_fees()
    stale = type(fees)(max_fee=1, tip=1, legacy=False)  # far below the node's base fee

    with caplog.at_level("WARNING"):
        outcomes = dispatcher.submit_many("test", approvals(devnet, 3), devnet.w3.eth.block_number, stale)
        results = [r.record for r in outcomes]

    assert "kind=fee_below_base" in caplog.text
    assert [r.nonce for r in results] == [first, first + 1, first + 2]
    assert all(r.max_fee > stale.max_fee for r in results)
    assert not any(t.kind == "fill" for t in keeper.store.txs())
    for record in results:
        assert devnet.w3.eth.get_transaction_receipt(record.hash)["status"] == 1


def test_a_batch_the_wallet_cannot_pay_reports_funds_and_consumes_no_nonce(devnet, keeper_key, tmp_path):
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    dispatcher = keeper.dispatcher
    first = dispatcher.sync_nonce()
    rpc(devnet, "anvil_setBalance", keeper.ctx.address, hex(10**12))  # a millionth of an ETH

    results = dispatcher.submit_many("test", approvals(devnet, 3), devnet.w3.eth.block_number)

    assert all(isinstance(r, NoFunds) for r in results)
    assert dispatcher.nonce == first
    assert keeper.store.txs() == []


def test_a_burst_waiting_for_block_space_is_not_replaced_while_its_queue_moves(devnet, keeper_key, tmp_path):
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", replace_after_blocks=2)
    dispatcher = keeper.dispatcher
    dispatcher.sync_nonce()
    rpc(devnet, "evm_setAutomine", False)
    rpc(devnet, "evm_setBlockGasLimit", hex(100_000))  # one approval (80k gas limit) a block
    sent = [
        r.record for r in dispatcher.submit_many("test", approvals(devnet, 6), devnet.w3.eth.block_number)
    ]

    mined_blocks = []
    for _ in range(10):
        rpc(devnet, "evm_mine")
        for outcome in dispatcher.poll(devnet.w3.eth.block_number):
            mined_blocks.append(outcome.record.mined_block)
        if dispatcher.pending_count() == 0:
            break

    assert dispatcher.replacements == 0
    assert len(mined_blocks) == 6 and len(set(mined_blocks)) == 6  # one a block, in turn
    assert {t.hash for t in keeper.store.txs(MINED)} == {r.hash for r in sent}


def small_blocks(devnet, keeper_key, tmp_path):
    """A keeper whose node mines by hand, in blocks of 100k gas (one approval with a 90k limit)."""
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.dispatcher.sync_nonce()
    rpc(devnet, "evm_setAutomine", False)
    rpc(devnet, "evm_setBlockGasLimit", hex(100_000))
    return keeper, keeper.dispatcher


def big_then_small(devnet, small_gas_limit: int) -> list[Send]:
    sends = approvals(devnet, 5, gas_limit=small_gas_limit)
    sends[0] = Send("test:first", sends[0].call, 80_000, 10**17)
    sends[1] = Send("test:big", sends[1].call, 90_000, 10**17)
    return sends


def mine_and_poll_until_done(devnet, dispatcher, blocks: int) -> None:
    for _ in range(blocks):
        dispatcher.poll(devnet.w3.eth.block_number)
        if dispatcher.pending_count() == 0:
            return
        rpc(devnet, "evm_mine")


def test_transactions_the_node_drops_from_its_queue_are_sent_again_at_the_next_poll(
    devnet, keeper_key, tmp_path, caplog
):
    keeper, dispatcher = small_blocks(devnet, keeper_key, tmp_path)
    # Anvil builds a block by skipping a transaction whose gas limit no longer fits, then finds the
    # next, smaller one "nonce too high" and drops it from the pool with every later one. (Under
    # half the big one's limit, the small ones keep their own: see the next test.)
    sent = [
        r.record
        for r in dispatcher.submit_many("test", big_then_small(devnet, 40_000), devnet.w3.eth.block_number)
    ]
    rpc(devnet, "evm_mine")
    known = [rpc(devnet, "eth_getTransactionByHash", r.hash) is not None for r in sent]
    assert known == [True, True, False, False, False]  # what the keeper has to recover from

    with caplog.at_level("WARNING"):
        mine_and_poll_until_done(devnet, dispatcher, 6)

    assert "node_dropped_txs" in caplog.text
    assert {t.hash for t in keeper.store.txs(MINED)} == {r.hash for r in sent}
    assert dispatcher.replacements == 0


def test_gas_limits_never_decrease_along_the_queue_so_the_node_keeps_it(devnet, keeper_key, tmp_path, caplog):
    keeper, dispatcher = small_blocks(devnet, keeper_key, tmp_path)
    sent = [
        r.record
        for r in dispatcher.submit_many("test", big_then_small(devnet, 50_000), devnet.w3.eth.block_number)
    ]
    assert [r.gas_limit for r in sent] == [80_000, 90_000, 90_000, 90_000, 90_000]
    [later] = [r.record for r in dispatcher.submit_many("test", approvals(devnet, 1, gas_limit=60_000), 0)]
    assert later.gas_limit == 90_000  # the queue still holds the 90k ones
    rpc(devnet, "evm_mine")
    assert all(rpc(devnet, "eth_getTransactionByHash", r.hash) is not None for r in [*sent, later])

    with caplog.at_level("WARNING"):
        mine_and_poll_until_done(devnet, dispatcher, 8)

    assert "node_dropped_txs" not in caplog.text
    assert len(keeper.store.txs(MINED)) == 6
    [alone] = [r.record for r in dispatcher.submit_many("test", approvals(devnet, 1, gas_limit=60_000), 0)]
    assert alone.gas_limit == 60_000  # an empty queue sets no floor
