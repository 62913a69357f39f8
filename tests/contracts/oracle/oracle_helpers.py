"""Constants and helpers of the oracle tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from brownie import MockPriceFeed, chain, web3

MAX_AGE = 3600
PRICE = 2000 * 10**8


def new_feed(deployer, decimals, answer):
    return MockPriceFeed.deploy(decimals, answer, {"from": deployer})


def mine_at(timestamp: int) -> None:
    """Mine the next block at exactly `timestamp` (views run at the latest block's time).
    Brownie's chain.mine(timestamp=...) does not reach Anvil, so ask Anvil directly."""
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    chain.mine()
    assert chain[-1].timestamp == timestamp


def at_age(seconds: int, feed) -> None:
    """Mine a block exactly `seconds` after the feed's last update."""
    mine_at(feed.latestRoundData()[3] + seconds)


def min_accepted(price: int, max_deviation_bps: int) -> int:
    """The lowest price within `max_deviation_bps` of `price` under the symmetric rule
    `|a - b| * 1e4 <= min(a, b) * bound`: the smallest b with (price - b) * 1e4 <= b * bound."""
    return -(-price * 10**4 // (10**4 + max_deviation_bps))


def max_accepted(price: int, max_deviation_bps: int) -> int:
    """The highest price within `max_deviation_bps` of `price`: (b - price) * 1e4 <= price * bound."""
    return price * (10**4 + max_deviation_bps) // 10**4
