"""Exogenous sell pressure: a seller outside the protocol that sells a fixed amount of a risky asset
into its USD pool every step (funds leaving, a large holder unwinding), whatever the price does.
Unlike the arbitrageur it has no target; an optional price floor stops a sale at a given price.

Funded once at set-up by minting MockERC20 (`SellPressure.open`); it sells until that runs out.
`send_step` returns at once with the transaction hash (interval mining: same block as other actors);
`settle` waits; `step` does both."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scripts.market.pool_prices import PoolPriceReader, UsdPool
from scripts.market.swaps import SWAP_GAS, PoolSwapper
from scripts.market.transactions import UnlockedAccount

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SellOrder:
    """One step's sale, sent or skipped (`tx_hash` None: nothing left to sell, or the pool is at or
    below the floor).

    @param asset the risky asset sold
    @param amount_in_max the units offered: the step's amount, or what is left if less
    @param price_before_usd8 the pool's mid price at the latest block when sent
    @param sqrt_price_limit_x96 the floor as a price limit, 0 for none
    @param tx_hash the swap transaction, or None"""

    asset: str
    amount_in_max: int
    price_before_usd8: int
    sqrt_price_limit_x96: int
    tx_hash: str | None


@dataclass(frozen=True)
class SellTrade:
    """What one step's sale did.

    @param order the order
    @param block the block it was mined in (None when skipped)
    @param amount_in units of the risky asset the pool took
    @param amount_out units of the stable received
    @param price_after_usd8 the pool's mid price right after the sale (the price before if none)
    @param reverted whether the swap reverted
    @param gas_used gas of the transaction"""

    order: SellOrder
    block: int | None
    amount_in: int
    amount_out: int
    price_after_usd8: int
    reverted: bool
    gas_used: int


class SellPressure:
    """Sells `per_step` units of a risky asset into its USD pool at each step, from one account."""

    def __init__(self, swapper: PoolSwapper, per_step: int, floor_usd8: int | None = None):
        """Use `open` to fund a new seller; this wraps one already set up.

        @param swapper the seller's swaps on the pool
        @param per_step units of the risky asset sold per step
        @param floor_usd8 a USD price (8 decimals) below which a sale stops, or None for none"""
        if per_step <= 0:
            raise ValueError(f"per_step {per_step} must be positive")
        self.swapper = swapper
        self.pool: UsdPool = swapper.pool
        self.per_step = per_step
        self.floor_usd8 = floor_usd8
        self._prices = PoolPriceReader(swapper.account.w3, {self.pool.asset: self.pool})
        self._reserved = 0

    @classmethod
    def open(
        cls,
        account: UnlockedAccount,
        router: str,
        pool: UsdPool,
        total_units: int,
        per_step: int,
        *,
        floor_usd8: int | None = None,
        gas: int = SWAP_GAS,
    ) -> SellPressure:
        """Sets up a seller: mints `total_units` of the risky asset (MockERC20, `mint(to, amount)`) to
        `account` and approves the router, then waits.

        @param account the seller's account
        @param router the deployed SwapRouter
        @param pool the pool it sells into
        @param total_units everything it will sell over the run, token units
        @param per_step units sold per step"""
        swapper = PoolSwapper(account, router, pool, gas)
        swapper.mint_mock({pool.risky_token: total_units})
        swapper.approve_router()
        log.info("seller %s: %d %s units, %d per step", account.address, total_units, pool.asset, per_step)
        return cls(swapper, per_step, floor_usd8)

    @property
    def address(self) -> str:
        return self.swapper.account.address

    def remaining(self) -> int:
        """Units of the risky asset it can still sell (balance minus unsettled orders)."""
        return max(0, self.swapper.balance(self.pool.risky_token) - self._reserved)

    def send_step(self, amount: int | None = None) -> SellOrder:
        """Sends one step's sale now without waiting: `amount` (default `per_step`), or what is left;
        nothing when the pool is already at or below the floor."""
        price = self._prices.mid_price_usd8(self.pool.asset)
        at_floor = self.floor_usd8 is not None and price <= self.floor_usd8
        offered = 0 if at_floor else min(self.per_step if amount is None else amount, self.remaining())
        limit = 0 if self.floor_usd8 is None else self.pool.sqrt_price_x96_down(self.floor_usd8)
        tx_hash = None
        if offered > 0:
            tx_hash = self.swapper.send_exact_input(True, offered, limit)
            self._reserved += offered
        return SellOrder(self.pool.asset, offered, price, limit, tx_hash)

    def settle(self, order: SellOrder) -> SellTrade:
        """Waits for the order's swap and returns what it did; releases what it reserved."""
        if order.tx_hash is None:
            return SellTrade(order, None, 0, 0, order.price_before_usd8, False, 0)
        try:
            fill = self.swapper.fill(order.tx_hash)
        finally:
            self._reserved -= order.amount_in_max
        after = (
            order.price_before_usd8
            if fill.sqrt_price_x96_after is None
            else self.pool.price_usd8_down(fill.sqrt_price_x96_after)
        )
        if fill.reverted:
            log.warning("seller %s: sale %s into %s reverted", self.address, order.tx_hash, order.asset)
        log.info(
            "seller %s: sold %d %s units, pool $%.2f -> $%.2f",
            self.address,
            fill.amount_in,
            order.asset,
            order.price_before_usd8 / 1e8,
            after / 1e8,
        )
        return SellTrade(
            order, fill.block, fill.amount_in, fill.amount_out, after, fill.reverted, fill.gas_used
        )

    def step(self, amount: int | None = None) -> SellTrade:
        """`send_step` then `settle`."""
        return self.settle(self.send_step(amount))
