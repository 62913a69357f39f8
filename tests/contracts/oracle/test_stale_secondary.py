"""A stale secondary feed (IPriceOracle rules 3 and 4): the secondary is a circuit breaker only while
it is fresh. When it is stale, from the future or mid-round, the primary alone prices the asset and
`isSecondaryFeedActive` is false; once it publishes again, the check applies again. A fresh
secondary answering zero or less still reverts."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, MockPriceFeed, chain
from oracle_helpers import MAX_AGE, PRICE, at_age, new_feed

SECONDARY_MAX_AGE = 1800
MAX = 2**256 - 1


@pytest.fixture
def tripped(oracle, asset, feed, deployer):
    """A secondary feed 50% above the primary (bound 1%): while fresh, every price read reverts."""
    second = new_feed(deployer, 8, PRICE * 3 // 2)
    oracle.setSecondaryFeed(asset, second, SECONDARY_MAX_AGE, 100, {"from": deployer})
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {PRICE * 3 // 2}"):
        oracle.getPrice(asset)
    return second


def test_a_stale_secondary_feed_is_skipped_and_the_primary_prices_alone(
    oracle, asset, feed, tripped, deployer
):
    at_age(SECONDARY_MAX_AGE + 1, tripped)
    feed.setPrice(PRICE, {"from": deployer})  # the primary stays fresh
    assert oracle.getPrice(asset) == PRICE
    assert not oracle.isSecondaryFeedActive(asset)
    tripped.setPrice(PRICE * 3 // 2, {"from": deployer})
    assert oracle.isSecondaryFeedActive(asset)


def test_a_secondary_exactly_max_age_old_is_still_consulted(oracle, asset, feed, tripped):
    at_age(SECONDARY_MAX_AGE, tripped)
    with brownie.reverts(revert_pattern=r"PriceDeviation: .*"):
        oracle.getPrice(asset)
    assert oracle.isSecondaryFeedActive(asset)
    at_age(SECONDARY_MAX_AGE + 1, tripped)
    assert oracle.getPrice(asset) == PRICE
    assert not oracle.isSecondaryFeedActive(asset)


def test_the_check_applies_again_once_the_secondary_publishes(oracle, asset, feed, tripped, deployer):
    at_age(SECONDARY_MAX_AGE + 1, tripped)
    feed.setPrice(PRICE, {"from": deployer})
    assert oracle.getPrice(asset) == PRICE
    tripped.setPrice(PRICE * 3 // 2, {"from": deployer})
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {PRICE * 3 // 2}"):
        oracle.getPrice(asset)
    assert oracle.isSecondaryFeedActive(asset)


@pytest.mark.parametrize("when", ["future", "incomplete"])
def test_a_secondary_round_from_the_future_or_incomplete_is_skipped(
    oracle, asset, feed, tripped, deployer, when
):
    updated_at = chain[-1].timestamp + 1000 if when == "future" else 0
    tripped.setRoundData(PRICE * 3 // 2, updated_at, {"from": deployer})
    assert oracle.getPrice(asset) == PRICE
    assert not oracle.isSecondaryFeedActive(asset)


@pytest.mark.parametrize("answer", [0, -1])
def test_a_fresh_secondary_answering_zero_or_less_still_reverts(
    oracle, asset, feed, tripped, deployer, answer
):
    tripped.setPrice(answer, {"from": deployer})
    with brownie.reverts(f"InvalidPrice: {asset.address.lower()}, {answer}"):
        oracle.getPrice(asset)
    assert oracle.isSecondaryFeedActive(asset)


def test_a_stale_primary_still_reverts_whatever_the_secondary(oracle, asset, feed, deployer):
    second = new_feed(deployer, 8, PRICE)
    oracle.setSecondaryFeed(asset, second, MAX_AGE * 2, 100, {"from": deployer})
    updated_at = feed.latestRoundData()[3]
    at_age(MAX_AGE + 1, feed)
    with brownie.reverts(f"StalePrice: {asset.address.lower()}, {updated_at}, {MAX_AGE}"):
        oracle.getPrice(asset)
    assert oracle.isSecondaryFeedActive(asset)


def test_the_flag_is_false_without_a_secondary_feed(oracle, asset, feed, tripped, deployer):
    other = brownie.MockERC20.deploy("B", "B", 18, {"from": deployer})
    assert not oracle.isSecondaryFeedActive(other)
    oracle.setSecondaryFeed(asset, ZERO_ADDRESS, 0, 0, {"from": deployer})
    assert not oracle.isSecondaryFeedActive(asset)
    assert oracle.getPrice(asset) == PRICE


def test_a_stale_secondary_feed_does_not_stop_liquidations(protocol, supplier, alice, liquidator, deployer):
    """WETH's secondary still shows $2,000 after WETH fell to $1,850: while it is fresh the breaker
    blocks the liquidation; once it is stale (60 s), the primary prices WETH and the liquidation
    goes through."""
    p = protocol
    weth, usdc = p.tokens["WETH"], p.tokens["USDC"]
    second = MockPriceFeed.deploy(8, PRICE, {"from": deployer})
    p.supply(supplier, "USDC", 1_000_000 * 10**6)
    p.supply(alice, "WETH", 10 * 10**18)
    p.borrow(alice, "USDC", 15_000 * 10**6)
    p.oracle.setSecondaryFeed(weth, second, 60, 500, {"from": deployer})
    p.set_price("WETH", 1_850 * 10**8)
    p.mint_and_approve(liquidator, "USDC", 100_000 * 10**6)
    with brownie.reverts(revert_pattern=r"PriceDeviation: .*"):
        p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})

    chain.sleep(61)
    p.refresh_prices()  # the primaries (not `second`)
    assert p.health_factor(alice) < 10**18
    tx = p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})
    assert tx.events["LiquidationCall"]["debtRepaid"] > 0
    assert not p.oracle.isSecondaryFeedActive(weth)
