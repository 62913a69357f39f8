"""A Chainlink-style publisher for the devnet's `MockPriceFeed`s: it writes the market price to a feed
the way a Chainlink aggregator does, only when the market has moved by at least the feed's deviation
threshold from the last published answer, or when the feed's heartbeat has passed since its last
update; otherwise it writes nothing.

The market price it observes is the mid price of the asset's Uniswap V3 pool against USDC
(`pool_prices`), so selling into the pool moves the oracle once it crosses the threshold.

The rule is pure (`publish_reason`, `decide`: no chain) and every decision is a `PublishDecision`
record. Besides the market price, a decision may carry the exogenous reference price of that step;
`reference_crossed` says whether the reference alone would have crossed the threshold against the
last published answer, and `cascade` marks an update the market forced while the reference did not:
an oracle update caused by selling into the pool (liquidations, during a crash), not by the world.

Units: prices USD with 8 decimals (the feeds' decimals), thresholds BPS, time in block timestamps
(seconds). The deviation is Chainlink's: relative to the last published answer,
`|market - last| / last`, compared exactly in integers (`|market - last| * 1e4 >= threshold * last`);
the recorded `deviation_bps` is that ratio rounded down."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum

from web3.contract import Contract
from web3.exceptions import TransactionNotFound

from keeper.deployment import Deployment
from scripts.deployer import contract
from scripts.market.pool_prices import PoolPriceReader, usd_pools
from scripts.market.transactions import UnlockedAccount

log = logging.getLogger(__name__)

BPS = 10_000
SET_PRICE_GAS = 150_000


class Reason(str, Enum):
    """Why a price was published."""

    DEVIATION = "deviation"  # the market moved by at least the threshold from the last answer
    HEARTBEAT = "heartbeat"  # the heartbeat passed since the last update


@dataclass(frozen=True)
class FeedRule:
    """A feed's trigger parameters (Chainlink's ETH/USD and BTC/USD on mainnet: 0.5% and 1 hour).

    @param deviation_bps the move from the last answer that triggers an update, BPS (50 = 0.5%)
    @param heartbeat_seconds the longest time between updates, seconds of block time"""

    deviation_bps: int = 50
    heartbeat_seconds: int = 3_600

    def __post_init__(self) -> None:
        if not 0 < self.deviation_bps < BPS:
            raise ValueError(f"deviation_bps {self.deviation_bps} must be in (0, {BPS})")
        if self.heartbeat_seconds <= 0:
            raise ValueError(f"heartbeat_seconds {self.heartbeat_seconds} must be positive")


def deviation_bps_down(price_usd8: int, last_usd8: int) -> int:
    """`|price - last| / last` in BPS, rounded down (last > 0)."""
    if last_usd8 <= 0:
        raise ValueError(f"last published answer {last_usd8} must be positive")
    return abs(price_usd8 - last_usd8) * BPS // last_usd8


def crosses_deviation(price_usd8: int, last_usd8: int, threshold_bps: int) -> bool:
    """Whether `price` is at least `threshold_bps` away from `last`, relative to `last` (exact)."""
    if last_usd8 <= 0:
        raise ValueError(f"last published answer {last_usd8} must be positive")
    return abs(price_usd8 - last_usd8) * BPS >= threshold_bps * last_usd8


def publish_reason(
    market_usd8: int, last_usd8: int, last_updated_at: int, now: int, rule: FeedRule
) -> Reason | None:
    """Chainlink's trigger: `DEVIATION` when the market is at least `rule.deviation_bps` away from the
    last answer, else `HEARTBEAT` when `now - last_updated_at >= rule.heartbeat_seconds`, else None.

    @param market_usd8 the market price now (USD, 8 decimals)
    @param last_usd8 the feed's last answer
    @param last_updated_at the feed's last update, block timestamp (seconds)
    @param now the current block timestamp (seconds)"""
    if crosses_deviation(market_usd8, last_usd8, rule.deviation_bps):
        return Reason.DEVIATION
    if now - last_updated_at >= rule.heartbeat_seconds:
        return Reason.HEARTBEAT
    return None


@dataclass(frozen=True)
class PublishDecision:
    """One decision of the publisher for one feed.

    @param block the block the decision observed (the latest mined); an update lands in a later one
    @param timestamp that block's timestamp, the heartbeat's clock
    @param asset the asset priced
    @param market_usd8 the market price observed (the pool's mid price, unless given)
    @param reference_usd8 the exogenous reference price of the step, if the caller gave one
    @param last_published_usd8 the feed's answer the decision compared against
    @param last_updated_at the time of that answer (block timestamp)
    @param deviation_bps |market - last| / last, BPS rounded down
    @param reason why it publishes (`deviation` | `heartbeat`), None when it does not
    @param reference_crossed whether the reference alone would have crossed the deviation threshold
        against the last answer (None without a reference)
    @param tx_hash the `setPrice` transaction, once sent
    @param update_block the block the update landed in, once mined and waited for"""

    block: int
    timestamp: int
    asset: str
    market_usd8: int
    reference_usd8: int | None
    last_published_usd8: int
    last_updated_at: int
    deviation_bps: int
    reason: Reason | None
    reference_crossed: bool | None
    tx_hash: str | None = None
    update_block: int | None = None

    @property
    def published(self) -> bool:
        """Whether the decision is to publish."""
        return self.reason is not None

    @property
    def cascade(self) -> bool:
        """An update caused by the market alone: the pool crossed the deviation threshold while the
        reference did not (the selling into the pool, not the outside world, moved the oracle)."""
        return self.reason is Reason.DEVIATION and self.reference_crossed is False


def decide(
    asset: str,
    market_usd8: int,
    last_usd8: int,
    last_updated_at: int,
    block: int,
    timestamp: int,
    rule: FeedRule,
    reference_usd8: int | None = None,
) -> PublishDecision:
    """The publisher's decision for one feed, as a record (pure: no chain)."""
    return PublishDecision(
        block=block,
        timestamp=timestamp,
        asset=asset,
        market_usd8=market_usd8,
        reference_usd8=reference_usd8,
        last_published_usd8=last_usd8,
        last_updated_at=last_updated_at,
        deviation_bps=deviation_bps_down(market_usd8, last_usd8),
        reason=publish_reason(market_usd8, last_usd8, last_updated_at, timestamp, rule),
        reference_crossed=None
        if reference_usd8 is None
        else crosses_deviation(reference_usd8, last_usd8, rule.deviation_bps),
    )


@dataclass(frozen=True)
class LatestAnswer:
    """A feed's last published answer (USD, 8 decimals) and its time (block timestamp)."""

    answer_usd8: int
    updated_at: int


class ChainlinkPublisher:
    """Reads each asset's pool and feed, applies the rule and sends `MockPriceFeed.setPrice` from the
    feeds' owner where it decides to publish.

    An update it has sent and that is not mined yet counts as the last answer (at the time of its
    decision), so calling it again before the block is mined does not publish the same move twice."""

    def __init__(
        self,
        owner: UnlockedAccount,
        feeds: Mapping[str, str],
        prices: PoolPriceReader,
        rules: FeedRule | Mapping[str, FeedRule] | None = None,
    ):
        """@param owner the feeds' owner (the deployer on the devnet), an account the node signs for
        @param feeds asset -> its MockPriceFeed's address
        @param prices the reader of the assets' pools (every asset of `feeds` must have one)
        @param rules one rule for every feed, or asset -> rule; default `FeedRule()` (0.5%, 1 hour)"""
        missing = set(feeds) - set(prices.pools)
        if missing:
            raise ValueError(f"no pool to observe for {', '.join(sorted(missing))}")
        self.owner = owner
        self.prices = prices
        self.assets = tuple(feeds)
        if rules is None:
            rules = FeedRule()
        self.rules = (
            {a: rules[a] for a in feeds} if isinstance(rules, Mapping) else dict.fromkeys(feeds, rules)
        )
        self._feeds: dict[str, Contract] = {
            a: contract(owner.w3, "MockPriceFeed", f) for a, f in feeds.items()
        }
        self._pending: dict[str, PublishDecision] = {}

    @classmethod
    def for_deployment(
        cls,
        owner: UnlockedAccount,
        deployment: Deployment,
        assets: Iterable[str] = ("WETH", "WBTC"),
        stable: str = "USDC",
        rules: FeedRule | Mapping[str, FeedRule] | None = None,
    ) -> ChainlinkPublisher:
        """A publisher of `assets`' feeds, each observing its pool against `stable`."""
        assets = tuple(assets)
        feeds = {a: deployment.asset_by_symbol(a).feed for a in assets}
        return cls(owner, feeds, PoolPriceReader(owner.w3, usd_pools(deployment, assets, stable)), rules)

    def latest_answer(self, asset: str, block: int | str = "latest") -> LatestAnswer:
        """The last answer: this publisher's update still waiting to be mined, if any, else the feed's
        `latestRoundData()` at `block`."""
        pending = self._pending.get(asset)
        if pending is not None and pending.tx_hash is not None:
            try:
                self.owner.w3.eth.get_transaction_receipt(pending.tx_hash)
                del self._pending[asset]
            except TransactionNotFound:
                return LatestAnswer(pending.market_usd8, pending.timestamp)
        _, answer, _, updated_at, _ = (
            self._feeds[asset].functions.latestRoundData().call(block_identifier=block)
        )
        return LatestAnswer(int(answer), int(updated_at))

    def decide(
        self,
        references: Mapping[str, int] | None = None,
        markets: Mapping[str, int] | None = None,
    ) -> list[PublishDecision]:
        """Every feed's decision at the latest block, without sending anything.

        @param references asset -> the step's reference price, for `reference_crossed` (optional)
        @param markets asset -> a market price to use instead of reading the pool (optional)"""
        head = self.owner.w3.eth.get_block("latest")
        block, timestamp = int(head["number"]), int(head["timestamp"])
        decisions = []
        for asset in self.assets:
            market = (markets or {}).get(asset)
            if market is None:
                market = self.prices.mid_price_usd8(asset, block)
            last = self.latest_answer(asset, block)
            reference = None if references is None else references.get(asset)
            decisions.append(
                decide(
                    asset,
                    market,
                    last.answer_usd8,
                    last.updated_at,
                    block,
                    timestamp,
                    self.rules[asset],
                    reference,
                )
            )
        return decisions

    def send(
        self,
        references: Mapping[str, int] | None = None,
        markets: Mapping[str, int] | None = None,
    ) -> list[PublishDecision]:
        """Decides for every feed and sends `setPrice(market)` now, without waiting, where the rule says
        so; returns every decision (with `tx_hash` where sent). Same parameters as `decide`."""
        decisions = []
        for decision in self.decide(references, markets):
            if decision.published:
                fn = self._feeds[decision.asset].functions.setPrice(decision.market_usd8)
                decision = replace(decision, tx_hash=self.owner.send(fn, SET_PRICE_GAS))
                self._pending[decision.asset] = decision
                log.info(
                    "publish %s $%.2f (last $%.2f, %d bps, %s%s)",
                    decision.asset,
                    decision.market_usd8 / 1e8,
                    decision.last_published_usd8 / 1e8,
                    decision.deviation_bps,
                    decision.reason.value if decision.reason else "",
                    ", cascade" if decision.cascade else "",
                )
            decisions.append(decision)
        return decisions

    def confirm(self, decisions: Iterable[PublishDecision]) -> list[PublishDecision]:
        """Waits for the updates among `decisions` and returns them with `update_block` set; raises
        `TransactionReverted` if one reverted."""
        confirmed = []
        for decision in decisions:
            if decision.tx_hash is not None:
                receipt = self.owner.wait_ok(decision.tx_hash)
                decision = replace(decision, update_block=int(receipt["blockNumber"]))
                pending = self._pending.get(decision.asset)
                if pending is not None and pending.tx_hash == decision.tx_hash:
                    del self._pending[decision.asset]
            confirmed.append(decision)
        return confirmed

    def publish(
        self,
        references: Mapping[str, int] | None = None,
        markets: Mapping[str, int] | None = None,
    ) -> list[PublishDecision]:
        """`send` then `confirm`: waits until the updates are mined."""
        return self.confirm(self.send(references, markets))
