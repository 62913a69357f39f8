"""Liquidity where a crash goes: a Uniswap V3 position on a risky asset's USD pool between two USD
prices of the risky asset, so the pool has depth all along the crash's path.

Why it is needed: the devnet plan (`scripts/uniswap.DEVNET_UNISWAP`) seeds each pool with liquidity
between -2% and +2% of the start price and none outside. Once a crash carries the pool past that band,
the pool has no liquidity at all: the arbitrageur moves it for free and every later swap through an
empty range reverts in the SwapRouter's callback, so a keeper could not sell there. The deploy's band
is also symmetric in the pool's own price (token1 per token0), which is not symmetric in USD when the
risky asset is token1 (WETH/USDC: +-60% of the pool price is $1,250-$5,000, not $800-$3,200).
`add_usd_band` takes the bounds in USD of the risky asset, whatever the token order.

Set-up only: the liquidity provider's tokens are minted as MockERC20 and approved to the position
manager for the exact amounts offered (the manager takes what the liquidity needs, the rest stays with
the provider)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from web3.logs import DISCARD

from scripts.deployer import contract
from scripts.market.pool_prices import PoolPriceReader, UsdPool
from scripts.market.swaps import TOKEN_GAS
from scripts.market.transactions import UnlockedAccount
from scripts.uniswap import DEADLINE, Q96, tick_of_price, uniswap_contract

log = logging.getLogger(__name__)

MINT_GAS = 1_000_000


@dataclass(frozen=True)
class LiquidityBand:
    """A position minted by `add_usd_band`.

    @param asset the risky asset of the pool
    @param token_id the position manager's NFT id
    @param tick_lower / tick_upper the position's ticks (rounded outwards to the tick spacing)
    @param liquidity the position's liquidity
    @param amount_risky / amount_stable token units the pool took"""

    asset: str
    token_id: int
    tick_lower: int
    tick_upper: int
    liquidity: int
    amount_risky: int
    amount_stable: int


def usd_band_ticks(pool: UsdPool, lower_usd8: int, upper_usd8: int, spacing: int) -> tuple[int, int]:
    """The ticks of a band of USD prices of the risky asset, in the pool's order, rounded outwards to
    `spacing` (so the band covers at least the prices asked)."""
    if not 0 < lower_usd8 < upper_usd8:
        raise ValueError(
            f"band ${lower_usd8 / 1e8:,.2f}-${upper_usd8 / 1e8:,.2f} must be positive and ordered"
        )
    ticks = sorted(tick_of_price((pool.sqrt_price_x96_down(p) / Q96) ** 2) for p in (lower_usd8, upper_usd8))
    return math.floor(ticks[0] / spacing) * spacing, math.ceil(ticks[1] / spacing) * spacing


def add_usd_band(
    provider: UnlockedAccount,
    position_manager: str,
    pool: UsdPool,
    lower_usd8: int,
    upper_usd8: int,
    depth_usd: float,
) -> LiquidityBand:
    """Mints a position between two USD prices of the risky asset whose value at the pool's current
    price is about `depth_usd`, and waits.

    @param provider the liquidity provider (an account the node signs for); it keeps the position
    @param position_manager the deployed NonfungiblePositionManager
    @param pool the risky asset's USD pool
    @param lower_usd8 / upper_usd8 the band's USD prices of the risky asset (8 decimals)
    @param depth_usd the position's value at the current price, USD"""
    w3 = provider.w3
    pool_contract = uniswap_contract(w3, "UniswapV3Pool", pool.address)
    spacing = int(pool_contract.functions.tickSpacing().call())
    tick_lower, tick_upper = usd_band_ticks(pool, lower_usd8, upper_usd8, spacing)
    sqrt_now = PoolPriceReader(w3, {pool.asset: pool}).slot0(pool.asset).sqrt_price_x96 / Q96
    sqrt_lower, sqrt_upper = 1.0001 ** (tick_lower / 2), 1.0001 ** (tick_upper / 2)
    s = min(max(sqrt_now, sqrt_lower), sqrt_upper)
    # Per unit of liquidity: amount0 = 1/s - 1/su, amount1 = s - sl (raw token units).
    per_l0, per_l1 = 1 / s - 1 / sqrt_upper, s - sqrt_lower
    risky_usd_per_unit = pool.price_usd8_down(int(sqrt_now * Q96)) / 1e8 / 10**pool.risky_decimals
    stable_usd_per_unit = 1 / 10**pool.stable_decimals
    usd0, usd1 = (
        (risky_usd_per_unit, stable_usd_per_unit)
        if pool.risky_is_token0
        else (stable_usd_per_unit, risky_usd_per_unit)
    )
    liquidity = depth_usd / (per_l0 * usd0 + per_l1 * usd1)
    # 1% over, as the deploy does: the manager takes what the exact liquidity needs.
    amount0, amount1 = int(liquidity * per_l0 * 1.01), int(liquidity * per_l1 * 1.01)
    token0, token1 = (
        (pool.risky_token, pool.stable_token)
        if pool.risky_is_token0
        else (pool.stable_token, pool.risky_token)
    )
    for token, amount in ((token0, amount0), (token1, amount1)):
        erc20 = contract(w3, "MockERC20", token)
        provider.transact(erc20.functions.mint(provider.address, amount), TOKEN_GAS)
        provider.transact(erc20.functions.approve(position_manager, amount), TOKEN_GAS)
    manager = uniswap_contract(w3, "NonfungiblePositionManager", position_manager)
    params = (
        token0,
        token1,
        pool.fee,
        tick_lower,
        tick_upper,
        amount0,
        amount1,
        0,
        0,
        provider.address,
        DEADLINE,
    )
    receipt = provider.transact(manager.functions.mint(params), MINT_GAS)
    [event] = manager.events.IncreaseLiquidity().process_receipt(receipt, errors=DISCARD)
    used0, used1 = int(event["args"]["amount0"]), int(event["args"]["amount1"])
    band = LiquidityBand(
        asset=pool.asset,
        token_id=int(event["args"]["tokenId"]),
        tick_lower=tick_lower,
        tick_upper=tick_upper,
        liquidity=int(event["args"]["liquidity"]),
        amount_risky=used0 if pool.risky_is_token0 else used1,
        amount_stable=used1 if pool.risky_is_token0 else used0,
    )
    log.info(
        "liquidity on %s/%s between $%.2f and $%.2f: %d %s units and %d %s units",
        pool.asset,
        pool.stable,
        lower_usd8 / 1e8,
        upper_usd8 / 1e8,
        band.amount_risky,
        pool.asset,
        band.amount_stable,
        pool.stable,
    )
    return band
