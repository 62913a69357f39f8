"""The arbitrageur and the sell pressure on the real Uniswap V3 pools: a funded arbitrageur brings a pool
to the target within a tick in both directions and spends only what that takes; a poorly funded one
stops short, spends at most its capital and then sends nothing; a seller sells its step until its
funding runs out, or to its floor."""

from __future__ import annotations

import pytest

from scripts.market.arbitrageur import Arbitrageur, ArbSkip
from scripts.market.pool_prices import PoolPriceReader
from scripts.market.sell_pressure import SellPressure
from scripts.uniswap import tick_of_price

ARB_INDEX, SMALL_ARB_INDEX, SELLER_INDEX = 3, 4, 5
#: Capital that moves a $20M pool 1.5% with room to spare (units of each token).
FUNDED = {"WETH": (10_000 * 10**18, 20_000_000 * 10**6), "WBTC": (400 * 10**8, 20_000_000 * 10**6)}


def open_arb(market, asset: str, risky: int, stable: int, index: int = ARB_INDEX, **kw) -> Arbitrageur:
    return Arbitrageur.open(market.account(index), market.router, market.pool(asset), risky, stable, **kw)


def tick_of_usd8(pool, price_usd8: int) -> float:
    raw = price_usd8 / 1e8 * 10**pool.stable_decimals / 10**pool.risky_decimals
    return tick_of_price(raw if pool.risky_is_token0 else 1 / raw)


@pytest.mark.parametrize("move_bps", [-150, 150], ids=["down", "up"])
@pytest.mark.parametrize("asset", ["WETH", "WBTC"])  # WETH is token1 of its pool, WBTC token0
def test_a_funded_arbitrageur_brings_the_pool_to_the_target_within_a_tick(market, asset, move_bps):
    arb = open_arb(market, asset, *FUNDED[asset])
    pool = arb.pool
    before = arb.inventory()
    start = PoolPriceReader(market.w3, {asset: pool}).mid_price_usd8(asset)
    target = start * (10_000 + move_bps) // 10_000

    trade = arb.trade(target)

    assert trade.order.sell_risky is (move_bps < 0)
    assert trade.reached_target and not trade.capital_limited and not trade.reverted
    slot0 = PoolPriceReader(market.w3, {asset: pool}).slot0(asset)
    assert slot0.sqrt_price_x96 == trade.order.sqrt_price_limit_x96
    assert abs(slot0.tick - tick_of_usd8(pool, target)) <= 1
    assert abs(trade.price_after_usd8 - target) <= 1
    # It spent only what reaching the target took, and its balances moved by exactly the fill.
    assert 0 < trade.amount_in < trade.order.amount_in_max
    after = arb.inventory()
    assert before[trade.order.token_in] - after[trade.order.token_in] == trade.amount_in
    assert after[trade.order.token_out] - before[trade.order.token_out] == trade.amount_out
    # At the target, it has nothing to do.
    again = arb.send(target)
    assert again.skipped is ArbSkip.AT_TARGET and again.tx_hash is None


@pytest.mark.parametrize("move_bps", [-150, 150], ids=["down", "up"])
def test_a_poorly_funded_arbitrageur_stops_short_and_spends_at_most_its_capital(market, move_bps):
    weth, usdc = 5 * 10**18, 5_000 * 10**6  # about $10k and $5k against a $20M pool
    arb = open_arb(market, "WETH", weth, usdc, index=SMALL_ARB_INDEX)
    reader = PoolPriceReader(market.w3, {"WETH": arb.pool})
    start = reader.mid_price_usd8("WETH")
    target = start * (10_000 + move_bps) // 10_000

    trade = arb.trade(target)

    capital = arb.capital[trade.order.token_in]
    assert capital == (weth if move_bps < 0 else usdc)
    assert trade.amount_in == trade.order.amount_in_max == capital
    assert trade.capital_limited and not trade.reached_target
    assert arb.inventory()[trade.order.token_in] == 0
    low, high = sorted((start, target))
    assert low < trade.price_after_usd8 < high and trade.price_after_usd8 != start
    # Out of money on that side: it sends nothing, and the pool stays off the target.
    order = arb.send(target)
    assert order.skipped is ArbSkip.NO_CAPITAL and order.tx_hash is None
    assert arb.settle(order).amount_in == 0
    assert reader.mid_price_usd8("WETH") == trade.price_after_usd8


def test_a_gap_smaller_than_min_gap_bps_is_left_alone(market):
    arb = open_arb(market, "WETH", *FUNDED["WETH"], min_gap_bps=30)
    start = PoolPriceReader(market.w3, {"WETH": arb.pool}).mid_price_usd8("WETH")
    assert arb.send(start * 9_980 // 10_000).skipped is ArbSkip.AT_TARGET
    assert arb.send(start * 9_960 // 10_000).skipped is None


def test_sell_pressure_sells_its_step_until_its_funding_runs_out(market):
    pool = market.pool("WETH")
    seller = SellPressure.open(market.account(SELLER_INDEX), market.router, pool, 250 * 10**18, 100 * 10**18)
    sold, prices = [], [PoolPriceReader(market.w3, {"WETH": pool}).mid_price_usd8("WETH")]
    for _ in range(4):
        trade = seller.step()
        sold.append(trade.amount_in)
        prices.append(trade.price_after_usd8)
    assert sold == [100 * 10**18, 100 * 10**18, 50 * 10**18, 0]
    assert prices[0] > prices[1] > prices[2] > prices[3] == prices[4]
    assert seller.remaining() == 0
    assert market.balance(pool.risky_token, seller.address) == 0


def test_sell_pressure_stops_at_its_floor(market):
    pool = market.pool("WETH")
    start = PoolPriceReader(market.w3, {"WETH": pool}).mid_price_usd8("WETH")
    floor = start * 9_990 // 10_000
    seller = SellPressure.open(
        market.account(SELLER_INDEX), market.router, pool, 10_000 * 10**18, 10_000 * 10**18, floor_usd8=floor
    )
    trade = seller.step()
    assert 0 < trade.amount_in < 10_000 * 10**18
    assert abs(trade.price_after_usd8 - floor) <= 1
    assert seller.step().order.tx_hash is None
