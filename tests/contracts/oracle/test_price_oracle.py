"""PriceOracle (protocol.md section 7): 8-decimal prices from Chainlink-style feeds, reverting on
stale, non-positive or incomplete answers, and an optional second feed acting as a circuit
breaker. The v2 rules (deviation bound and symmetry, feed decimals, stale secondary feed) have
files of their own in this folder."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, MockERC20, chain
from oracle_helpers import MAX_AGE, PRICE, at_age, min_accepted, new_feed


def test_set_feed_stores_the_feed_and_emits_feed_set(oracle, deployer):
    other = MockERC20.deploy("B", "B", 6, {"from": deployer})
    feed = new_feed(deployer, 6, 10**6)
    tx = oracle.setFeed(other, feed, 600, {"from": deployer})
    assert dict(tx.events["FeedSet"]) == {
        "asset": other.address,
        "feed": feed.address,
        "maxAge": 600,
        "decimals": 6,
    }
    assert tuple(oracle.getFeed(other)) == (feed.address, 600, 6)


def test_an_8_decimal_feed_is_returned_as_is(oracle, asset, feed):
    assert oracle.getPrice(asset) == PRICE


@pytest.mark.parametrize(
    "decimals,answer,price",
    [
        (6, 2000_123456, 2000_12345600),
        (18, 2000_123456789012345678, 2000_12345678),  # rounds down
        (0, 2000, 2000_00000000),
        (36, 123 * 10**34 + 1, 123 * 10**6),  # $1.23
    ],
)
def test_feeds_of_other_decimals_are_normalised_to_8(
    oracle, asset, deployer, decimals, answer, price
):
    oracle.setFeed(asset, new_feed(deployer, decimals, answer), MAX_AGE, {"from": deployer})
    assert oracle.getPrice(asset) == price


def test_an_18_decimal_answer_below_one_8_decimal_unit_is_invalid(oracle, asset, deployer):
    oracle.setFeed(asset, new_feed(deployer, 18, 10**10 - 1), MAX_AGE, {"from": deployer})
    with brownie.reverts(f"InvalidPrice: {asset.address.lower()}, {10**10 - 1}"):
        oracle.getPrice(asset)


def test_an_asset_without_a_feed_reverts_feed_not_set(oracle, deployer):
    other = MockERC20.deploy("C", "C", 18, {"from": deployer})
    with brownie.reverts(f"FeedNotSet: {other.address.lower()}"):
        oracle.getPrice(other)


def test_a_price_exactly_max_age_old_is_fresh_and_one_second_older_is_stale(oracle, asset, feed):
    updated_at = feed.latestRoundData()[3]
    at_age(MAX_AGE, feed)
    assert oracle.getPrice(asset) == PRICE
    at_age(MAX_AGE + 1, feed)
    with brownie.reverts(f"StalePrice: {asset.address.lower()}, {updated_at}, {MAX_AGE}"):
        oracle.getPrice(asset)


def test_a_new_answer_makes_a_stale_feed_fresh_again(oracle, asset, feed, deployer):
    chain.sleep(MAX_AGE + 100)
    chain.mine()
    with brownie.reverts(revert_pattern=r"StalePrice: .*"):
        oracle.getPrice(asset)
    feed.setPrice(PRICE + 1, {"from": deployer})
    assert oracle.getPrice(asset) == PRICE + 1


def test_an_answer_from_the_future_is_stale(oracle, asset, feed, deployer):
    future = chain[-1].timestamp + 1000
    feed.setRoundData(PRICE, future, {"from": deployer})
    with brownie.reverts(f"StalePrice: {asset.address.lower()}, {future}, {MAX_AGE}"):
        oracle.getPrice(asset)


@pytest.mark.parametrize("answer", [0, -1, -(2000 * 10**8)])
def test_a_zero_or_negative_answer_reverts_invalid_price(oracle, asset, feed, deployer, answer):
    feed.setPrice(answer, {"from": deployer})
    with brownie.reverts(f"InvalidPrice: {asset.address.lower()}, {answer}"):
        oracle.getPrice(asset)


def test_an_incomplete_round_reverts_invalid_price(oracle, asset, feed, deployer):
    feed.setRoundData(PRICE, 0, {"from": deployer})
    with brownie.reverts(f"InvalidPrice: {asset.address.lower()}, {PRICE}"):
        oracle.getPrice(asset)


@pytest.mark.parametrize(
    "feed_address,max_age",
    [(ZERO_ADDRESS, MAX_AGE), ("feed", 0), ("feed", 2**32)],
    ids=["zero-feed", "zero-max-age", "max-age-above-uint32"],
)
def test_set_feed_rejects_an_invalid_configuration(
    oracle, asset, feed, deployer, feed_address, max_age
):
    target = feed if feed_address == "feed" else feed_address
    with brownie.reverts("InvalidFeedConfig: "):
        oracle.setFeed(asset, target, max_age, {"from": deployer})


def test_set_feed_accepts_the_largest_max_age_and_rejects_more_than_36_decimals(
    oracle, asset, feed, deployer
):
    oracle.setFeed(asset, feed, 2**32 - 1, {"from": deployer})
    assert oracle.getFeed(asset)[1] == 2**32 - 1
    with brownie.reverts("InvalidFeedConfig: "):
        oracle.setFeed(asset, new_feed(deployer, 37, 10**37), MAX_AGE, {"from": deployer})


def test_only_the_owner_may_set_feeds(oracle, asset, feed, alice):
    message = f"OwnableUnauthorizedAccount: {alice.address.lower()}"
    with brownie.reverts(message):
        oracle.setFeed(asset, feed, MAX_AGE, {"from": alice})
    with brownie.reverts(message):
        oracle.setSecondaryFeed(asset, feed, MAX_AGE, 100, {"from": alice})


# Secondary feed (circuit breaker)


@pytest.fixture
def secondary(oracle, asset, feed, deployer):
    """A second 8-decimal feed allowed to differ from the primary by 1% of the smaller price."""
    second = new_feed(deployer, 8, PRICE)
    tx = oracle.setSecondaryFeed(asset, second, 1800, 100, {"from": deployer})
    assert dict(tx.events["SecondaryFeedSet"]) == {
        "asset": asset.address,
        "feed": second.address,
        "maxAge": 1800,
        "maxDeviationBps": 100,
    }
    assert tuple(oracle.getSecondaryFeed(asset)) == (second.address, 1800, 100)
    return second


# v2 (symmetric deviation): the lowest accepted secondary is PRICE / 1.01 rounded up, no longer
# PRICE * 0.99, which is 1.0101% below the primary (test_deviation_rules.py has both).
@pytest.mark.parametrize("other", [PRICE * 101 // 100, min_accepted(PRICE, 100), PRICE])
def test_feeds_that_differ_by_at_most_the_bound_return_the_primary_price(
    oracle, asset, secondary, deployer, other
):
    secondary.setPrice(other, {"from": deployer})
    assert oracle.getPrice(asset) == PRICE


@pytest.mark.parametrize("other", [PRICE * 101 // 100 + 1, PRICE * 99 // 100 - 1])
def test_feeds_that_differ_beyond_the_bound_revert_price_deviation(
    oracle, asset, secondary, deployer, other
):
    secondary.setPrice(other, {"from": deployer})
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {other}"):
        oracle.getPrice(asset)


def test_the_deviation_is_measured_on_normalised_prices(oracle, asset, feed, deployer):
    second = new_feed(deployer, 18, 2020 * 10**18)  # +1.0% in 18 decimals
    oracle.setSecondaryFeed(asset, second, MAX_AGE, 100, {"from": deployer})
    assert oracle.getPrice(asset) == PRICE
    second.setPrice(2020 * 10**18 + 10**10, {"from": deployer})  # one 8-decimal unit more
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE}, {2020 * 10**8 + 1}"):
        oracle.getPrice(asset)


# v2: a stale secondary feed no longer reverts `StalePrice`: it is skipped and the primary alone
# prices the asset (test_stale_secondary.py). A fresh secondary answering zero still reverts.
def test_an_invalid_secondary_feed_reverts_too(oracle, asset, feed, secondary, deployer):
    secondary.setPrice(0, {"from": deployer})
    with brownie.reverts(f"InvalidPrice: {asset.address.lower()}, 0"):
        oracle.getPrice(asset)


def test_replacing_the_primary_feed_keeps_the_secondary_check(oracle, asset, secondary, deployer):
    oracle.setFeed(asset, new_feed(deployer, 8, PRICE * 2), MAX_AGE, {"from": deployer})
    with brownie.reverts(f"PriceDeviation: {asset.address.lower()}, {PRICE * 2}, {PRICE}"):
        oracle.getPrice(asset)


def test_removing_the_secondary_feed_turns_the_check_off(oracle, asset, secondary, deployer):
    secondary.setPrice(PRICE * 2, {"from": deployer})
    tx = oracle.setSecondaryFeed(asset, ZERO_ADDRESS, 0, 0, {"from": deployer})
    assert tx.events["SecondaryFeedSet"]["feed"] == ZERO_ADDRESS
    assert tuple(oracle.getSecondaryFeed(asset)) == (ZERO_ADDRESS, 0, 0)
    assert oracle.getPrice(asset) == PRICE


def test_a_deviation_bound_above_uint16_is_rejected(oracle, asset, feed, deployer):
    with brownie.reverts("InvalidFeedConfig: "):
        oracle.setSecondaryFeed(asset, feed, MAX_AGE, 2**16, {"from": deployer})
