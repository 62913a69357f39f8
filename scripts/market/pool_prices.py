"""The USD price of a risky asset as its Uniswap V3 pool against a USD stablecoin shows it (WETH through
WETH/USDC, WBTC through WBTC/USDC), and back: the `sqrtPriceX96` at which the pool shows a given USD
price, the limit an arbitrage swap stops at.

A pool's `slot0().sqrtPriceX96` is `sqrt(token1 units per token0 unit) * 2**96` in raw token units. With
the risky asset `r` (decimals `dr`) against a stable `s` (decimals `ds`) worth `S` USD (8 decimals,
$1 by default) and `Q = sqrtPriceX96**2`:

    r is token0:  price_usd8 = Q * 10**dr * S / (2**192 * 10**ds)
    r is token1:  price_usd8 = 2**192 * 10**dr * S / (Q * 10**ds)

All integer maths: prices round down (`..._down`), and the inverse rounds the square root down
(`math.isqrt`), so a round trip price -> sqrtPriceX96 -> price lands within one unit of the eighth
decimal. The mid price is the pool's marginal price before fees (what Chainlink-style observers
and arbitrageurs compare), not a quote for any size."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from web3 import Web3
from web3.contract import Contract
from web3.types import BlockIdentifier

from keeper.deployment import Deployment
from scripts.uniswap import uniswap_contract

Q192 = 2**192
#: The pool's bounds on sqrtPriceX96 (TickMath.MIN_SQRT_RATIO / MAX_SQRT_RATIO): a swap's limit must
#: lie strictly between them.
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273353504272994009911368835860614145
STABLE_PRICE_USD8 = 10**8


def price_usd8_down(
    sqrt_price_x96: int,
    risky_is_token0: bool,
    risky_decimals: int,
    stable_decimals: int,
    stable_price_usd8: int = STABLE_PRICE_USD8,
) -> int:
    """The USD price (8 decimals, rounded down) of one whole risky token at the pool's `sqrt_price_x96`.

    @param sqrt_price_x96 the pool's sqrt(token1/token0) in Q64.96, raw units
    @param risky_is_token0 whether the risky asset is the pool's token0 (lower address)
    @param risky_decimals the risky token's decimals
    @param stable_decimals the stablecoin's decimals
    @param stable_price_usd8 what one whole stable token is worth, USD with 8 decimals"""
    if sqrt_price_x96 <= 0:
        raise ValueError(f"sqrtPriceX96 {sqrt_price_x96} must be positive")
    q = sqrt_price_x96 * sqrt_price_x96
    if risky_is_token0:
        return q * 10**risky_decimals * stable_price_usd8 // (Q192 * 10**stable_decimals)
    return Q192 * 10**risky_decimals * stable_price_usd8 // (q * 10**stable_decimals)


def sqrt_price_x96_down(
    price_usd8: int,
    risky_is_token0: bool,
    risky_decimals: int,
    stable_decimals: int,
    stable_price_usd8: int = STABLE_PRICE_USD8,
) -> int:
    """The pool's sqrtPriceX96 (rounded down) at which one whole risky token is worth `price_usd8`,
    clamped strictly inside the pool's [MIN_SQRT_RATIO, MAX_SQRT_RATIO] so it can serve as a swap's
    `sqrtPriceLimitX96`.

    @param price_usd8 the risky asset's USD price, 8 decimals
    (other parameters as in `price_usd8_down`)"""
    if price_usd8 <= 0:
        raise ValueError(f"price {price_usd8} must be positive")
    # token1 units per token0 unit, as a fraction num/den, times 2**192.
    if risky_is_token0:
        num, den = price_usd8 * 10**stable_decimals, stable_price_usd8 * 10**risky_decimals
    else:
        num, den = stable_price_usd8 * 10**risky_decimals, price_usd8 * 10**stable_decimals
    sqrt_price = math.isqrt(num * Q192 // den)
    return min(max(sqrt_price, MIN_SQRT_RATIO + 1), MAX_SQRT_RATIO - 1)


def price_usd8_of_tick(tick: int, risky_is_token0: bool, risky_decimals: int, stable_decimals: int) -> float:
    """The USD price (8 decimals, as a float) at a tick: `1.0001**tick` token1 per token0, raw units.
    For checks and charts; the integer functions above are the exact ones."""
    raw = 1.0001**tick
    per_risky = raw if risky_is_token0 else 1 / raw
    return per_risky * 10**risky_decimals / 10**stable_decimals * STABLE_PRICE_USD8


@dataclass(frozen=True)
class UsdPool:
    """A risky asset's Uniswap V3 pool against a USD stablecoin, with what the conversions need.

    @param asset the risky asset's symbol (WETH)
    @param stable the stablecoin's symbol (USDC)
    @param address the pool's address
    @param fee the pool's fee tier, hundredths of a BPS (500 = 0.05%)
    @param risky_token / stable_token the tokens' addresses
    @param risky_decimals / stable_decimals the tokens' decimals
    @param risky_is_token0 whether the risky token is the pool's token0"""

    asset: str
    stable: str
    address: str
    fee: int
    risky_token: str
    stable_token: str
    risky_decimals: int
    stable_decimals: int
    risky_is_token0: bool

    @classmethod
    def of(cls, deployment: Deployment, asset: str, stable: str = "USDC", fee: int | None = None) -> UsdPool:
        """The pool of `asset` against `stable` named in the deployment's Uniswap section."""
        if deployment.uniswap is None:
            raise ValueError("the deployment has no Uniswap section")
        info = deployment.uniswap.pool(asset, stable, fee)
        if info is None:
            raise ValueError(
                f"the deployment has no {asset}/{stable} pool" + (f" at fee {fee}" if fee else "")
            )
        risky, usd = deployment.asset_by_symbol(asset), deployment.asset_by_symbol(stable)
        return cls(
            asset=asset,
            stable=stable,
            address=info.address,
            fee=info.fee,
            risky_token=risky.address,
            stable_token=usd.address,
            risky_decimals=risky.decimals,
            stable_decimals=usd.decimals,
            risky_is_token0=info.token0 == asset,
        )

    def price_usd8_down(self, sqrt_price_x96: int) -> int:
        """The risky asset's USD price (8 decimals, rounded down) at `sqrt_price_x96`, the stable at $1."""
        return price_usd8_down(
            sqrt_price_x96, self.risky_is_token0, self.risky_decimals, self.stable_decimals
        )

    def sqrt_price_x96_down(self, price_usd8: int) -> int:
        """The sqrtPriceX96 (rounded down, inside the pool's bounds) where the risky asset is worth
        `price_usd8`, the stable at $1."""
        return sqrt_price_x96_down(
            price_usd8, self.risky_is_token0, self.risky_decimals, self.stable_decimals
        )

    def price_usd8_of_tick(self, tick: int) -> float:
        """The risky asset's USD price (8 decimals, float) at `tick`."""
        return price_usd8_of_tick(tick, self.risky_is_token0, self.risky_decimals, self.stable_decimals)


