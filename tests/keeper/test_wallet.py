"""The wallet against a fake node: a low ETH balance is warned about once, flagged on the metric and
/health until it recovers; the debt tokens are read once per block and each repayment set aside;
nothing counts when nothing is signed."""

from __future__ import annotations

from decimal import Decimal

from fake_node import Contracts, fake_web3
from stage_world import KEEPER, USDC, reserve

from keeper.calls import function
from keeper.metrics import Metrics
from keeper.rpc_batch import RpcCounter
from keeper.wallet import Wallet

ETH = 10**18


def wallet_with(balances: list[int], usdc: int = 0) -> tuple[Wallet, Metrics, object]:
    queue = iter(balances)
    contracts = Contracts()
    contracts.on(USDC, function("MockERC20", "balanceOf"), lambda owner: (usdc,))
    w3 = fake_web3({"eth_getBalance": lambda params: hex(next(queue)), "eth_call": contracts})
    metrics = Metrics()
    return Wallet(w3, KEEPER, metrics, RpcCounter(), Decimal("0.05")), metrics, w3.provider


def test_a_low_eth_balance_is_warned_once_and_flagged_until_it_recovers(caplog):
    wallet, metrics, _ = wallet_with([ETH // 100, ETH // 100, ETH])
    with caplog.at_level("INFO"):
        assert wallet.native_balance() == ETH // 100
        assert not metrics.health.status()[0]
        wallet.native_balance()
        assert wallet.native_balance() == ETH
    assert caplog.text.count("low_native_balance") == 1
    assert caplog.text.count("native_balance_restored") == 1
    assert metrics.health.status()[0]
    assert b'liqkeeper_low_balance{what="native"} 0.0' in metrics.exposition()


def test_a_balance_below_the_next_transactions_worst_case_gas_is_low_too():
    wallet, metrics, _ = wallet_with([ETH, ETH])
    wallet.native_balance(gas_wei=2 * ETH)
    assert "low balance: native" in metrics.health.status()[1]["problems"]


def test_debt_tokens_are_read_once_and_each_repayment_set_aside(caplog):
    wallet, metrics, provider = wallet_with([], usdc=2500 * 10**6)
    usdc = reserve("USDC")
    funds = wallet.debt_funds(signing=True)
    with caplog.at_level("WARNING"):
        assert [funds.cover(usdc, 1000 * 10**6) for _ in range(3)] == [True, True, False]
        assert not funds.cover(usdc, 1000 * 10**6)
    assert len(provider.calls_of("eth_call")) == 1
    assert caplog.text.count("insufficient_debt_token") == 1
    assert "low balance: USDC balance" in metrics.health.status()[1]["problems"]


def test_without_signing_the_debt_tokens_do_not_count():
    wallet, _, provider = wallet_with([], usdc=0)
    assert wallet.debt_funds(signing=False).cover(reserve("USDC"), 10**30)
    assert provider.requests == []
