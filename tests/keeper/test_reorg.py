"""Blocks are replaced: the keeper rolls its index and model back to the common ancestor and
forgets what only the replaced blocks contained."""

from __future__ import annotations

from harness import make_keeper, run_until_idle


def test_reorg_rolls_back_accounts_seen_only_in_replaced_blocks(devnet, keeper_key, tmp_path, caplog):
    devnet.borrower(1, "WETH", 10, "USDC", hf=1.5, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    run_until_idle(keeper)
    fork_point = devnet.w3.eth.block_number

    bob = devnet.borrower(2, "WETH", 5, "USDC", hf=1.5, collateral_price=2000)  # 4 blocks
    run_until_idle(keeper)
    assert bob in keeper.model.accounts and bob in keeper.store.accounts()

    # Replace bob's four blocks (and one more) with empty ones: his position never happened.
    depth = devnet.w3.eth.block_number - fork_point
    answer = devnet.w3.provider.make_request("anvil_reorg", [depth, []])
    assert not answer.get("error"), answer
    devnet.w3.provider.make_request("evm_mine", [])
    with caplog.at_level("WARNING"):
        run_until_idle(keeper)
    assert "reorg_detected" in caplog.text
    assert bob not in keeper.store.accounts()
    assert bob not in keeper.model.accounts or not keeper.model.accounts[bob].has_debt
    assert keeper.store.checkpoint()[0] == devnet.w3.eth.block_number