def usd_pools(
    deployment: Deployment, assets: Iterable[str] = ("WETH", "WBTC"), stable: str = "USDC"
) -> dict[str, UsdPool]:
    """Asset -> its USD pool, for each of `assets`."""
    return {asset: UsdPool.of(deployment, asset, stable) for asset in assets}


@dataclass(frozen=True)
class Slot0:
    """The part of a pool's `slot0()` that prices it."""

    sqrt_price_x96: int
    tick: int


class PoolPriceReader:
    """Reads the mid price of each risky asset's USD pool from the chain (one `slot0()` call each)."""

    def __init__(self, w3: Web3, pools: Mapping[str, UsdPool]):
        """@param pools asset -> its USD pool (see `usd_pools`)"""
        self.w3 = w3
        self.pools = dict(pools)
        self._contracts: dict[str, Contract] = {
            asset: uniswap_contract(w3, "UniswapV3Pool", pool.address) for asset, pool in self.pools.items()
        }

    def slot0(self, asset: str, block: BlockIdentifier = "latest") -> Slot0:
        """The pool's sqrtPriceX96 and tick at `block`."""
        raw = self._contracts[asset].functions.slot0().call(block_identifier=block)
        return Slot0(sqrt_price_x96=int(raw[0]), tick=int(raw[1]))

    def mid_price_usd8(self, asset: str, block: BlockIdentifier = "latest") -> int:
        """The risky asset's USD mid price (8 decimals, rounded down) in its pool at `block`."""
        return self.pools[asset].price_usd8_down(self.slot0(asset, block).sqrt_price_x96)

    def mid_prices_usd8(self, block: BlockIdentifier = "latest") -> dict[str, int]:
        """Asset -> USD mid price (8 decimals, rounded down) at `block`, for every pool."""
        return {asset: self.mid_price_usd8(asset, block) for asset in self.pools}
