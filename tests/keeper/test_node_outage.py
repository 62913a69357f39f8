"""The node dies in the middle of a run and comes back: the keeper reports unhealthy, retries with
backoff, reconnects, catches up and liquidates what became liquidatable, without exiting."""

from __future__ import annotations

import threading
import time

import pytest
from devnet import KEEPER_INDEX, SUPPLIER_INDEX, AnvilNode, Devnet
from harness import make_keeper

WAD = 10**18


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.fixture
def durable_node(tmp_path):
    node = AnvilNode(extra=["--state", str(tmp_path / "anvil-state.json")])
    node.start()
    yield node
    node.stop()


def test_keeper_survives_a_node_restart_and_liquidates_after(durable_node, keeper_key, tmp_path):
    net = Devnet.create(durable_node, tmp_path / "deployments")
    net.supply(net.w3.eth.accounts[SUPPLIER_INDEX], "USDC", net.units("USDC", 1_000_000))
    net.fund(net.w3.eth.accounts[KEEPER_INDEX], "USDC", net.units("USDC", 1_000_000))
    alice = net.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    keeper = make_keeper(net, keeper_key, tmp_path / "k.sqlite", poll_interval="0.05")
    keeper.start()
    thread = threading.Thread(target=keeper.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: keeper.processed >= net.w3.eth.block_number)
        durable_node.stop()
        wait_for(lambda: keeper.metrics.health.node_ok is False)
        assert keeper.metrics.health.status()[0] is False
        assert thread.is_alive()

        durable_node.start()
        net.set_price("WETH", 1900)
        wait_for(lambda: net.health_factor(alice) >= WAD, timeout=40)
        wait_for(lambda: keeper.metrics.health.node_ok is True)
        assert thread.is_alive()
    finally:
        keeper.stop_event.set()
        thread.join(timeout=15)
    assert not thread.is_alive()
    assert len([t for t in keeper.store.txs() if t.kind == "liquidate"]) == 1
