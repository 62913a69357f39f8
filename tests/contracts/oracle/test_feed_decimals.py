"""Feed decimals are read where the price is read (IPriceOracle rule 2): a feed whose `decimals()`
changes after `setFeed` (a Chainlink proxy re-pointed to an aggregator of other decimals) keeps
giving correct 8-decimal prices, and one that now reports more than 36 decimals is refused."""

import brownie
import pytest
from brownie import MockAggregatorProxy
from oracle_helpers import MAX_AGE, PRICE, new_feed

USD = 2000  # the asset's price in whole dollars


@pytest.fixture
def proxy(oracle, asset, deployer):
    """The asset's primary feed: a proxy to an 8-decimal aggregator at $2,000."""
    proxy = MockAggregatorProxy.deploy(new_feed(deployer, 8, PRICE), {"from": deployer})
    oracle.setFeed(asset, proxy, MAX_AGE, {"from": deployer})
    assert oracle.getPrice(asset) == PRICE
    return proxy


@pytest.mark.parametrize(
    "decimals,answer,price",
    [(18, USD * 10**18, PRICE), (6, USD * 10**6, PRICE), (0, USD, PRICE), (36, 10**36, 10**8)],
)
def test_a_feed_whose_decimals_change_keeps_its_price_scaled(
    oracle, asset, proxy, deployer, decimals, answer, price
):
    proxy.confirmAggregator(new_feed(deployer, decimals, answer), {"from": deployer})
    assert proxy.decimals() == decimals
    assert oracle.getPrice(asset) == price
    assert tuple(oracle.getFeed(asset)) == (proxy.address, MAX_AGE, decimals)


def test_a_feed_that_now_reports_more_than_36_decimals_is_refused(oracle, asset, proxy, deployer):
    proxy.confirmAggregator(new_feed(deployer, 37, 10**37), {"from": deployer})
    with brownie.reverts(f"UnsupportedFeedDecimals: {asset.address.lower()}, 37"):
        oracle.getPrice(asset)


def test_the_deviation_check_scales_a_secondary_whose_decimals_changed(oracle, asset, feed, deployer):
    second = MockAggregatorProxy.deploy(new_feed(deployer, 8, PRICE), {"from": deployer})
    oracle.setSecondaryFeed(asset, second, MAX_AGE, 100, {"from": deployer})
    second.confirmAggregator(new_feed(deployer, 18, USD * 10**18), {"from": deployer})
    assert oracle.getPrice(asset) == PRICE
    second.confirmAggregator(new_feed(deployer, 18, 2030 * 10**18), {"from": deployer})  # +1.5%
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {2030 * 10**8}"):
        oracle.getPrice(asset)


def test_the_pool_values_a_position_the_same_across_a_decimals_change(protocol, supplier, alice, deployer):
    """The pool's health factor does not move when WETH's feed switches from 8 to 18 decimals at the
    same price."""
    p = protocol
    weth = p.tokens["WETH"]
    proxy = MockAggregatorProxy.deploy(p.feeds["WETH"], {"from": deployer})
    p.oracle.setFeed(weth, proxy, MAX_AGE, {"from": deployer})
    p.supply(supplier, "USDC", 100_000 * 10**6)
    p.supply(alice, "WETH", 10 * 10**18)
    p.borrow(alice, "USDC", 15_000 * 10**6)
    before = p.pool.getUserAccountData(alice)
    proxy.confirmAggregator(new_feed(deployer, 18, USD * 10**18), {"from": deployer})
    assert p.pool.getUserAccountData(alice) == before
    assert p.pool.getReserveData(weth).dict()["price"] == PRICE
