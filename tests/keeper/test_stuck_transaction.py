"""A liquidation stuck behind a base-fee spike is replaced with the same nonce at higher fees,
within its budget, and lands; the first hash is recorded as replaced."""

from __future__ import annotations

from harness import make_keeper, rpc

from keeper.store import MINED, REPLACED

WAD = 10**18
GWEI = 10**9


def test_underpriced_liquidation_is_replaced_and_lands(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    # At the market's tip (no bid), so that a base fee twenty times the first max fee stays within
    # MAX_GAS_GWEI and the liquidation's budget: the replacement can land.
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", replace_after_blocks=2, bid_share=0)
    keeper.start()
    rpc(devnet, "evm_setAutomine", False)

    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    report = keeper.step()
    assert len(report.sent) == 1
    first = keeper.store.tx(report.sent[0])

    # The base fee jumps above what the first transaction offers: it cannot be included.
    rpc(devnet, "anvil_setNextBlockBaseFeePerGas", hex(first.max_fee * 20))
    for _ in range(4):
        rpc(devnet, "evm_mine")
        keeper.step()
        if len(keeper.store.txs()) > len([t for t in keeper.store.txs() if t.kind != "liquidate"]) + 1:
            break
    liquidations = [t for t in keeper.store.txs() if t.kind == "liquidate"]
    assert len(liquidations) == 2, "the stuck transaction was not replaced"
    replacement = liquidations[1]
    assert replacement.nonce == first.nonce
    assert replacement.max_fee >= first.max_fee * 1.125 and replacement.tip >= first.tip * 1.125

    rpc(devnet, "evm_mine")
    keeper.step()
    assert keeper.store.tx(first.hash).status == REPLACED
    assert keeper.store.tx(first.hash).replaced_by == replacement.hash
    # The alert on rising replacements reads this counter.
    assert keeper.metrics.registry.get_sample_value("liqkeeper_transactions_replaced_total") == 1
    assert keeper.store.tx(replacement.hash).status == MINED
    assert devnet.health_factor(alice) >= WAD
    assert len(keeper.store.liquidations()) == 1
    rpc(devnet, "evm_setAutomine", True)
