"""The secondary feed's deviation bound (protocol.md v2 section 7): `maxDeviationBps < 1e4`, and
deviation is symmetric, `|a - b| * 1e4 / min(a, b)`, compared without rounding. Under a 5% bound
a primary 5.2% above the secondary is refused as well as one 5.2% below it, and swapping the two
feeds never changes the decision."""

import brownie
import pytest
from oracle_helpers import MAX_AGE, PRICE, max_accepted, min_accepted, new_feed

BOUND = 500  # 5%


def refused(primary: int, secondary: int, bound: int = BOUND) -> bool:
    """The rule, in Python integers."""
    return abs(primary - secondary) * 10**4 > min(primary, secondary) * bound


@pytest.fixture
def breaker(oracle, asset, feed, deployer):
    """A secondary 8-decimal feed at PRICE with a 5% bound."""
    second = new_feed(deployer, 8, PRICE)
    oracle.setSecondaryFeed(asset, second, MAX_AGE, BOUND, {"from": deployer})
    return second


def assert_decision(oracle, asset, primary: int, secondary: int) -> None:
    if refused(primary, secondary):
        with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {primary}, {secondary}"):
            oracle.getPrice(asset)
    else:
        assert oracle.getPrice(asset) == primary


@pytest.mark.parametrize("bound", [10_000, 10_001, 2**16 - 1])
def test_a_deviation_bound_of_100_percent_or_more_is_refused(oracle, asset, feed, deployer, bound):
    second = new_feed(deployer, 8, PRICE)
    with brownie.reverts("InvalidFeedConfig: "):
        oracle.setSecondaryFeed(asset, second, MAX_AGE, bound, {"from": deployer})


def test_a_deviation_bound_just_below_100_percent_is_accepted(oracle, asset, feed, deployer):
    second = new_feed(deployer, 8, PRICE)
    oracle.setSecondaryFeed(asset, second, MAX_AGE, 9_999, {"from": deployer})
    assert tuple(oracle.getSecondaryFeed(asset)) == (second.address, MAX_AGE, 9_999)
    second.setPrice(PRICE * 2, {"from": deployer})  # +100%: beyond any accepted bound
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {PRICE * 2}"):
        oracle.getPrice(asset)


@pytest.mark.parametrize("primary", [PRICE * 1052 // 1000, PRICE * 948 // 1000], ids=["+5.2%", "-5.2%"])
def test_a_primary_5_2_percent_off_the_secondary_is_refused_either_way(
    oracle, asset, feed, breaker, deployer, primary
):
    feed.setPrice(primary, {"from": deployer})
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {primary}, {PRICE}"):
        oracle.getPrice(asset)


def test_a_secondary_1_percent_below_the_primary_deviates_by_more_than_1_percent(
    oracle, asset, feed, deployer
):
    """PRICE * 0.99 differs from PRICE by 1.0101% of the smaller price: refused under a 1% bound."""
    second = new_feed(deployer, 8, PRICE * 99 // 100)
    oracle.setSecondaryFeed(asset, second, MAX_AGE, 100, {"from": deployer})
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {PRICE * 99 // 100}"):
        oracle.getPrice(asset)


@pytest.mark.parametrize(
    "secondary",
    [
        max_accepted(PRICE, BOUND),
        max_accepted(PRICE, BOUND) + 1,
        min_accepted(PRICE, BOUND),
        min_accepted(PRICE, BOUND) - 1,
    ],
    ids=["upper-bound", "above-upper-bound", "lower-bound", "below-lower-bound"],
)
def test_the_bound_is_inclusive_and_the_same_whichever_feed_is_higher(
    oracle, asset, feed, breaker, deployer, secondary
):
    """Each pair is checked twice: as (primary, secondary) and swapped."""
    assert refused(PRICE, secondary) == refused(secondary, PRICE)
    breaker.setPrice(secondary, {"from": deployer})
    assert_decision(oracle, asset, PRICE, secondary)
    feed.setPrice(secondary, {"from": deployer})
    breaker.setPrice(PRICE, {"from": deployer})
    assert_decision(oracle, asset, secondary, PRICE)


def test_the_boundary_prices_are_the_ones_the_rule_names():
    """The parametrised prices above sit exactly on the bound of the symmetric rule."""
    upper, lower = max_accepted(PRICE, BOUND), min_accepted(PRICE, BOUND)
    assert (upper, lower) == (2100 * 10**8, 190476190477)
    assert not refused(PRICE, upper) and refused(PRICE, upper + 1)
    assert not refused(PRICE, lower) and refused(PRICE, lower - 1)
