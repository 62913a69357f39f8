"""A keeper lagging behind the head (its step took several blocks) sends a liquidation while
processing an old block; only blocks mined after the send count toward `--replace-after`, so it is
not replaced at once on the next step."""

from __future__ import annotations

from harness import make_keeper, rpc

LAG_BLOCKS = 5
REPLACE_AFTER = 3


def liquidations(keeper) -> list:
    return [t for t in keeper.store.txs() if t.kind == "liquidate"]


def test_replacement_counts_only_the_blocks_mined_after_the_send(devnet, keeper_key, tmp_path):
    devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    # At the market's tip, so that a base fee twenty times the first max fee stays within the budget.
    keeper = make_keeper(
        devnet, keeper_key, tmp_path / "k.sqlite", replace_after_blocks=REPLACE_AFTER, bid_share=0
    )
    keeper.start()
    rpc(devnet, "evm_setAutomine", False)
    devnet.feed("WETH").functions.setPrice(1900 * 10**8).transact({"from": devnet.owner.address})
    rpc(devnet, "evm_mine")
    processing = devnet.w3.eth.block_number

    # The step is slow: the chain moves LAG_BLOCKS blocks on while the keeper simulates.
    simulate = keeper.liquidator.simulator.estimate_many

    def slow_estimate(*args, **kwargs):
        for _ in range(LAG_BLOCKS):
            rpc(devnet, "evm_mine")
        return simulate(*args, **kwargs)

    keeper.liquidator.simulator.estimate_many = slow_estimate
    report = keeper.step()
    keeper.liquidator.simulator.estimate_many = simulate
    assert report.head == processing and len(report.sent) == 1
    first = keeper.store.tx(report.sent[0])
    sent_at = devnet.w3.eth.block_number
    assert sent_at == processing + LAG_BLOCKS

    # From here no block can include it (the base fee is above its max fee).
    rpc(devnet, "anvil_setNextBlockBaseFeePerGas", hex(first.max_fee * 20))
    for mined_after_send in range(1, REPLACE_AFTER):
        rpc(devnet, "evm_mine")
        keeper.step()
        assert len(liquidations(keeper)) == 1, f"replaced {mined_after_send} block(s) after the send"
    rpc(devnet, "evm_mine")
    keeper.step()
    replaced = liquidations(keeper)
    assert len(replaced) == 2 and replaced[1].nonce == first.nonce
    assert devnet.w3.eth.block_number - sent_at == REPLACE_AFTER
    rpc(devnet, "evm_setAutomine", True)
