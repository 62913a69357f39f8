"""The keeper stops between send and receipt: after a restart the in-flight transaction is found
and followed to its receipt, and the liquidation is never sent twice."""

from __future__ import annotations

from harness import make_keeper, rpc, run_until_idle

from keeper.store import MINED

WAD = 10**18


def test_in_flight_liquidation_is_followed_after_restart(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    db = tmp_path / "k.sqlite"
    first = make_keeper(devnet, keeper_key, db)
    first.start()
    rpc(devnet, "evm_setAutomine", False)
    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    sent = first.step().sent
    assert len(sent) == 1
    first.store.close()  # the process is gone; its transaction is still in the mempool

    second = make_keeper(devnet, keeper_key, db)
    second.start()
    rpc(devnet, "evm_mine")
    rpc(devnet, "evm_setAutomine", True)
    run_until_idle(second)
    liquidations = [t for t in second.store.txs() if t.kind == "liquidate"]
    assert [t.hash for t in liquidations] == sent
    assert liquidations[0].status == MINED
    assert devnet.health_factor(alice) >= WAD
    assert len(second.store.liquidations()) == 1
