"""Fixtures of the oracle tests: a PriceOracle of its own (not the pool's) with one 18-decimal asset
priced by an 8-decimal feed at $2,000, fresh for `MAX_AGE` seconds."""

from __future__ import annotations

import pytest
from brownie import MockERC20, MockPriceFeed, PriceOracle
from oracle_helpers import MAX_AGE, PRICE


@pytest.fixture(scope="module")
def oracle(deployer):
    return PriceOracle.deploy(deployer, {"from": deployer})


@pytest.fixture(scope="module")
def asset(deployer):
    return MockERC20.deploy("Asset", "AST", 18, {"from": deployer})


@pytest.fixture(scope="module")
def feed(oracle, asset, deployer):
    feed = MockPriceFeed.deploy(8, PRICE, {"from": deployer})
    oracle.setFeed(asset, feed, MAX_AGE, {"from": deployer})
    return feed
