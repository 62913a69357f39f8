"""The Chainlink-style publisher: the deviation and heartbeat rule as a pure function, the cascade
attribution against the reference, and on chain: a pool moved 0.4% publishes nothing, 0.6% publishes
the pool's price; a passed heartbeat publishes an unmoved price; an update not mined yet is not sent
twice; an arbitrage trade and an update sent without waiting share a block. Checked through the
feeds' `AnswerUpdated` logs and `latestRoundData`."""

from __future__ import annotations

import pytest
from web3.exceptions import TransactionNotFound

from scripts.market.arbitrageur import Arbitrageur
from scripts.market.pool_prices import PoolPriceReader
from scripts.market.publisher import (
    ChainlinkPublisher,
    FeedRule,
    Reason,
    crosses_deviation,
    decide,
    deviation_bps_down,
    publish_reason,
)

RULE = FeedRule(deviation_bps=50, heartbeat_seconds=600)
LAST = 2_000 * 10**8
ARB_INDEX = 6


# the rule, without a chain


@pytest.mark.parametrize("sign", [1, -1], ids=["up", "down"])
def test_a_move_publishes_from_the_deviation_threshold_on_and_not_below_it(sign):
    at_threshold = LAST + sign * LAST * 50 // 10_000  # exactly 0.5%
    assert publish_reason(at_threshold, LAST, 1_000, 1_010, RULE) is Reason.DEVIATION
    assert publish_reason(at_threshold - sign, LAST, 1_000, 1_010, RULE) is None  # 0.5% less one unit
    assert publish_reason(LAST + sign * LAST * 40 // 10_000, LAST, 1_000, 1_010, RULE) is None
    assert publish_reason(LAST + sign * LAST * 60 // 10_000, LAST, 1_000, 1_010, RULE) is Reason.DEVIATION


def test_the_heartbeat_publishes_an_unmoved_price_once_it_has_passed():
    assert publish_reason(LAST, LAST, 1_000, 1_000 + 599, RULE) is None
    assert publish_reason(LAST, LAST, 1_000, 1_000 + 600, RULE) is Reason.HEARTBEAT
    # A move past the threshold is a deviation update even when the heartbeat is also due.
    assert publish_reason(LAST * 99 // 100, LAST, 1_000, 5_000, RULE) is Reason.DEVIATION


def test_deviation_is_measured_against_the_last_answer_and_rounded_down():
    assert deviation_bps_down(LAST + LAST * 49 // 10_000 + 1, LAST) == 49
    assert deviation_bps_down(LAST * 2, LAST) == 10_000
    assert deviation_bps_down(LAST // 2, LAST) == 5_000
    assert crosses_deviation(LAST * 995 // 1000, LAST, 50)
    with pytest.raises(ValueError):
        deviation_bps_down(1, 0)
    with pytest.raises(ValueError):
        FeedRule(deviation_bps=0)


def test_an_update_the_reference_would_not_have_caused_is_marked_as_a_cascade():
    # The pool fell 0.8% under liquidation selling while the reference moved 0.2%: a cascade update.
    cascade = decide(
        "WETH", LAST * 992 // 1000, LAST, 1_000, 7, 1_010, RULE, reference_usd8=LAST * 998 // 1000
    )
    assert cascade.reason is Reason.DEVIATION and cascade.reference_crossed is False and cascade.cascade
    assert (cascade.block, cascade.deviation_bps, cascade.published) == (7, 80, True)
    # The reference fell 1% too: the market, not the selling, moved the oracle.
    market = decide("WETH", LAST * 992 // 1000, LAST, 1_000, 7, 1_010, RULE, reference_usd8=LAST * 99 // 100)
    assert market.reference_crossed is True and not market.cascade
    # A heartbeat update is never a cascade; without a reference nothing is attributed.
    beat = decide("WETH", LAST, LAST, 1_000, 7, 1_600, RULE, reference_usd8=LAST)
    assert beat.reason is Reason.HEARTBEAT and not beat.cascade
    unknown = decide("WETH", LAST * 992 // 1000, LAST, 1_000, 7, 1_010, RULE)
    assert unknown.reference_crossed is None and not unknown.cascade
    quiet = decide("WETH", LAST, LAST, 1_000, 7, 1_010, RULE, reference_usd8=LAST * 98 // 100)
    assert quiet.reason is None and not quiet.published and not quiet.cascade


# on chain


def answer_updates(market, asset: str, from_block: int) -> list[int]:
    logs = market.feed(asset).events.AnswerUpdated().get_logs(from_block=from_block)
    return [int(entry["args"]["current"]) for entry in logs]


@pytest.mark.parametrize("asset", ["WETH", "WBTC"])
def test_a_pool_moved_0_4_percent_publishes_nothing_and_0_6_percent_publishes_its_price(market, asset):
    pool = market.pool(asset)
    funded = (10_000 * 10**18, 0) if asset == "WETH" else (400 * 10**8, 0)
    arb = Arbitrageur.open(market.account(ARB_INDEX), market.router, pool, *funded)
    publisher = ChainlinkPublisher.for_deployment(market.account(0), market.deployment, rules=RULE)
    last = market.oracle_price_usd8(asset)
    first_block = market.w3.eth.block_number + 1

    assert arb.trade(last * 9_960 // 10_000).reached_target
    [quiet] = [d for d in publisher.publish() if d.asset == asset]
    assert quiet.reason is None and quiet.tx_hash is None and quiet.deviation_bps == 40
    assert answer_updates(market, asset, first_block) == []

    assert arb.trade(last * 9_940 // 10_000).reached_target
    mid = PoolPriceReader(market.w3, {asset: pool}).mid_price_usd8(asset)
    [update] = [d for d in publisher.publish(references={asset: last}) if d.asset == asset]
    assert update.reason is Reason.DEVIATION and update.deviation_bps == 60
    assert update.market_usd8 == mid and update.last_published_usd8 == last
    assert update.cascade  # the reference did not move: only the pool did
    assert answer_updates(market, asset, first_block) == [mid]
    _, answer, _, updated_at, _ = market.feed(asset).functions.latestRoundData().call()
    assert answer == mid
    assert updated_at == market.w3.eth.get_block(update.update_block)["timestamp"]
    # Published: the same pool price is no longer a deviation.
    [after] = [d for d in publisher.publish() if d.asset == asset]
    assert after.reason is None and after.last_published_usd8 == mid


def test_a_passed_heartbeat_publishes_an_unmoved_price_and_then_waits_again(market):
    publisher = ChainlinkPublisher.for_deployment(market.account(0), market.deployment, rules=RULE)
    first_block = market.w3.eth.block_number + 1
    assert not any(d.published for d in publisher.publish())

    market.advance_time(RULE.heartbeat_seconds)
    decisions = publisher.publish()

    assert [d.reason for d in decisions] == [Reason.HEARTBEAT, Reason.HEARTBEAT]
    for d in decisions:
        assert d.deviation_bps == 0 and d.timestamp - d.last_updated_at >= RULE.heartbeat_seconds
        assert answer_updates(market, d.asset, first_block) == [d.market_usd8]
        _, _, _, updated_at, _ = market.feed(d.asset).functions.latestRoundData().call()
        assert updated_at == market.w3.eth.get_block(d.update_block)["timestamp"]
    assert not any(d.published for d in publisher.publish())


def test_an_update_not_yet_mined_is_not_sent_twice(market):
    publisher = ChainlinkPublisher.for_deployment(market.account(0), market.deployment, rules=RULE)
    market.advance_time(RULE.heartbeat_seconds)
    market.rpc("evm_setAutomine", [False])
    first_block = market.w3.eth.block_number + 1

    sent = publisher.send()
    again = publisher.send()
    market.rpc("evm_mine", [])
    publisher.confirm(sent)

    assert all(d.tx_hash for d in sent) and not any(d.published for d in again)
    assert [a.last_published_usd8 for a in again] == [s.market_usd8 for s in sent]
    for d in sent:
        assert answer_updates(market, d.asset, first_block) == [d.market_usd8]


def test_an_arb_trade_and_an_oracle_update_sent_without_waiting_share_one_block(market):
    arb = Arbitrageur.open(market.account(ARB_INDEX), market.router, market.pool("WETH"), 10_000 * 10**18, 0)
    publisher = ChainlinkPublisher.for_deployment(market.account(0), market.deployment, rules=RULE)
    start = PoolPriceReader(market.w3, {"WETH": arb.pool}).mid_price_usd8("WETH")
    target = start * 9_940 // 10_000
    market.rpc("evm_setAutomine", [False])

    order = arb.send(target)
    decisions = publisher.send(markets={"WETH": target})
    for tx_hash in (order.tx_hash, *(d.tx_hash for d in decisions if d.tx_hash)):
        with pytest.raises(TransactionNotFound):  # nothing is mined until the block is
            market.w3.eth.get_transaction_receipt(tx_hash)
    market.rpc("evm_mine", [])

    trade = arb.settle(order)
    [weth] = [d for d in publisher.confirm(decisions) if d.asset == "WETH"]
    assert weth.reason is Reason.DEVIATION and weth.tx_hash is not None
    assert trade.block == weth.update_block
    assert trade.reached_target
    assert market.feed("WETH").functions.latestAnswer().call() == target
