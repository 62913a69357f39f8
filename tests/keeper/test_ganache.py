"""The main liquidation path on Ganache 7: deploy, price drop, liquidation in the next block."""

from __future__ import annotations

import pytest
from conftest import KEEPER_INDEX, SUPPLIER_INDEX
from devnet import Devnet, GanacheNode, dev_key
from harness import make_keeper

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
