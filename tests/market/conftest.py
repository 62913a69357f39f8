"""The market pieces' tests run against one real Anvil per test module (automine), with the protocol
and Uniswap V3 deployed by scripts/deployer.py; each test that changes the chain runs inside an
`evm_snapshot` / `evm_revert` pair (the `market` fixture), so tests do not see each other's trades."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from keeper.deployment import Deployment  # noqa: E402
from scripts.deployer import Sender, contract, default_plan, deploy  # noqa: E402
from scripts.devnode import AnvilNode  # noqa: E402
from scripts.market.pool_prices import UsdPool  # noqa: E402
from scripts.market.transactions import UnlockedAccount  # noqa: E402

#: Anvil accounts: 0 deploys and owns the feeds; the tests trade from the others.
OWNER_INDEX = 0


@dataclass(frozen=True)
class MarketChain:
    """A deployed devnet with Uniswap V3, and helpers the tests share."""

    w3: Web3
    deployment: Deployment

    @property
    def router(self) -> str:
        assert self.deployment.uniswap is not None
        return self.deployment.uniswap.router

    def account(self, index: int) -> UnlockedAccount:
        return UnlockedAccount(self.w3, self.w3.eth.accounts[index])

    def pool(self, asset: str) -> UsdPool:
        return UsdPool.of(self.deployment, asset, "USDC")

    def oracle_price_usd8(self, asset: str) -> int:
        oracle = contract(self.w3, "PriceOracle", self.deployment.oracle)
        return int(oracle.functions.getPrice(self.deployment.asset_by_symbol(asset).address).call())

    def feed(self, asset: str):
        return contract(self.w3, "MockPriceFeed", self.deployment.asset_by_symbol(asset).feed)

    def balance(self, token: str, owner: str) -> int:
        return int(contract(self.w3, "MockERC20", token).functions.balanceOf(owner).call())

    def rpc(self, method: str, params: list) -> object:
        answer = self.w3.provider.make_request(method, params)
        if answer.get("error"):
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def advance_time(self, seconds: int) -> None:
        """Moves the clock forward and mines a block at the new time."""
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine", [])


@pytest.fixture(scope="module")
def chain() -> Iterator[MarketChain]:
    node = AnvilNode()
    node.start()
    try:
        w3 = node.web3()
        deployment = deploy(w3, Sender(w3, address=w3.eth.accounts[OWNER_INDEX]), default_plan())
        yield MarketChain(w3, deployment)
    finally:
        node.stop()


@pytest.fixture
def market(chain: MarketChain) -> Iterator[MarketChain]:
    """The module's chain, put back as it was after the test (automine on)."""
    snapshot = chain.rpc("evm_snapshot", [])
    try:
        yield chain
    finally:
        chain.rpc("evm_setAutomine", [True])
        chain.rpc("evm_revert", [snapshot])
