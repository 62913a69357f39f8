"""Liquidity along a crash's path: a band given in USD of the risky asset lands on the right ticks in
either token order, and with it a -45% crash leaves a pool a keeper can still sell into; without it,
past the deploy's +-2% band, only the deploy's full-range position is left, so the same sale still
fills but moves the price several times as far."""

from __future__ import annotations

import pytest

from scripts.market.arbitrageur import Arbitrageur
from scripts.market.liquidity import add_usd_band, usd_band_ticks
from scripts.market.pool_prices import PoolPriceReader, price_usd8_of_tick
from scripts.market.sell_pressure import SellPressure

LP_INDEX, ARB_INDEX, DUMPER_INDEX = 7, 8, 9
CRASH_BPS = 4_500
DUMP = {"WETH": 100 * 10**18, "WBTC": 3 * 10**8}
FUNDS = {"WETH": 100_000 * 10**18, "WBTC": 4_000 * 10**8}


@pytest.mark.parametrize("asset", ["WETH", "WBTC"])  # WETH is token1 of its pool, WBTC token0
def test_a_usd_band_covers_the_prices_asked_in_either_token_order(chain, asset):
    pool = chain.pool(asset)
    lower, upper = 800 * 10**8, 2_400 * 10**8
    tick_lower, tick_upper = usd_band_ticks(pool, lower, upper, 10)
    assert tick_lower % 10 == 0 and tick_upper % 10 == 0 and tick_lower < tick_upper
    prices = sorted(
        price_usd8_of_tick(t, pool.risky_is_token0, pool.risky_decimals, pool.stable_decimals)
        for t in (tick_lower, tick_upper)
    )
    assert prices[0] <= lower and prices[1] >= upper
    assert prices[0] > lower * 0.998 and prices[1] < upper * 1.002  # rounded out by one spacing at most
    with pytest.raises(ValueError):
        usd_band_ticks(pool, upper, lower, 10)


@pytest.mark.parametrize("asset", ["WETH", "WBTC"])
def test_with_a_band_down_to_the_trough_a_crashed_pool_still_takes_a_sale(market, asset):
    pool = market.pool(asset)
    manager = market.deployment.uniswap.position_manager
    start = PoolPriceReader(market.w3, {asset: pool}).mid_price_usd8(asset)
    trough = start * (10_000 - CRASH_BPS) // 10_000
    band = add_usd_band(market.account(LP_INDEX), manager, pool, start * 40 // 100, start * 120 // 100, 20e6)
    assert band.liquidity > 0 and band.amount_risky > 0 and band.amount_stable > 0
    arb = Arbitrageur.open(market.account(ARB_INDEX), market.router, pool, FUNDS[asset], 0)
    assert arb.trade(trough).reached_target

    dumper = SellPressure.open(market.account(DUMPER_INDEX), market.router, pool, DUMP[asset], DUMP[asset])
    sale = dumper.step()  # a keeper's sale of seized collateral, no floor

    assert not sale.reverted and sale.amount_in == DUMP[asset]
    assert trough * 0.99 < sale.price_after_usd8 < trough
    assert sale.amount_out > 0


def test_without_a_band_a_crashed_pool_meets_only_the_thin_full_range_liquidity(market):
    """Past the deploy's +-2% band only its full-range position takes the sale: it fills, and moves the
    price far more than the 0.6-0.7% it moves with a band down to the trough."""
    pool = market.pool("WETH")
    start = PoolPriceReader(market.w3, {"WETH": pool}).mid_price_usd8("WETH")
    trough = start * (10_000 - CRASH_BPS) // 10_000
    arb = Arbitrageur.open(market.account(ARB_INDEX), market.router, pool, FUNDS["WETH"], 0)
    assert arb.trade(trough).reached_target
    dumper = SellPressure.open(market.account(DUMPER_INDEX), market.router, pool, DUMP["WETH"], DUMP["WETH"])
    sale = dumper.step()
    assert not sale.reverted and sale.amount_in == DUMP["WETH"]
    assert sale.price_after_usd8 < trough * 0.98
