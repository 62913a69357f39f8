"""Races against a rival liquidator that tips a fixed 5 gwei, decided by the chain: for each account,
whose `LiquidationCall` comes first. The keeper bids a share of each liquidation's profit, so it is
ordered first in every account the rival also goes for, whether the rival's transaction reached the
node before or after the keeper's; and it sends nothing for an account a rival already outbids past
the keeper's bounds (a revert would only cost it gas)."""

from __future__ import annotations

from harness import make_keeper, rpc

from keeper.calls import event

GWEI = 10**9
RIVAL_INDEX = 5
LIQUIDATION_CALL = event("LendingPool", "LiquidationCall")


def first_liquidators(devnet, from_block: int) -> dict[str, str]:
    """Account -> the liquidator of its first `LiquidationCall` from `from_block`, in chain order."""
    logs = devnet.w3.eth.get_logs(
        {
            "address": devnet.deployment.pool,
            "fromBlock": from_block,
            "toBlock": "latest",
            "topics": [devnet.w3.to_hex(LIQUIDATION_CALL.topic)],
        }
    )
    first: dict[str, str] = {}
    for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
        decoded = devnet.pool.events.LiquidationCall().process_log(entry)["args"]
        first.setdefault(decoded["user"], decoded["liquidator"])
    return first


def rival_liquidates(devnet, rival: str, user: str, tip: int) -> str:
    return devnet.liquidate_as(rival, user, tip=tip, max_fee=tip + 50 * GWEI)


def test_the_keeper_outbids_a_fixed_5_gwei_rival_in_every_contested_account(devnet, keeper_key, tmp_path):
    users = [
        devnet.borrower(i, "WETH", 4 + 3 * i, "USDC", hf=1.02, collateral_price=2000) for i in range(1, 5)
    ]
    rival = devnet.rival(RIVAL_INDEX)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    keeper_address = keeper.ctx.address

    rpc(devnet, "evm_setAutomine", False)
    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    start = devnet.w3.eth.block_number
    # The rival saw the same price update: half of its liquidations reach the node before the
    # keeper's, half after.
    early = [rival_liquidates(devnet, rival, user, 5 * GWEI) for user in users[:2]]
    report = keeper.step()
    late = [rival_liquidates(devnet, rival, user, 5 * GWEI) for user in users[2:]]
    assert len(report.sent) == len(users)
    rpc(devnet, "evm_mine")
    rpc(devnet, "evm_setAutomine", True)

    first = first_liquidators(devnet, start)
    assert first == {user: keeper_address for user in users}, "the rival was ordered first"
    tips = sorted(keeper.store.tx(h).tip for h in report.sent)
    assert tips[0] > 5 * GWEI
    for tx_hash in early + late:  # the rival's transactions came too late: healthy accounts
        assert devnet.w3.eth.get_transaction_receipt(tx_hash)["status"] == 0


def test_an_account_a_rival_outbids_past_the_bounds_costs_the_keeper_nothing(devnet, keeper_key, tmp_path):
    contested = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    free = devnet.borrower(2, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    rival = devnet.rival(RIVAL_INDEX)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()

    rpc(devnet, "evm_setAutomine", False)
    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    start = devnet.w3.eth.block_number
    rival_liquidates(devnet, rival, contested, 600 * GWEI)  # above MAX_GAS_GWEI's 500
    report = keeper.step()
    rpc(devnet, "evm_mine")
    rpc(devnet, "evm_setAutomine", True)

    assert report.skipped == {contested: "outbid by a rival"}
    assert [keeper.store.tx(h).intent.split(":")[1] for h in report.sent] == [free]
    assert first_liquidators(devnet, start) == {contested: rival, free: keeper.ctx.address}
    keeper.step()
    assert [r["user"] for r in keeper.store.liquidations()] == [free]  # no reverted transaction of ours
