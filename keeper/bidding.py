"""Competitive bidding: the priority fee of a liquidation from its expected profit.

A liquidation is worth `revenue_wei` to the keeper (collateral received minus debt repaid, in the
gas token). Its worst-case gas at the market's fees (gas limit x max fee) comes off first; the bid is
`share` of what is left, spread over the gas the simulation expects, as the tip per gas. The tip is
never below the node's suggested minimum (nor the market quote's tip), and never so high that the
max fee passes MAX_GAS_GWEI or the worst case (gas limit x max fee) passes the revenue. A liquidation
whose revenue does not even cover the market's fees bids the minimum (the profit gate decided to send
it, e.g. to clear dust).

Ranking prices the same bid in: `bid_cost_wei` is what the bid can spend at most beyond the market's
worst case, so the profit the gate checks is what is left after the bid."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from keeper.transactions import Fees


@dataclass(frozen=True)
class BidPolicy:
    """How much of a liquidation's surplus the keeper offers to be included first.

    `share` 0 bids the market's tip (the keeper before bidding); 1 gives the whole surplus to the block
    builder. The default 0.5 keeps half: a rival whose tip does not depend on the profit (a fixed 5
    gwei, say) is outbid as soon as half the surplus per gas exceeds its tip, and a rival bidding a share
    of the same profit must give up more than half of it to win, while the keeper still earns half of
    what it wins."""

    share: Decimal
    max_fee_cap: int  # wei per gas (MAX_GAS_GWEI)

    def base_fee(self, market: Fees) -> int:
        """The base fee behind a market quote (max fee = 2 x base fee + tip, see Dispatcher)."""
        return max(0, (market.max_fee - market.tip) // 2)

    def ceiling_tip(self, market: Fees, revenue_wei: int, gas_limit: int) -> int:
        """The highest tip the bounds allow: max fee within the cap, worst case within the revenue."""
        base = self.base_fee(market)
        by_revenue = revenue_wei // gas_limit - 2 * base if gas_limit > 0 else 0
        return max(0, min(by_revenue, self.max_fee_cap - 2 * base, self.max_fee_cap))

    def fees(self, market: Fees, revenue_wei: int, expected_gas: int, gas_limit: int, min_tip: int) -> Fees:
        """The fees to send one liquidation with (see the module's docstring)."""
        if market.legacy or self.share <= 0:
            return market
        floor = max(market.tip, min_tip)
        surplus = revenue_wei - gas_limit * market.max_fee
        tip = int(self.share * surplus) // max(1, expected_gas) if surplus > 0 else 0
        tip = min(tip, self.ceiling_tip(market, revenue_wei, gas_limit))
        return self.at_tip(market, max(tip, floor))

    def at_tip(self, market: Fees, tip: int) -> Fees:
        """Market fees with `tip`: max fee = 2 x base fee + tip, at most the cap."""
        max_fee = min(2 * self.base_fee(market) + tip, self.max_fee_cap)
        return Fees(max_fee=max(max_fee, market.max_fee), tip=min(tip, max_fee), legacy=False)

    def bid_cost_wei(self, revenue_wei: int, market_gas_wei: int) -> int:
        """The most a bid adds to the market's worst-case gas: `share` of the surplus above it."""
        return int(self.share * (revenue_wei - market_gas_wei)) if revenue_wei > market_gas_wei else 0


def bid_cost_usd(share: Decimal, revenue_usd: Decimal, market_gas_usd: Decimal) -> Decimal:
    """`BidPolicy.bid_cost_wei` in USD, for ranking: what the bid may spend beyond the market's
    worst-case gas."""
    return share * (revenue_usd - market_gas_usd) if revenue_usd > market_gas_usd else Decimal(0)
