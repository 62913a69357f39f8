"""The main liquidation paths on Ganache 7: deploy, price drop, liquidation in the next block, with the
keeper's own debt tokens and, with none at all, through the FlashLiquidator and the real Uniswap V3
pools (issue 16).

Ganache answers everything the keeper's flash mode uses (QuoterV2 through `eth_call` in JSON-RPC
batches, `eth_estimateGas`, EIP-1559 fees over its London base fee). It has no `callTracer`:
`debug_traceTransaction` returns its struct-log trace whatever tracer is asked for, with no revert
output, so a reverted liquidation's reason (tests/keeper/test_flash_mode.py) is read on Anvil only and
the keeper's record of one on Ganache has none."""

from __future__ import annotations

import pytest
from devnet import KEEPER_INDEX, SUPPLIER_INDEX, Devnet, GanacheNode, dev_key
from harness import make_keeper
from web3.logs import DISCARD

from keeper.contracts import erc20, flash_liquidator

WAD = 10**18


@pytest.fixture
def ganache_devnet(tmp_path):
    node = GanacheNode()
    node.start()
    try:
        net = Devnet.create(node, tmp_path / "deployments")
        net.supply(net.w3.eth.accounts[SUPPLIER_INDEX], "USDC", net.units("USDC", 1_000_000))
        net.fund(net.w3.eth.accounts[KEEPER_INDEX], "USDC", net.units("USDC", 1_000_000))
        yield net
    finally:
        node.stop()


@pytest.fixture
def ganache_flash_devnet(tmp_path):
    """Ganache with the protocol, Uniswap V3 (the devnet's pools) and a FlashLiquidator owned by the
    keeper, who holds no token at all."""
    node = GanacheNode()
    node.start()
    try:
        keeper = node.web3().eth.accounts[KEEPER_INDEX]
        net = Devnet.create(node, tmp_path / "deployments", flash_owner=keeper)
        net.supply(net.w3.eth.accounts[SUPPLIER_INDEX], "USDC", net.units("USDC", 1_000_000))
        yield net
    finally:
        node.stop()


def test_keeper_liquidates_on_ganache(ganache_devnet, tmp_path):
    net = ganache_devnet
    assert net.w3.eth.chain_id == 1337
    alice = net.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(net, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite")
    keeper.start()
    price_block = net.set_price("WETH", 1900)
    report = keeper.step()
    assert report.candidates == [alice]
    assert len(report.sent) == 1
    receipt = net.w3.eth.get_transaction_receipt(report.sent[0])
    assert receipt["status"] == 1
    assert receipt["blockNumber"] == price_block + 1
    assert net.health_factor(alice) >= 105 * WAD // 100


def test_keeper_with_no_debt_token_flash_liquidates_on_ganache(ganache_flash_devnet, tmp_path):
    """10 WETH against USDC at HF 1.02 at $2,000; WETH falls to $1,900 on the oracle and in every pool.
    The keeper, in flash mode with no USDC, liquidates in the next block through its FlashLiquidator:
    the swap pays the debt, the borrower is back at the target, and the WETH left over stays in the
    contract as profit."""
    net = ganache_flash_devnet
    me = net.w3.eth.accounts[KEEPER_INDEX]
    contract = flash_liquidator(net.w3, net.deployment.flash_liquidator.address)
    usdc, weth = erc20(net.w3, net.token("USDC").address), erc20(net.w3, net.token("WETH").address)
    alice = net.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2_000)
    keeper = make_keeper(net, dev_key(KEEPER_INDEX), tmp_path / "k.sqlite", mode="flash")
    keeper.start()
    price_block = net.set_price("WETH", 1_900)
    net.align_pools()
    assert usdc.functions.balanceOf(me).call() == 0

    report = keeper.step()

    assert report is not None and report.candidates == [alice] and len(report.sent) == 1, report
    receipt = net.w3.eth.wait_for_transaction_receipt(report.sent[0])
    assert receipt["status"] == 1 and receipt["to"] == contract.address and receipt["from"] == me
    assert receipt["blockNumber"] > price_block
    [event] = contract.events.FlashLiquidation().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["user"] == alice
    assert net.health_factor(alice) >= 105 * WAD // 100
    profit = weth.functions.balanceOf(contract.address).call()
    assert profit > 0, "the seized WETH left after repaying the swap stays in the FlashLiquidator"
    assert event["args"]["profit"] == profit
    assert usdc.functions.balanceOf(contract.address).call() == 0
    assert usdc.functions.balanceOf(me).call() == 0
    keeper.step()  # the receipt is polled and recorded
    [record] = keeper.store.liquidations()
    assert (record["outcome"], record["method"], record["net_profit_tokens"]) == (
        "liquidated",
        "flash",
        profit,
    )
