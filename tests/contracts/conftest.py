"""Shared fixtures for the contract tests: a deployed pool with four reserves on a real Anvil node.

Every test runs in its own snapshot (`fn_isolation`), so fixtures deploy once per module.
Amounts are token units; `units(token, x)` turns whole tokens into units.
"""

from __future__ import annotations

import pytest
from brownie import (
    LendingPool,
    LiquidationLens,
    MockERC20,
    MockPriceFeed,
    PriceOracle,
    accounts,
    chain,
    network,
    web3,
)

WAD = 10**18
RAY = 10**27
BPS = 10**4
MAX_UINT = 2**256 - 1
PRICE_MAX_AGE = 3600

#: Default reserve configurations (ReserveConfig tuple fields by name); zero interest unless a test
#: sets a rate model, so that amounts stay exact.
RESERVES = {
    "WETH": dict(decimals=18, price=2000 * 10**8, collateral_factor=80_00, max_bonus=105_00, fee=10_00),
    "WBTC": dict(decimals=8, price=60_000 * 10**8, collateral_factor=75_00, max_bonus=108_00, fee=10_00),
    "USDC": dict(decimals=6, price=1 * 10**8, collateral_factor=85_00, max_bonus=104_00, fee=10_00),
    "DAI": dict(decimals=18, price=1 * 10**8, collateral_factor=0, max_bonus=104_00, fee=10_00),
}


def reserve_config(
    collateral_factor: int = 80_00,
    max_bonus: int = 105_00,
    fee: int = 10_00,
    receive_shares: bool = True,
    paused: bool = False,
    frozen: bool = False,
    base_rate: int = 0,
    slope1: int = 0,
    slope2: int = 0,
    optimal: int = 80_00,
    max_ltv: int | None = None,
) -> tuple:
    """A ReserveConfig tuple in struct order. The borrow factor `maxLtv` defaults to the collateral
    factor (borrowing and liquidation at the same line, as before the borrow factor existed)."""
    return (
        collateral_factor,
        max_bonus,
        fee,
        receive_shares,
        paused,
        frozen,
        base_rate,
        slope1,
        slope2,
        optimal,
        collateral_factor if max_ltv is None else max_ltv,
    )


class Protocol:
    """The deployed contracts and helpers that act on them as users do."""

    def __init__(self, deployer, fund, guardian):
        self.deployer = deployer
        self.fund = fund
        self.guardian = guardian
        self.oracle = PriceOracle.deploy(deployer, {"from": deployer})
        self.pool = LendingPool.deploy(self.oracle, fund, deployer, {"from": deployer})
        self.lens = LiquidationLens.deploy(self.pool, {"from": deployer})
        self.pool.setGuardian(guardian, {"from": deployer})
        self.tokens: dict = {}
        self.feeds: dict = {}
        for symbol, spec in RESERVES.items():
            self.list_asset(symbol, spec)

    def list_asset(self, symbol: str, spec: dict) -> None:
        token = MockERC20.deploy(symbol, symbol, spec["decimals"], {"from": self.deployer})
        feed = MockPriceFeed.deploy(8, spec["price"], {"from": self.deployer})
        self.oracle.setFeed(token, feed, PRICE_MAX_AGE, {"from": self.deployer})
        self.pool.addReserve(
            token,
            reserve_config(spec["collateral_factor"], spec["max_bonus"], spec["fee"]),
            {"from": self.deployer},
        )
        self.tokens[symbol] = token
        self.feeds[symbol] = feed

    def units(self, symbol: str, amount: float | int) -> int:
        """Whole tokens to token units (exact for integers and simple decimals)."""
        from decimal import Decimal

        return int(Decimal(str(amount)) * 10 ** RESERVES_DECIMALS(self, symbol))

    def mint_and_approve(self, user, symbol: str, amount: int) -> None:
        token = self.tokens[symbol]
        token.mint(user, amount, {"from": user})
        token.approve(self.pool, MAX_UINT, {"from": user})

    def supply(self, user, symbol: str, amount: int):
        self.mint_and_approve(user, symbol, amount)
        return self.pool.supply(self.tokens[symbol], amount, user, {"from": user})

    def borrow(self, user, symbol: str, amount: int):
        return self.pool.borrow(self.tokens[symbol], amount, {"from": user})

    def set_price(self, symbol: str, price: int):
        return self.feeds[symbol].setPrice(price, {"from": self.deployer})

    def refresh_prices(self) -> None:
        """Re-publish every price (after chain.sleep made them stale)."""
        for feed in self.feeds.values():
            feed.setPrice(feed.latestAnswer(), {"from": self.deployer})

    def health_factor(self, user) -> int:
        return self.pool.getUserAccountData(user)[2]


def RESERVES_DECIMALS(protocol: Protocol, symbol: str) -> int:
    return protocol.tokens[symbol].decimals()


@pytest.fixture(scope="session", autouse=True)
def fees_the_node_mines():
    """Brownie prices development transactions at zero. Anvil mines them; Ganache 7 charges the
    London base fee, answers such a transaction with a hash and never mines it, so Brownie would
    wait for it forever. On Ganache every transaction pays a 1 gwei tip over the base fee."""
    if web3.client_version.lower().startswith("ganache"):
        network.priority_fee("1 gwei")


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    """Each test starts from the module's deployment."""


@pytest.fixture(scope="module")
def deployer():
    return accounts[0]


@pytest.fixture(scope="module")
def fund():
    """The fee receiver (insurance fund)."""
    return accounts[9]


@pytest.fixture(scope="module")
def guardian():
    return accounts[8]


@pytest.fixture(scope="module")
def protocol(deployer, fund, guardian) -> Protocol:
    return Protocol(deployer, fund, guardian)


@pytest.fixture(scope="module")
def pool(protocol):
    return protocol.pool


@pytest.fixture(scope="module")
def oracle(protocol):
    return protocol.oracle


@pytest.fixture(scope="module")
def tokens(protocol):
    return protocol.tokens


@pytest.fixture(scope="module")
def feeds(protocol):
    return protocol.feeds


@pytest.fixture(scope="module")
def alice():
    return accounts[1]


@pytest.fixture(scope="module")
def bob():
    return accounts[2]


@pytest.fixture(scope="module")
def carol():
    return accounts[3]


@pytest.fixture(scope="module")
def liquidator():
    return accounts[4]


@pytest.fixture(scope="module")
def supplier():
    """A large supplier that provides the liquidity borrowers draw."""
    return accounts[5]


@pytest.fixture
def clock():
    return chain
