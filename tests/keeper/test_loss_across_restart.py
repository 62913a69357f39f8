"""D3: a race lost while the keeper was down is recorded as lost, with the winner, from the chain.

The keeper sends a liquidation and stops before it is mined; a rival liquidates the account first.
After the restart the keeper finds its transaction reverted and must name the rival as the winner,
whether the rival's liquidation was mined during the downtime (in the same block as ours) or before
the keeper stopped (a block the stopped keeper had already processed)."""

from __future__ import annotations

from pathlib import Path

from fake_node import fake_web3
from harness import make_keeper, rpc
from stage_world import ALICE, BOB, CAROL, KEEPER, POOL, USDC, WETH, address, log, write_deployment

from keeper.blocks import ChainFollower
from keeper.discovery import Discovery
from keeper.rpc_batch import RpcCounter
from keeper.store import Store, TxRecord
from keeper.transactions import LIQUIDATE, Finished

WAD = 10**18


def send_then_stop(devnet, keeper_key, db):
    """A keeper sends its liquidation of Alice (mining paused) and stops before it is mined; the
    transaction it left in the mempool."""
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    first = make_keeper(devnet, keeper_key, db)
    first.start()
    rpc(devnet, "evm_setAutomine", False)
    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    sent = first.step().sent
    assert len(sent) == 1
    return alice, first, first.store.tx(sent[0])


def test_a_race_lost_while_the_keeper_was_down_is_recorded_lost_with_the_winner(devnet, keeper_key, tmp_path):
    db = tmp_path / "k.sqlite"
    rival = devnet.rival(5)
    alice, first, ours = send_then_stop(devnet, keeper_key, db)
    first.store.close()  # the keeper is down from here
    # The rival outbids the keeper's pending transaction: both are mined in one block, the rival's first.
    devnet.liquidate_as(rival, alice, tip=ours.tip * 10, max_fee=ours.max_fee * 10)
    rpc(devnet, "evm_mine")
    rpc(devnet, "evm_setAutomine", True)
    assert devnet.w3.eth.get_transaction_receipt(ours.hash)["status"] == 0

    second = make_keeper(devnet, keeper_key, db)
    second.start()

    [record] = second.store.liquidations()
    assert record["tx_hash"] == ours.hash
    assert record["outcome"] == "lost"
    assert record["winner"] == rival


def test_a_race_lost_to_a_liquidation_seen_before_the_stop_is_recorded_lost_after_the_restart(
    devnet, keeper_key, tmp_path
):
    db = tmp_path / "k.sqlite"
    rival = devnet.rival(5)
    alice, first, ours = send_then_stop(devnet, keeper_key, db)
    # The next block takes only the rival's liquidation (its fee clears the base fee, ours does not)...
    devnet.liquidate_as(rival, alice, tip=ours.tip * 10, max_fee=ours.max_fee * 10)
    rpc(devnet, "anvil_setNextBlockBaseFeePerGas", hex(ours.max_fee + 1))
    rpc(devnet, "evm_mine")
    rival_block = devnet.w3.eth.block_number
    assert rpc(devnet, "eth_getTransactionReceipt", ours.hash) is None  # ours still waits in the mempool
    first.step()  # ...which the keeper processes (the liquidation seen) before it stops
    assert first.processed == rival_block
    first.store.close()
    rpc(devnet, "evm_mine")  # ours, mined while the keeper is down: it reverts
    rpc(devnet, "evm_setAutomine", True)
    receipt = devnet.w3.eth.get_transaction_receipt(ours.hash)
    assert receipt["status"] == 0 and receipt["blockNumber"] > rival_block

    second = make_keeper(devnet, keeper_key, db)
    second.start()

    [record] = second.store.liquidations()
    assert record["outcome"] == "lost"
    assert record["winner"] == rival
    assert devnet.health_factor(alice) >= WAD


# The follower's question to the chain on its own, against a fake node.


def liquidation_log(block: int, index: int, user: str, liquidator: str) -> dict:
    return log(
        "LendingPool",
        "LiquidationCall",
        POOL,
        block,
        index,
        collateralAsset=WETH,
        debtAsset=USDC,
        user=user,
        liquidator=liquidator,
        debtRepaid=1,
        collateralSeized=1,
        protocolFee=0,
        liquidationBonus=10_500,
        healthFactorBefore=WAD - 1,
        receiveShares=False,
    )


def reverted(user: str, sent_block: int, block: int | None, tx_index: int = 0) -> Finished:
    """Our liquidation of `user`, sent at `sent_block`, reverted in `block` (None: dropped)."""
    record = TxRecord(
        f"0x{sent_block:064x}",
        1,
        LIQUIDATE,
        f"liquidate:{user}:{WETH}:{USDC}",
        "failed",
        "0x",
        1,
        1,
        1,
        sent_block,
        0,
    )
    receipt = None if block is None else {"status": 0, "blockNumber": block, "transactionIndex": tx_index}
    return Finished(record, receipt, 0)


def test_the_winner_is_the_latest_other_liquidator_before_our_transaction(tmp_path):
    rival, other = address(0xE001), address(0xE002)
    logs = [
        liquidation_log(8, 0, ALICE, other),  # before the liquidation was sent
        liquidation_log(10, 0, ALICE, rival),  # the race: earlier in our block
        liquidation_log(10, 2, ALICE, other),  # after ours in the same block
        liquidation_log(10, 0, BOB, KEEPER),  # our own liquidation of bob: not a rival
    ]
    asked: list[dict] = []

    def get_logs(params: list) -> list:
        query = params[0]
        asked.append(query)
        user_topic = query["topics"][3]
        low, high = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        return [e for e in logs if e["topics"][3] == user_topic and low <= int(e["blockNumber"], 16) <= high]

    w3 = fake_web3({"eth_getLogs": get_logs})
    store = Store(Path(":memory:"))
    follower = ChainFollower(w3, Discovery(w3, write_deployment(tmp_path), RpcCounter()), store, 1, 64)

    winners = follower.winners(
        [reverted(ALICE, 9, 10, tx_index=1), reverted(BOB, 9, 10, tx_index=1), reverted(CAROL, 9, None)],
        [KEEPER],
    )

    assert winners == {ALICE: rival}  # bob's only liquidation is ours; nobody liquidated carol
    assert [(int(q["fromBlock"], 16), int(q["toBlock"], 16)) for q in asked] == [(9, 10), (9, 10), (9, 9)]
