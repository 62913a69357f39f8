"""Another process sends from the keeper's key: the keeper's next send meets `nonce too low`,
resyncs from the node and goes on."""

from __future__ import annotations

from harness import make_keeper

WAD = 10**18


def test_keeper_resyncs_after_another_process_used_its_nonce(devnet, keeper_key, tmp_path, caplog):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    keeper.dispatcher.sync_nonce()
    stale = keeper.dispatcher.nonce
    # The same key, used elsewhere (Anvil keeps the account unlocked): two nonces are consumed.
    for _ in range(2):
        devnet.w3.eth.send_transaction({"from": keeper.ctx.address, "to": keeper.ctx.address, "value": 1})
    devnet.set_price("WETH", 1900)
    with caplog.at_level("WARNING"):
        report = keeper.step()
    assert "kind=nonce_too_low" in caplog.text
    assert len(report.sent) == 1
    assert keeper.store.tx(report.sent[0]).nonce == stale + 2
    assert devnet.w3.eth.get_transaction_receipt(report.sent[0])["status"] == 1
    assert devnet.health_factor(alice) >= WAD
