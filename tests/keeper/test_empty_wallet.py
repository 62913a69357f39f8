"""Not enough funds to liquidate: a clear warning once, a metric, /health unhealthy, no transaction
sent (no revert spam), and the account is liquidated once the wallet is refilled."""

from __future__ import annotations

from devnet import dev_key
from harness import make_keeper, rpc, run_until_idle

WAD = 10**18


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


def test_wallet_drained_of_eth_sends_nothing_warns_once_and_liquidates_after_a_refill(
    devnet, keeper_key, tmp_path, caplog
):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite")
    keeper.start()
    address = keeper.ctx.address
    nonce = devnet.w3.eth.get_transaction_count(address)
    rpc(devnet, "anvil_setBalance", address, hex(10**12))  # 0.000001 ETH: not one liquidation's gas

    devnet.set_price("WETH", 1900)
    with caplog.at_level("WARNING"):
        reports = [keeper.step()]
        for _ in range(4):
            rpc(devnet, "evm_mine")
            reports.append(keeper.step())
    assert [r.skipped for r in reports] == [{alice: "insufficient native balance"}] * 5
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "native" in warnings[0].getMessage(), caplog.text
    assert devnet.w3.eth.get_transaction_count(address) == nonce
    assert devnet.w3.eth.get_transaction_count(address, "pending") == nonce
    assert keeper.store.in_flight_intents() == set()
    healthy, status = keeper.metrics.health.status()
    assert not healthy and "low balance: native" in status["problems"]
    assert b'liqkeeper_low_balance{what="native"} 1.0' in keeper.metrics.exposition()

    rpc(devnet, "anvil_setBalance", address, hex(10 * WAD))
    rpc(devnet, "evm_mine")
    run_until_idle(keeper)
    assert devnet.health_factor(alice) >= WAD
    assert devnet.w3.eth.get_transaction_count(address) == nonce + 1
    assert len(keeper.store.liquidations()) == 1
    assert keeper.metrics.health.status()[0]
    assert b'liqkeeper_low_balance{what="native"} 0.0' in keeper.metrics.exposition()
