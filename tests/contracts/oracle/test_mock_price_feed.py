"""MockPriceFeed: the aggregator interface plus `setPrice`, emitting Chainlink's `AnswerUpdated`."""

import brownie
from brownie import MockPriceFeed


def test_the_feed_reports_its_decimals_and_initial_round(deployer):
    feed = MockPriceFeed.deploy(6, 1_000_000, {"from": deployer})
    deployed_at = brownie.chain[-1].timestamp
    assert feed.decimals() == 6
    assert tuple(feed.latestRoundData()) == (1, 1_000_000, deployed_at, deployed_at, 1)
    assert feed.latestAnswer() == 1_000_000


def test_set_price_starts_a_new_round_and_emits_answer_updated(deployer):
    feed = MockPriceFeed.deploy(8, 100, {"from": deployer})
    tx = feed.setPrice(-7, {"from": deployer})
    assert dict(tx.events["AnswerUpdated"]) == {
        "current": -7,
        "roundId": 2,
        "updatedAt": tx.timestamp,
    }
    assert dict(tx.events["NewRound"]) == {
        "roundId": 2,
        "startedBy": deployer.address,
        "startedAt": tx.timestamp,
    }
    assert tuple(feed.latestRoundData()) == (2, -7, tx.timestamp, tx.timestamp, 2)
    assert tuple(feed.getRoundData(1)) == tuple(feed.latestRoundData())


def test_set_round_data_publishes_an_arbitrary_update_time(deployer):
    feed = MockPriceFeed.deploy(8, 100, {"from": deployer})
    tx = feed.setRoundData(200, 0, {"from": deployer})
    assert tx.events["AnswerUpdated"]["updatedAt"] == 0
    assert tuple(feed.latestRoundData()) == (2, 200, 0, 0, 2)


def test_only_the_owner_may_publish(deployer, alice):
    feed = MockPriceFeed.deploy(8, 100, {"from": deployer})
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        feed.setPrice(1, {"from": alice})
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        feed.setRoundData(1, 1, {"from": alice})
