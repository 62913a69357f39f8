"""Not enough debt token: a clear warning once, a metric, /health unhealthy, and no transaction
sent (no revert spam)."""

from __future__ import annotations

from devnet import dev_key
from harness import make_keeper, run_until_idle


def test_missing_debt_token_is_reported_and_nothing_is_sent(devnet, tmp_path, caplog):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, dev_key(9), tmp_path / "k.sqlite")  # ETH, but no USDC
    keeper.start()
    sent_before = devnet.w3.eth.get_transaction_count(keeper.ctx.address)
    devnet.set_price("WETH", 1900)
    with caplog.at_level("WARNING"):
        report = keeper.step()
        devnet.set_price("WETH", 1890)
        run_until_idle(keeper)
    assert report.skipped[alice] == "insufficient debt token"
    assert caplog.text.count("insufficient_debt_token") == 1
    assert devnet.w3.eth.get_transaction_count(keeper.ctx.address) == sent_before
    healthy, status = keeper.metrics.health.status()
    assert not healthy and "low balance: USDC balance" in status["problems"]
    assert b'liqkeeper_low_balance{what="USDC balance"} 1.0' in keeper.metrics.exposition()
