"""An arbitrageur with finite capital: it trades a real Uniswap V3 pool toward the reference price with
what it holds, and no more.

How it trades: one `SwapRouter.exactInputSingle` per call, selling the risky asset when the pool prices
it above the target and buying it with the stable when below, with `sqrtPriceLimitX96` set to the
target's sqrtPriceX96. The pool stops the swap at the target and takes only what reaching it costs
(the router pays the pool what the pool asks for in its callback, never more than `amountIn`).

How spending is limited: `amountIn` is everything it holds of the token sold, minus what its orders
still waiting to be mined may take. Its inventory is the token balances it was funded with at set-up
(`Arbitrageur.open` mints them once, as MockERC20) plus what its trades have brought in since; nothing
mints more. So when the capital on one side runs out, the swap spends it all and the pool stays short
of the target (`ArbTrade.capital_limited`), and a later call sends nothing (`ArbSkip.NO_CAPITAL`):
a keeper dumping collateral can then push the pool below the reference.

Two ways to call it: `send(target)` decides and sends at once, returning an `ArbOrder` with the
transaction hash, so the engine can put it into the same block as an oracle update under interval
mining; `settle(order)` waits for it and returns the `ArbTrade`; `trade(target)` does both.
Each order sent must be settled (that releases the inventory it reserved)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from scripts.market.pool_prices import PoolPriceReader, UsdPool
from scripts.market.swaps import SWAP_GAS, PoolSwapper
from scripts.market.transactions import UnlockedAccount

log = logging.getLogger(__name__)

BPS = 10_000


class ArbSkip(str, Enum):
    """Why an arbitrage order was not sent."""

    AT_TARGET = "at_target"  # the pool is at the target, or within `min_gap_bps` of it
    NO_CAPITAL = "no_capital"  # nothing left of the token the trade would sell


@dataclass(frozen=True)
class ArbOrder:
    """A decision of the arbitrageur, sent or skipped.

    @param asset the risky asset whose pool it trades
    @param target_usd8 the price it trades toward (USD, 8 decimals)
    @param price_before_usd8 the pool's mid price it saw when deciding (latest block)
    @param sell_risky True to sell the risky asset (pool above target), False to buy it
    @param token_in / token_out the addresses of the token sold and bought
    @param amount_in_max the most the swap may spend: its whole available inventory of `token_in`
    @param sqrt_price_limit_x96 the target as the swap's price limit
    @param tx_hash the swap transaction, or None when skipped
    @param skipped why nothing was sent, or None"""

    asset: str
    target_usd8: int
    price_before_usd8: int
    sell_risky: bool
    token_in: str
    token_out: str
    amount_in_max: int
    sqrt_price_limit_x96: int
    tx_hash: str | None
    skipped: ArbSkip | None = None


@dataclass(frozen=True)
class ArbTrade:
    """What an arbitrage order did once mined (or that it was skipped).

    @param order the order
    @param block the block it was mined in (None when skipped)
    @param amount_in units of `order.token_in` the pool took (<= `order.amount_in_max`)
    @param amount_out units of `order.token_out` the arbitrageur received
    @param price_after_usd8 the pool's mid price right after the swap (from its Swap event), or the
        price before when nothing was swapped
    @param reached_target whether the swap stopped exactly at the target price (for a skipped
        order: whether it was skipped for being at the target already, within `min_gap_bps`)
    @param capital_limited whether it spent its whole available inventory and stopped short
    @param reverted whether the swap reverted (e.g. the pool had already passed the target when it ran)
    @param gas_used gas of the transaction (0 when skipped)"""

    order: ArbOrder
    block: int | None
    amount_in: int
    amount_out: int
    price_after_usd8: int
    reached_target: bool
    capital_limited: bool
    reverted: bool
    gas_used: int

    @property
    def asset(self) -> str:
        return self.order.asset

    @property
    def price_before_usd8(self) -> int:
        return self.order.price_before_usd8


class Arbitrageur:
    """Trades one USD pool toward target prices from one account with a finite inventory."""

    def __init__(
        self,
        swapper: PoolSwapper,
        capital: Mapping[str, int],
        min_gap_bps: int = 0,
        buy_budget: int | None = None,
    ):
        """Use `open` to fund and approve a new arbitrageur; this wraps one already set up.

        @param swapper the account's swaps on the pool
        @param capital token address -> units it was funded with (for reports; spending reads balances)
        @param min_gap_bps the smallest gap between pool and target worth a trade, BPS of the pool
            price; 0 trades on any difference (a real arbitrageur would wait for more than the fee)
        @param buy_budget stablecoin units it may spend buying the risky asset over its whole life,
            what it sold included (a dip-buying limit: its risk desk's, not its wallet's); None: its
            whole stablecoin balance at any time"""
        self.swapper = swapper
        self.pool: UsdPool = swapper.pool
        self.capital = dict(capital)
        self.min_gap_bps = min_gap_bps
        self.buy_budget = buy_budget
        self._prices = PoolPriceReader(swapper.account.w3, {self.pool.asset: self.pool})
        self._reserved: dict[str, int] = {}

    @classmethod
    def open(
        cls,
        account: UnlockedAccount,
        router: str,
        pool: UsdPool,
        risky_units: int,
        stable_units: int,
        *,
        min_gap_bps: int = 0,
        gas: int = SWAP_GAS,
        buy_budget: int | None = None,
    ) -> Arbitrageur:
        """Sets up an arbitrageur: mints its whole capital (MockERC20, once: it never mints again),
        approves the router on both tokens, and waits for all of it.

        @param account the arbitrageur's account (a fresh one: its prior balances add to the capital)
        @param router the deployed SwapRouter
        @param pool the pool it trades
        @param risky_units capital in the risky asset, token units
        @param stable_units capital in the stablecoin, token units"""
        swapper = PoolSwapper(account, router, pool, gas)
        swapper.mint_mock({pool.risky_token: risky_units, pool.stable_token: stable_units})
        swapper.approve_router()
        capital = {token: swapper.balance(token) for token in (pool.risky_token, pool.stable_token)}
        log.info(
            "arbitrageur %s on %s/%s: capital %d %s units, %d %s units",
            account.address,
            pool.asset,
            pool.stable,
            capital[pool.risky_token],
            pool.asset,
            capital[pool.stable_token],
            pool.stable,
        )
        return cls(swapper, capital, min_gap_bps, buy_budget)

    @property
    def address(self) -> str:
        return self.swapper.account.address

    def inventory(self) -> dict[str, int]:
        """Token address -> what it holds now (latest block), orders not yet mined not counted."""
        return {
            token: self.swapper.balance(token) for token in (self.pool.risky_token, self.pool.stable_token)
        }

    def available(self, token: str) -> int:
        """What it may still commit of `token`: its balance minus what unsettled orders may take, and
        of the stablecoin no more than what is left of its buying budget."""
        free = max(0, self.swapper.balance(token) - self._reserved.get(token, 0))
        if self.buy_budget is not None and token == self.pool.stable_token:
            free = min(free, max(0, self.buy_budget - self._reserved.get(token, 0)))
        return free

    def send(self, target_usd8: int) -> ArbOrder:
        """Decides from the latest block and, unless the pool is at the target or the inventory is
        empty, sends the swap toward `target_usd8` now without waiting. Settle the order with `settle`."""
        if target_usd8 <= 0:
            raise ValueError(f"target price {target_usd8} must be positive")
        sqrt_now = self._prices.slot0(self.pool.asset).sqrt_price_x96
        price_now = self.pool.price_usd8_down(sqrt_now)
        limit = self.pool.sqrt_price_x96_down(target_usd8)
        # The risky asset's USD price falls with sqrtPrice when it is token0 and rises when token1.
        sell_risky = (limit < sqrt_now) == self.pool.risky_is_token0
        token_in, token_out = self.swapper.token_of(sell_risky)
        gap_bps_x_price = abs(target_usd8 - price_now) * BPS
        at_target = limit == sqrt_now or gap_bps_x_price < self.min_gap_bps * price_now
        amount = 0 if at_target else self.available(token_in)
        skipped = ArbSkip.AT_TARGET if at_target else ArbSkip.NO_CAPITAL if amount == 0 else None
        tx_hash = None
        if skipped is None:
            tx_hash = self.swapper.send_exact_input(sell_risky, amount, limit)
            self._reserved[token_in] = self._reserved.get(token_in, 0) + amount
        order = ArbOrder(
            asset=self.pool.asset,
            target_usd8=target_usd8,
            price_before_usd8=price_now,
            sell_risky=sell_risky,
            token_in=token_in,
            token_out=token_out,
            amount_in_max=amount,
            sqrt_price_limit_x96=limit,
            tx_hash=tx_hash,
            skipped=skipped,
        )
        if skipped is ArbSkip.NO_CAPITAL:
            log.info(
                "arbitrageur %s: out of capital, %s pool stays at $%.2f (target $%.2f)",
                self.address,
                self.pool.asset,
                price_now / 1e8,
                target_usd8 / 1e8,
            )
        return order

    def settle(self, order: ArbOrder) -> ArbTrade:
        """Waits for the order's swap (if one was sent), releases its reserved inventory and returns
        what it did."""
        if order.tx_hash is None:
            return ArbTrade(
                order=order,
                block=None,
                amount_in=0,
                amount_out=0,
                price_after_usd8=order.price_before_usd8,
                reached_target=order.skipped is ArbSkip.AT_TARGET,
                capital_limited=False,
                reverted=False,
                gas_used=0,
            )
        try:
            fill = self.swapper.fill(order.tx_hash)
        finally:
            self._reserved[order.token_in] -= order.amount_in_max
        if fill.reverted or fill.sqrt_price_x96_after is None:
            # Expected in a busy block: a liquidation mined first already moved the pool past the target.
            log.info("arbitrageur %s: swap %s on %s reverted", self.address, order.tx_hash, order.asset)
            return ArbTrade(
                order=order,
                block=fill.block,
                amount_in=0,
                amount_out=0,
                price_after_usd8=order.price_before_usd8,
                reached_target=False,
                capital_limited=False,
                reverted=True,
                gas_used=fill.gas_used,
            )
        reached = fill.sqrt_price_x96_after == order.sqrt_price_limit_x96
        if self.buy_budget is not None and order.token_in == self.pool.stable_token:
            self.buy_budget = max(0, self.buy_budget - fill.amount_in)
        trade = ArbTrade(
            order=order,
            block=fill.block,
            amount_in=fill.amount_in,
            amount_out=fill.amount_out,
            price_after_usd8=self.pool.price_usd8_down(fill.sqrt_price_x96_after),
            reached_target=reached,
            capital_limited=not reached and fill.amount_in == order.amount_in_max,
            reverted=False,
            gas_used=fill.gas_used,
        )
        log.info(
            "arbitrageur %s: %s %s pool $%.2f -> $%.2f (target $%.2f), in %d out %d units%s",
            self.address,
            "sold into" if order.sell_risky else "bought from",
            order.asset,
            order.price_before_usd8 / 1e8,
            trade.price_after_usd8 / 1e8,
            order.target_usd8 / 1e8,
            trade.amount_in,
            trade.amount_out,
            ", out of capital" if trade.capital_limited else "",
        )
        return trade

    def trade(self, target_usd8: int) -> ArbTrade:
        """`send` then `settle`: waits until the swap is mined (automine, or the next interval block)."""
        return self.settle(self.send(target_usd8))
