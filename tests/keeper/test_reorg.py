"""Blocks are replaced: the keeper rolls its index and model back to the common ancestor, forgets
what only the replaced blocks contained, and follows its own transactions that they undid."""

from __future__ import annotations

from harness import make_keeper, rpc, run_until_idle

from keeper.store import MINED, PENDING

WAD = 10**18


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
    rpc(devnet, "anvil_reorg", depth, [])
    rpc(devnet, "evm_mine")
    with caplog.at_level("WARNING"):
        run_until_idle(keeper)
    assert "reorg_detected" in caplog.text
    assert bob not in keeper.store.accounts()
    assert bob not in keeper.model.accounts or not keeper.model.accounts[bob].has_debt
    assert keeper.store.checkpoint()[0] == devnet.w3.eth.block_number


def test_liquidation_undone_by_a_reorg_lands_again_under_the_same_nonce(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    devnet.set_price("WETH", 1900)
    run_until_idle(keeper)
    [first] = [t for t in keeper.store.txs() if t.kind == "liquidate"]
    assert first.status == MINED and devnet.health_factor(alice) >= WAD
    assert len(keeper.store.liquidations()) == 1

    # The liquidation's block is replaced by an empty one (the price update before it stays), and
    # the node forgets the transaction: alice is liquidatable again and the keeper's nonce is free.
    rpc(devnet, "anvil_reorg", devnet.w3.eth.block_number - first.mined_block + 1, [])
    rpc(devnet, "evm_mine")
    assert devnet.health_factor(alice) < WAD
    assert devnet.w3.eth.get_transaction_count(keeper.ctx.address) == first.nonce

    assert keeper.step().reorg_depth == 1
    assert keeper.store.tx(first.hash).status == PENDING
    for _ in range(keeper.settings.replace_after_blocks + 2):  # time for a rebroadcast or a replacement
        run_until_idle(keeper)
        if devnet.health_factor(alice) >= WAD:
            break
        rpc(devnet, "evm_mine")

    liquidations = [t for t in keeper.store.txs() if t.kind == "liquidate"]
    assert {t.nonce for t in liquidations} == {first.nonce}, "a second nonce was used for alice"
    assert devnet.w3.eth.get_transaction_count(keeper.ctx.address) == first.nonce + 1
    assert devnet.health_factor(alice) >= WAD
    [landed] = [t for t in liquidations if t.status == MINED]
    [record] = keeper.store.liquidations()
    assert record["tx_hash"] == landed.hash
    assert record["inclusion_block"] == devnet.w3.eth.get_transaction_receipt(landed.hash)["blockNumber"]
    assert b'liqkeeper_liquidations_total{outcome="liquidated"} 1.0' in keeper.metrics.exposition()
