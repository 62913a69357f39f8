"""The dispatcher's decisions against a fake node: gas limits and budgets by kind, EIP-1559 and
legacy fees, consecutive nonces, what each refusal of the node leads to (resync, bump, a filled
nonce, no funds), dry runs, and when a stuck transaction is replaced (fees, budget, a moving
queue). The signed transactions are decoded back, so every assertion is about what would leave."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from fake_node import Mempool, fake_web3
from hexbytes import HexBytes
from web3 import Web3

from keeper.dispatch import Dispatcher
from keeper.metrics import Metrics
from keeper.rpc_batch import RawCall, RpcCounter
from keeper.store import MINED, PENDING, REPLACED, Store
from keeper.transactions import APPROVE, LIQUIDATE, SETTLE, DryRun, Fees, Intent, NoFunds, Refused, Send, Sent
from keeper.wallet import Wallet

GWEI = 10**9
KEY = "0x" + "4b" * 32
SENDER = Account.from_key(KEY).address
TARGET = Web3.to_checksum_address("0x" + "77" * 20)


def dispatcher_for(tmp_path, node: Mempool, *, dry_run: bool = False, **overrides: Any) -> Dispatcher:
    w3 = fake_web3(node.handlers())
    account = Account.from_key(KEY)
    rpc = RpcCounter()
    options: dict[str, Any] = {
        "max_gas_gwei": Decimal(500),
        "fee_bump": Decimal("1.125"),
        "replace_after_blocks": 3,
        "dry_run": dry_run,
        "gas_limit_liquidation": 600_000,
        "clock": lambda: 1000.0,
        **overrides,
    }
    wallet = Wallet(w3, account.address, Metrics(), rpc, Decimal("0.05"))
    return Dispatcher(w3, account, Store(tmp_path / "k.sqlite"), rpc, wallet, **options)


def call(n: int = 0) -> RawCall:
    return RawCall(TARGET, "0x" + f"{n:08x}", ())


def sends(count: int, gas_limit: int = 100_000, budget: int = 10**17) -> list[Send]:
    return [Send(f"test:{i}", call(i), gas_limit, budget) for i in range(count)]


FEES = Fees(max_fee=21 * GWEI, tip=GWEI, legacy=False)


# sizing and fees


@pytest.mark.parametrize(
    ("kind", "estimate", "gas_limit", "budget"),
    [
        # a quarter more plus 20k, at least twice the first worst-case fee as budget
        (LIQUIDATE, 300_000, 395_000, 2 * 21 * GWEI * 395_000),
        # capped at max(the liquidation gas limit, estimate + 20k)
        (LIQUIDATE, 700_000, 720_000, 2 * 21 * GWEI * 720_000),
        (LIQUIDATE, 500_000, 600_000, 2 * 21 * GWEI * 600_000),
        # 30% more plus 10k; settleDeficit's budget is four fees of its estimate
        (SETTLE, 100_000, 140_000, 4 * 21 * GWEI * 100_000),
        (APPROVE, 46_000, 69_800, 10**18),
    ],
)
def test_the_gas_limit_and_budget_follow_from_the_kind_and_the_estimate(
    tmp_path, kind, estimate, gas_limit, budget
):
    dispatcher = dispatcher_for(
        tmp_path,
        Mempool(
            SENDER,
        ),
    )
    asked = 10**18 if kind == APPROVE else 0
    send = dispatcher.sized(Intent(kind, "k", call(), estimate, asked), FEES)
    assert (send.gas_limit, send.budget_wei) == (gas_limit, budget)


def test_a_liquidations_budget_is_its_revenue_when_that_is_more_than_two_fees(tmp_path):
    dispatcher = dispatcher_for(
        tmp_path,
        Mempool(
            SENDER,
        ),
    )
    send = dispatcher.sized(Intent(LIQUIDATE, "k", call(), 300_000, 10**18), FEES)
    assert send.budget_wei == 10**18


def test_eip1559_fees_are_twice_the_base_fee_plus_a_1_gwei_tip_up_to_the_cap(tmp_path):
    assert dispatcher_for(tmp_path, Mempool(SENDER, base_fee=10 * GWEI)).current_fees() == Fees(
        21 * GWEI, GWEI, False
    )
    capped = dispatcher_for(tmp_path, Mempool(SENDER, base_fee=10 * GWEI), max_gas_gwei=Decimal(15))
    assert capped.current_fees() == Fees(15 * GWEI, GWEI, False)


def test_without_a_base_fee_the_nodes_gas_price_is_used_as_a_legacy_price(tmp_path):
    assert dispatcher_for(tmp_path, Mempool(SENDER, base_fee=None)).current_fees() == Fees(3 * GWEI, 0, True)


# sending


def test_a_batch_is_signed_at_consecutive_nonces_from_the_nodes_pending_count(tmp_path):
    node = Mempool(
        SENDER,
    )
    dispatcher = dispatcher_for(tmp_path, node)

    outcomes = dispatcher.submit_many("test", sends(3), 10, FEES)

    assert all(isinstance(o, Sent) for o in outcomes)
    assert [tx["nonce"] for tx in node.taken] == [7, 8, 9]
    assert {(tx["maxFeePerGas"], tx["maxPriorityFeePerGas"], tx["gas"]) for tx in node.taken} == {
        (21 * GWEI, GWEI, 100_000)
    }
    assert [o.record.hash for o in outcomes] == [tx["hash"] for tx in node.taken]
    assert {o.at_ms for o in outcomes} == {1_000_000}
    assert dispatcher.w3.provider.batches == 1  # the three raw transactions in one request
    assert [t.hash for t in dispatcher.store.txs(PENDING)] == [tx["hash"] for tx in node.taken]
    assert dispatcher.nonce == 10


def test_a_nonce_another_process_used_is_resynced_and_the_send_moves_to_the_next_one(tmp_path, caplog):
    node = Mempool(
        SENDER,
    )
    dispatcher = dispatcher_for(tmp_path, node)
    dispatcher.sync_nonce()
    node.pending_nonce = node.confirmed_nonce = 9  # the same key sent two transactions elsewhere
    node.refuse = lambda tx: "nonce too low: next nonce 9" if tx["nonce"] < 9 else None

    with caplog.at_level("WARNING"):
        outcomes = dispatcher.submit_many("test", sends(2), 10, FEES)

    assert [o.record.nonce for o in outcomes] == [9, 10]
    assert caplog.text.count("kind=nonce_too_low") == 2
    assert not any(t.kind == "fill" for t in dispatcher.store.txs())  # nonces 7 and 8 are not ours


def test_an_underpriced_replacement_at_the_same_nonce_is_sent_again_with_bumped_fees(tmp_path):
    node = Mempool(
        SENDER,
    )
    node.refuse = lambda tx: "replacement transaction underpriced" if tx["maxFeePerGas"] < 22 * GWEI else None
    dispatcher = dispatcher_for(tmp_path, node)

    [outcome] = dispatcher.submit_many("test", sends(1), 10, FEES)

    assert outcome.record.nonce == 7
    assert (
        outcome.record.max_fee == 21 * GWEI * 1125 // 1000 + 1
        and outcome.record.tip == 1125 * GWEI // 1000 + 1
    )


def test_a_fee_below_the_base_fee_is_raised_to_the_market_and_bumped_at_the_same_nonce(tmp_path):
    node = Mempool(SENDER, base_fee=30 * GWEI)
    node.refuse = lambda tx: (
        "max fee per gas less than block base fee" if tx["maxFeePerGas"] < 30 * GWEI else None
    )
    dispatcher = dispatcher_for(tmp_path, node)

    [outcome] = dispatcher.submit_many("test", sends(1), 10, FEES)

    assert outcome.record.nonce == 7
    assert outcome.record.max_fee == 61 * GWEI * 1125 // 1000 + 1  # the market's 2 x 30 + 1 gwei, bumped


def test_what_the_wallet_cannot_pay_is_no_funds_and_consumes_no_nonce(tmp_path):
    node = Mempool(
        SENDER,
    )
    node.refuse = lambda tx: "insufficient funds for gas * price + value"
    dispatcher = dispatcher_for(tmp_path, node)

    outcomes = dispatcher.submit_many("test", sends(2), 10, FEES)

    assert [type(o) for o in outcomes] == [NoFunds, NoFunds]
    assert dispatcher.nonce == 7 and dispatcher.store.txs() == []


def test_a_send_refused_for_good_between_accepted_ones_leaves_its_nonce_filled(tmp_path):
    node = Mempool(
        SENDER,
    )
    node.refuse = lambda tx: "intrinsic gas too high" if tx["data"] == HexBytes(call(1).data) else None
    dispatcher = dispatcher_for(tmp_path, node)

    outcomes = dispatcher.submit_many("test", sends(3), 10, FEES)

    assert [type(o) for o in outcomes] == [Sent, Refused, Sent]
    filler = next(tx for tx in node.taken if tx["nonce"] == 8)
    account = Account.from_key(KEY).address
    assert (Web3.to_checksum_address(filler["to"]), filler["value"], filler["gas"]) == (account, 0, 21_000)
    assert [t.kind for t in dispatcher.store.txs()] == ["test", "fill", "test"]


def test_a_dry_run_signs_and_sends_nothing(tmp_path):
    node = Mempool(
        SENDER,
    )
    dispatcher = dispatcher_for(tmp_path, node, dry_run=True)

    outcomes = dispatcher.submit_many("test", sends(2), 10, FEES)

    assert [type(o) for o in outcomes] == [DryRun, DryRun]
    assert [o.gas_limit for o in outcomes] == [100_000, 100_000]
    assert dispatcher.w3.provider.requests == [("eth_chainId", [])]
    assert dispatcher.store.txs() == []


def test_a_round_sets_each_worst_case_gas_aside_from_one_balance_read(tmp_path):
    node = Mempool(SENDER, balance=2 * 21 * GWEI * 395_000 + 1)  # two liquidations' worst-case gas
    dispatcher = dispatcher_for(tmp_path, node)
    intents = [Intent(LIQUIDATE, f"liquidate:{i}", call(i), 300_000) for i in range(3)]

    outcomes = dispatcher.round(10, FEES).dispatch(intents)

    assert [type(o) for o in outcomes] == [Sent, Sent, NoFunds]
    assert outcomes[2].reason == "insufficient native balance"
    assert len(dispatcher.w3.provider.calls_of("eth_getBalance")) == 1
    assert [tx["gas"] for tx in node.taken] == [395_000, 395_000]


# following and replacing


def test_a_transaction_no_block_took_is_replaced_after_the_configured_blocks_within_its_budget(tmp_path):
    node = Mempool(
        SENDER,
    )
    dispatcher = dispatcher_for(tmp_path, node)
    [sent] = dispatcher.submit_many("test", sends(1), 10, FEES)

    assert dispatcher.poll(12) == [] and len(node.taken) == 1  # two blocks: not yet
    dispatcher.poll(13)

    assert len(node.taken) == 2 and dispatcher.replacements == 1
    replacement = node.taken[1]
    assert replacement["nonce"] == 7 and replacement["data"] == HexBytes(call(0).data)
    assert replacement["maxFeePerGas"] == 21 * GWEI * 1125 // 1000 + 1  # above the market's 21 gwei
    old = dispatcher.store.tx(sent.record.hash)
    assert old.status == REPLACED and old.replaced_by == replacement["hash"]

    node.mined[replacement["hash"]], node.confirmed_nonce = 14, 8
    [finished] = dispatcher.poll(14)
    assert (finished.record.hash, finished.record.status) == (replacement["hash"], MINED)


def test_a_replacement_past_the_budget_is_not_sent_and_the_old_bytes_go_out_again(tmp_path, caplog):
    node = Mempool(
        SENDER,
    )
    dispatcher = dispatcher_for(tmp_path, node)
    dispatcher.submit_many("test", sends(1, budget=21 * GWEI * 100_000), 10, FEES)  # exactly its first fee

    with caplog.at_level("WARNING"):
        dispatcher.poll(13)
        dispatcher.poll(14)

    assert dispatcher.replacements == 0
    assert node.raws[1:] == []  # the node already had it: "already known" is not kept as taken
    rebroadcasts = [p[0] for p in dispatcher.w3.provider.calls_of("eth_sendRawTransaction")][1:]
    assert rebroadcasts == [node.raws[0], node.raws[0]]
    assert caplog.text.count("replacement_skipped") == 1


def test_a_transaction_behind_a_moving_queue_waits_for_block_space_not_for_a_higher_fee(tmp_path):
    node = Mempool(
        SENDER,
    )
    dispatcher = dispatcher_for(tmp_path, node)
    first, _ = dispatcher.submit_many("test", sends(2), 10, FEES)
    dispatcher.poll(11)

    node.mined[first.record.hash], node.confirmed_nonce = 12, 8  # the queue moved at block 12
    [finished] = dispatcher.poll(12)
    assert finished.record.hash == first.record.hash
    dispatcher.poll(14)
    assert dispatcher.replacements == 0  # 3 blocks since sent, 2 since the queue moved
    dispatcher.poll(15)
    assert dispatcher.replacements == 1 and node.taken[-1]["nonce"] == 8
