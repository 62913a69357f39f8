"""Pool mid prices: sqrtPriceX96 <-> USD price (8 decimals) in either token order and for any decimals,
checked against float maths, the deploy's own pool initialisation, and the deployed pools' state."""

from __future__ import annotations

import math

import pytest

from scripts.market.pool_prices import (
    MAX_SQRT_RATIO,
    MIN_SQRT_RATIO,
    PoolPriceReader,
    price_usd8_down,
    price_usd8_of_tick,
    sqrt_price_x96_down,
    usd_pools,
)
from scripts.uniswap import sqrt_price_x96, tick_of_price, uniswap_contract

# (risky decimals, stable decimals, price USD 8 decimals): WETH/USDC, WBTC/USDC, WETH/DAI-like, and
# a risky token with fewer decimals than the stable.
CASES = [
    (18, 6, 2_000 * 10**8),
    (8, 6, 60_000 * 10**8),
    (18, 18, 1_234_56789012),
    (6, 18, 3 * 10**7),
]


def float_sqrt_price_x96(
    price_usd8: int, risky_is_token0: bool, risky_decimals: int, stable_decimals: int
) -> float:
    """Independent float maths: token1 raw units per token0 raw unit, square-rooted, times 2**96."""
    stable_per_risky_raw = price_usd8 / 1e8 * 10**stable_decimals / 10**risky_decimals
    ratio = stable_per_risky_raw if risky_is_token0 else 1 / stable_per_risky_raw
    return math.sqrt(ratio) * 2**96


@pytest.mark.parametrize("risky_is_token0", [True, False], ids=["risky-token0", "risky-token1"])
@pytest.mark.parametrize(("risky_decimals", "stable_decimals", "price"), CASES)
def test_price_and_sqrt_price_convert_both_ways_in_either_token_order(
    risky_is_token0, risky_decimals, stable_decimals, price
):
    sqrt_price = sqrt_price_x96_down(price, risky_is_token0, risky_decimals, stable_decimals)
    expected = float_sqrt_price_x96(price, risky_is_token0, risky_decimals, stable_decimals)
    assert math.isclose(sqrt_price, expected, rel_tol=1e-12)
    back = price_usd8_down(sqrt_price, risky_is_token0, risky_decimals, stable_decimals)
    assert abs(back - price) <= 1
    # And from a sqrtPrice that is not the image of a round price: the float formula, rounded down.
    odd = sqrt_price + sqrt_price // 1_000
    read = price_usd8_down(odd, risky_is_token0, risky_decimals, stable_decimals)
    ratio = (odd / 2**96) ** 2
    per_risky = ratio if risky_is_token0 else 1 / ratio
    exact = per_risky * 10**risky_decimals / 10**stable_decimals * 1e8
    assert exact - 1 - exact * 1e-12 <= read <= exact + exact * 1e-12


@pytest.mark.parametrize("risky_is_token0", [True, False], ids=["risky-token0", "risky-token1"])
def test_a_higher_usd_price_is_a_higher_sqrt_price_for_token0_and_a_lower_one_for_token1(risky_is_token0):
    low = sqrt_price_x96_down(1_900 * 10**8, risky_is_token0, 18, 6)
    high = sqrt_price_x96_down(2_100 * 10**8, risky_is_token0, 18, 6)
    assert (high > low) is risky_is_token0


@pytest.mark.parametrize(("risky_decimals", "stable_decimals", "price"), CASES)
def test_the_inverse_agrees_with_how_the_deploy_initialised_the_pools(risky_decimals, stable_decimals, price):
    one = 10**8
    as_token0 = sqrt_price_x96(price, risky_decimals, one, stable_decimals)
    as_token1 = sqrt_price_x96(one, stable_decimals, price, risky_decimals)
    assert sqrt_price_x96_down(price, True, risky_decimals, stable_decimals) == as_token0
    assert sqrt_price_x96_down(price, False, risky_decimals, stable_decimals) == as_token1


def test_a_limit_is_kept_strictly_inside_the_pools_bounds():
    # $0.00000001 for a token of 40 decimals against one of 0: far below the pool's smallest price.
    assert sqrt_price_x96_down(1, True, 40, 0) == MIN_SQRT_RATIO + 1
    # $1e92: above the largest price as token0, below the smallest as token1.
    assert sqrt_price_x96_down(10**100, True, 18, 6) == MAX_SQRT_RATIO - 1
    assert sqrt_price_x96_down(10**100, False, 18, 6) == MIN_SQRT_RATIO + 1
    assert MIN_SQRT_RATIO + 1 < sqrt_price_x96_down(1, True, 18, 6) < MAX_SQRT_RATIO - 1
    with pytest.raises(ValueError):
        sqrt_price_x96_down(0, True, 18, 6)
    with pytest.raises(ValueError):
        price_usd8_down(0, True, 18, 6)


@pytest.mark.parametrize("asset", ["WETH", "WBTC"])
def test_each_usd_pool_reads_the_oracle_price_in_its_own_token_order(chain, asset):
    """On the devnet WETH is token1 of WETH/USDC and WBTC token0 of WBTC/USDC (deploy addresses)."""
    pool = chain.pool(asset)
    on_chain_token0 = uniswap_contract(chain.w3, "UniswapV3Pool", pool.address).functions.token0().call()
    assert pool.risky_is_token0 is (on_chain_token0 == pool.risky_token)
    reader = PoolPriceReader(chain.w3, usd_pools(chain.deployment))
    slot0 = reader.slot0(asset)
    mid = reader.mid_price_usd8(asset)
    oracle = chain.oracle_price_usd8(asset)
    # The deploy initialised the pool at the oracle price (sqrt rounded down): within a unit.
    assert abs(mid - oracle) <= 1, (asset, mid, oracle)
    # The tick the pool computed from its sqrtPrice is the tick of the price read, in either order.
    raw = oracle / 1e8 * 10**pool.stable_decimals / 10**pool.risky_decimals
    assert abs(slot0.tick - tick_of_price(raw if pool.risky_is_token0 else 1 / raw)) <= 1
    assert math.isclose(pool.price_usd8_of_tick(slot0.tick), mid, rel_tol=1.0001e-4)
    assert pool.price_usd8_of_tick(slot0.tick) == price_usd8_of_tick(
        slot0.tick, pool.risky_is_token0, pool.risky_decimals, pool.stable_decimals
    )
    assert reader.mid_prices_usd8()[asset] == mid
