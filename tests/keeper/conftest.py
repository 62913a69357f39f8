"""Keeper tests run against a real Anvil node (one per test module) with the protocol deployed by
scripts/deployer.py; the keeper signs with its own key (Anvil account 10)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from devnet import KEEPER_INDEX, SUPPLIER_INDEX, AnvilNode, Devnet, dev_key  # noqa: E402
from rpc_proxy import Faults, RpcProxy  # noqa: E402


@pytest.fixture
def node():
    anvil = AnvilNode()
    anvil.start()
    yield anvil
    anvil.stop()


@pytest.fixture
def devnet(node, tmp_path) -> Devnet:
    net = Devnet.create(node, tmp_path / "deployments")
    supplier = net.w3.eth.accounts[SUPPLIER_INDEX]
    net.supply(supplier, "USDC", net.units("USDC", 5_000_000))
    net.supply(supplier, "DAI", net.units("DAI", 5_000_000))
    keeper = net.w3.eth.accounts[KEEPER_INDEX]
    net.fund(keeper, "USDC", net.units("USDC", 2_000_000))
    net.fund(keeper, "DAI", net.units("DAI", 2_000_000))
    return net


@pytest.fixture
def keeper_key() -> str:
    return dev_key(KEEPER_INDEX)


@pytest.fixture
def proxies(devnet):
    """Starts fault-injecting RPC proxies in front of the devnet's node (tests/keeper/rpc_proxy.py),
    stopped after the test."""
    started: list[RpcProxy] = []

    def start(faults: Faults | None = None) -> RpcProxy:
        proxy = RpcProxy(devnet.w3.provider.endpoint_uri, faults).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        try:
            proxy.stop()
        except OSError:
            pass
