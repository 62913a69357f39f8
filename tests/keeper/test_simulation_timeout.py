"""D2: on a slow node a simulation batch outlasts the read timeout. That is a timeout, not a revert:
a warning, and the accounts are simulated again in the next block in smaller batches with a longer
timeout, and liquidated. Measured from the chain: the pool's LiquidationCall logs."""

from __future__ import annotations

import logging

import pytest
import requests
from fake_node import RpcError, fake_web3
from harness import make_keeper, rpc
from rpc_proxy import Faults, RpcProxy
from stage_world import address

from keeper import chain
from keeper.errors import SimulationError, SimulationTimeout
from keeper.rpc_batch import RawCall, RpcCounter
from keeper.simulation import Simulator

WAD = 10**18
#: A read timeout the slow node exceeds with four estimates in a batch, not with two.
READ_TIMEOUT_S = 1.0
ESTIMATE_DELAY_S = 0.4


@pytest.fixture
def slow_node(devnet):
    proxy = RpcProxy(
        devnet.w3.provider.endpoint_uri, Faults(method_delay_s={"eth_estimateGas": ESTIMATE_DELAY_S})
    ).start()
    yield proxy
    proxy.stop()


def test_a_timed_out_simulation_is_retried_in_the_next_block(
    devnet, slow_node, keeper_key, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(chain, "RPC_TIMEOUT_SECONDS", READ_TIMEOUT_S)
    borrowers = [
        devnet.borrower(index, "WETH", 5 + index, "USDC", hf=1.02 + index / 100, collateral_price=2000)
        for index in range(1, 5)
    ]
    keeper = make_keeper(devnet, keeper_key, tmp_path / "k.sqlite", rpc_url=slow_node.url)
    keeper.start()
    keeper.step()
    price_block = devnet.set_price("WETH", 1800)
    assert all(devnet.health_factor(user) < WAD for user in borrowers)

    caplog.set_level(logging.INFO, logger="keeper")
    rpc(devnet, "evm_setAutomine", False)  # each step's transactions are mined in the next block
    try:
        for _ in range(3):  # the price block, then two quiet blocks
            keeper.step()
            rpc(devnet, "evm_mine")
    finally:
        rpc(devnet, "evm_setAutomine", True)

    calls = devnet.pool.events.LiquidationCall.get_logs(from_block=price_block + 1)
    assert sorted(log["args"]["user"] for log in calls) == sorted(borrowers)
    assert max(log["blockNumber"] for log in calls) <= price_block + 3
    assert all(devnet.health_factor(user) >= WAD for user in borrowers)
    timed_out = [r for r in caplog.records if r.getMessage().startswith("simulation_timed_out")]
    assert timed_out and all(r.levelno == logging.WARNING for r in timed_out)
    assert not [r for r in caplog.records if r.getMessage().startswith("simulation_reverted")]


# The simulator's policy on its own, over a fake node.


def test_a_timeout_halves_the_batch_and_doubles_the_timeout_until_batches_answer_again():
    slow = {"on": True}

    def estimate(params: list) -> str:
        if slow["on"]:
            raise requests.ReadTimeout("Read timed out. (read timeout=1.0)")
        return hex(100_000)

    def call(params: list) -> str:
        if params[0]["data"] == "0xdead":
            raise RpcError("execution reverted: NotLiquidatable()")
        return "0x"

    w3 = fake_web3({"eth_call": call, "eth_estimateGas": estimate})
    simulator = Simulator(w3, RpcCounter(), timeout_s=1.0)
    calls = [RawCall(address(0xE000 + i), "0x00", ()) for i in range(4)]

    results = simulator.estimate_many(calls, address(1))
    assert all(isinstance(r, SimulationTimeout) for r in results)
    assert "Read timed out" in results[0].reason
    assert (simulator.batch_limit, simulator.timeout_s, w3.provider.batches) == (2, 2.0, 1)

    slow["on"] = False
    assert simulator.estimate_many(calls, address(1)) == [100_000] * 4
    assert w3.provider.batches == 3  # two batches of two
    assert (simulator.batch_limit, simulator.timeout_s) == (8, 1.0)

    [reverted] = simulator.estimate_many([RawCall(address(0xE000), "0xdead", ())], address(1))
    assert isinstance(reverted, SimulationError) and not isinstance(reverted, SimulationTimeout)
