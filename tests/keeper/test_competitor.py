"""Another liquidator takes the account first: the keeper's transaction fails in the same block,
nothing is retried blindly, and the record names the winner."""

from __future__ import annotations

from harness import make_keeper

WAD = 10**18


def rpc(devnet, method, *params):
    answer = devnet.w3.provider.make_request(method, list(params))
    assert not answer.get("error"), answer


def test_losing_to_a_competitor_is_recorded_with_the_winner(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    rival = devnet.rival(5)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()

    rpc(devnet, "evm_setAutomine", False)
    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    report = keeper.step()
    assert len(report.sent) == 1
    ours = keeper.store.tx(report.sent[0])
    # The rival outbids the keeper's tip, so it is ordered first in the block.
    devnet.liquidate_as(rival, alice, tip=ours.tip * 10, max_fee=ours.max_fee * 10)
    rpc(devnet, "evm_mine")
    rpc(devnet, "evm_setAutomine", True)
    after = keeper.step()

    assert devnet.w3.eth.get_transaction_receipt(ours.hash)["status"] == 0
    assert after.sent == []  # the account is healthy again: nothing is sent blindly
    records = keeper.store.liquidations()
    assert len(records) == 1
    assert records[0]["outcome"] == "lost"
    assert records[0]["winner"] == rival
    assert devnet.health_factor(alice) >= WAD
