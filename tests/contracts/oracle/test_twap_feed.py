"""UniswapV3TwapFeed on real Uniswap V3 pools (deployed from the npm packages' artifacts), as the
PriceOracle's secondary feed of the lending pool: a steady pool is priced at its own price within a
tick, whichever token is token0 and whatever the decimals; a one-block 30% push of the spot price
barely moves the 30-minute average and liquidates nobody (the spot price would have); a primary 40%
off the market trips the breaker until they agree again; a too-short window or a pool without enough
observations is refused when the feed is configured."""

from __future__ import annotations

import math
from fractions import Fraction

import brownie
import pytest
from brownie import MockERC20, UniswapV3TwapFeed, accounts, chain, web3
from twap_helpers import (
    MAX_TICK,
    MIN_TICK,
    pool_contract,
    price_at_tick,
    spot_price,
    swap_to_price,
    transact,
)

from keeper.deployment import AssetInfo
from scripts.deployer import Sender
from scripts.twap import raise_cardinality, required_cardinality
from scripts.uniswap import PairPlan, UniswapDeployer, UniswapPlan, uniswap_contract

MAX_UINT = 2**256 - 1
WAD = 10**18
PRICE_MAX_AGE = 3600
WINDOW = 30 * 60  # the recommended window
BLOCK_TIME = 12  # Ethereum mainnet's slot
CARDINALITY = 151  # ceil(1800 / 12) + 1: a swap in every block still leaves 30 minutes of history
BOUND = 500  # the breaker's maxDeviationBps: 5%
LIQUIDITY = {"WETH": 100_000, "WBTC": 10_000, "USDC": 500_000_000, "DAI": 500_000_000}
#: Pools whose observation cardinality the set-up raises to CARDINALITY (base, quote, fee).
OBSERVED = (("WETH", "USDC", 500), ("WBTC", "USDC", 3000), ("WBTC", "DAI", 3000))
#: A pool left with Uniswap's default of one observation.
UNOBSERVED = ("WETH", "DAI", 3000)


@pytest.fixture(scope="module")
def market(protocol, supplier):
    for symbol, amount in LIQUIDITY.items():
        protocol.supply(supplier, symbol, protocol.units(symbol, amount))
    return protocol


@pytest.fixture(scope="module")
def uniswap(market):
    """The four pools at the oracle's prices, $10M each spread over +/-50% (so a 30% push trades through
    liquidity), three of them keeping CARDINALITY observations, then one window of history."""
    assets = {
        s: AssetInfo(s, t.address, t.decimals(), market.feeds[s].address, mock_token=True)
        for s, t in market.tokens.items()
    }
    prices = {s: market.oracle.getPrice(t) for s, t in market.tokens.items()}
    sender = Sender(web3, address=accounts[8].address)
    pairs = tuple(PairPlan(base, quote, fee) for base, quote, fee in (*OBSERVED, UNOBSERVED))
    plan = UniswapPlan(pairs=pairs, depth_usd=10_000_000, range_bps=5_000)
    info = UniswapDeployer(web3, sender, plan, assets, prices).deploy()
    for base, quote, fee in OBSERVED:
        raise_cardinality(web3, sender, info.pool(base, quote, fee).address, WINDOW, BLOCK_TIME)
    next_block(WINDOW + BLOCK_TIME)
    market.refresh_prices()
    return info


@pytest.fixture(scope="module")
def swapper():
    return accounts[6]


def next_block(seconds: int = BLOCK_TIME) -> None:
    chain.sleep(seconds)
    chain.mine()


def uniswap_pool(uniswap, base: str, quote: str, fee: int):
    return pool_contract(web3, uniswap.pool(base, quote, fee).address)


def new_feed(market, uniswap, base, quote, fee, window=WINDOW, block_time=BLOCK_TIME, pool=None):
    pool = pool or uniswap.pool(base, quote, fee).address
    return UniswapV3TwapFeed.deploy(
        pool, market.tokens[base], market.tokens[quote], window, block_time, {"from": market.deployer}
    )


def orientation(market, pool, base: str, quote: str) -> tuple[bool, int, int]:
    """(base is token0, base decimals, quote decimals)."""
    base_token, quote_token = market.tokens[base], market.tokens[quote]
    return (
        pool.functions.token0().call() == base_token.address,
        base_token.decimals(),
        quote_token.decimals(),
    )


def pool_spot(market, pool, base: str, quote: str) -> Fraction:
    """The pool's spot price of `base`, 8 decimals (quote at $1), exact."""
    return spot_price(pool.functions.slot0().call()[0], *orientation(market, pool, base, quote))


def answer_of(feed) -> int:
    return feed.latestRoundData()[1]


def borrower(market, user, weth: float, usdc_debt: int) -> None:
    market.supply(user, "WETH", market.units("WETH", weth))
    market.pool.setUsingAsCollateral(market.tokens["WETH"], True, {"from": user})
    market.borrow(user, "USDC", market.units("USDC", usdc_debt))


def deviation(market, primary: int, secondary: int) -> str:
    return f"PriceDeviation: {market.tokens['WETH'].address.lower()}, {primary}, {secondary}"


def deviation_pattern(market, primary: int) -> str:
    """A PriceDeviation of WETH at `primary`, whatever the TWAP in the block the transaction is mined in."""
    return rf"PriceDeviation: {market.tokens['WETH'].address.lower()}, {primary}, \d+"


def push_price(market, uniswap, swapper, factor: Fraction, base="WETH", quote="USDC", fee=500) -> None:
    """One swap (one block) that moves the pool's spot price of `base` to `factor` times what it is,
    selling `base` into the pool (factor < 1) or buying it (factor > 1)."""
    pool = uniswap_pool(uniswap, base, quote, fee)
    base_is_token0 = orientation(market, pool, base, quote)[0]
    sqrt_price = pool.functions.slot0().call()[0]
    # The pool's price is token1 per token0: the base's price times factor is that price times factor
    # (base token0) or divided by it (base token1).
    ratio = factor if base_is_token0 else 1 / factor
    limit = math.isqrt(sqrt_price * sqrt_price * ratio.numerator // ratio.denominator)
    base_token, quote_token = market.tokens[base], market.tokens[quote]
    token_in, token_out = (base_token, quote_token) if factor < 1 else (quote_token, base_token)
    swap_to_price(web3, uniswap.router, token_in, token_out, fee, limit, swapper)


def trade_in_the_window(market, uniswap, swapper) -> None:
    """Three small swaps a minute apart, back and forth: the window's start then falls between
    observations, so `observe` searches the pool's ring as it does in a traded pool."""
    for factor in (Fraction(1001, 1000), Fraction(1000, 1001), Fraction(1001, 1000)):
        push_price(market, uniswap, swapper, factor)
        next_block(60)


# 1 and 5: a steady pool, both token orders and decimals


@pytest.mark.parametrize("base, quote, fee", OBSERVED, ids=["WETH-USDC", "WBTC-USDC", "WBTC-DAI"])
def test_a_steady_pool_is_priced_at_its_own_price_within_a_tick(market, uniswap, base, quote, fee):
    """WETH/USDC (18/6 decimals), WBTC/USDC (8/6), WBTC/DAI (8/18): the 8-decimal answer is the price
    of the pool's tick (its mean over a window with no swap), the exact reference value, within one
    tick (0.01%) of the pool's spot price and of the oracle price the pool was created at."""
    feed = new_feed(market, uniswap, base, quote, fee)
    pool = uniswap_pool(uniswap, base, quote, fee)
    tick = pool.functions.slot0().call()[1]

    answer = answer_of(feed)

    assert feed.meanTick() == tick
    assert answer == feed.priceAtTick(tick) == price_at_tick(tick, *orientation(market, pool, base, quote))
    spot = pool_spot(market, pool, base, quote)
    assert abs(answer - spot) * 10_000 <= spot
    oracle_price = market.oracle.getPrice(market.tokens[base])
    assert abs(answer - oracle_price) * 10_000 <= oracle_price


def test_the_steady_pools_cover_both_token_orders(market, uniswap):
    """Rule 5 needs a pool whose priced token is token0 and one where it is token1."""
    orders = {
        orientation(market, uniswap_pool(uniswap, base, quote, fee), base, quote)[0]
        for base, quote, fee in OBSERVED
    }
    assert orders == {True, False}


@pytest.mark.parametrize("base, quote, fee", OBSERVED, ids=["WETH-USDC", "WBTC-USDC", "WBTC-DAI"])
def test_the_price_at_any_tick_is_the_exact_reference(market, uniswap, base, quote, fee):
    feed = new_feed(market, uniswap, base, quote, fee)
    pool = uniswap_pool(uniswap, base, quote, fee)
    for tick in (MIN_TICK, -400_000, -276_324, -69_082, -1, 0, 1, 69_082, 276_324, 443_637, MAX_TICK):
        assert feed.priceAtTick(tick) == price_at_tick(tick, *orientation(market, pool, base, quote)), tick


def test_the_feed_describes_itself(market, uniswap):
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    pool = uniswap.pool("WETH", "USDC", 500).address
    assert feed.decimals() == 8
    assert feed.version() == 1
    assert feed.description() == "WETH / USD (Uniswap V3 TWAP, USDC = $1)"
    assert (feed.pool(), feed.baseToken(), feed.quoteToken()) == (
        pool,
        market.tokens["WETH"].address,
        market.tokens["USDC"].address,
    )
    assert (feed.twapWindow(), feed.minBlockTime(), feed.MIN_TWAP_WINDOW()) == (WINDOW, BLOCK_TIME, 300)


def test_the_latest_round_is_the_window_ending_now(market, uniswap):
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    now = chain[-1].timestamp
    round_id, answer, started_at, updated_at, answered_in = feed.latestRoundData()
    assert (round_id, started_at, updated_at, answered_in) == (now, now - WINDOW, now, now)
    assert answer > 0


def test_a_past_round_is_the_window_that_ended_then(market, uniswap, swapper):
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    then = feed.latestRoundData()
    next_block()
    push_price(market, uniswap, swapper, Fraction(8, 10))
    next_block(600)

    assert answer_of(feed) < then[1]  # the average now includes 10 minutes at -20%
    assert tuple(feed.getRoundData(then[0])) == tuple(then)
    now = chain[-1].timestamp
    with brownie.reverts(f"RoundNotAvailable: {now + 1}"):
        feed.getRoundData(now + 1)
    with brownie.reverts("RoundNotAvailable: 0"):
        feed.getRoundData(0)


# 2: a one-block manipulation of the spot price


def test_a_one_block_30_percent_push_moves_the_twap_under_1_percent_and_liquidates_nobody(
    market, uniswap, swapper, alice, liquidator
):
    """WETH's spot price pushed 30% down in one swap and held for a block: the 30-minute TWAP moves by
    under 1% (12 s of 1800 at -30%), the breaker stays quiet, the borrower (HF 1.03) is not liquidatable.
    Priced at the pool's spot the same borrower would be (HF 0.72): that is what the guard stops, both
    as the cross-check of a primary that followed the spot and by never being the price itself."""
    weth, usdc = market.tokens["WETH"], market.tokens["USDC"]
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    market.oracle.setSecondaryFeed(weth, feed, PRICE_MAX_AGE, BOUND, {"from": market.deployer})
    borrower(market, alice, 10, 15_500)  # $16,000 weighted against $15,500: HF 1.032
    market.mint_and_approve(liquidator, "USDC", market.units("USDC", 100_000))
    pool = uniswap_pool(uniswap, "WETH", "USDC", 500)
    twap_before, spot_before = answer_of(feed), pool_spot(market, pool, "WETH", "USDC")

    push_price(market, uniswap, swapper, Fraction(7, 10))
    next_block()

    spot_after, twap_after = pool_spot(market, pool, "WETH", "USDC"), answer_of(feed)
    assert abs(spot_after / spot_before - Fraction(7, 10)) < Fraction(1, 1000)  # the spot fell 30%
    assert abs(twap_after - twap_before) * 100 < twap_before  # the TWAP moved less than 1%
    print(f"spot {float(spot_before) / 1e8:.2f} -> {float(spot_after) / 1e8:.2f}, "
          f"TWAP {twap_before / 1e8:.2f} -> {twap_after / 1e8:.2f} "
          f"({(twap_after - twap_before) * 1e4 / twap_before:.1f} bps)")
    assert market.oracle.isSecondaryFeedActive(weth)
    assert market.oracle.getPrice(weth) == 2000 * 10**8  # the breaker passes the primary
    assert market.health_factor(alice) > WAD
    with brownie.reverts(revert_pattern=r"HealthFactorNotBelowThreshold.*"):
        market.pool.previewLiquidation(weth, usdc, alice, MAX_UINT)
    with brownie.reverts(revert_pattern=r"HealthFactorNotBelowThreshold.*"):
        market.pool.liquidate(weth, usdc, alice, MAX_UINT, False, {"from": liquidator})

    # A primary that followed the manipulated spot is refused by the TWAP breaker...
    spot_primary = int(spot_after)
    market.set_price("WETH", spot_primary)
    with brownie.reverts(deviation(market, spot_primary, twap_after)):
        market.oracle.getPrice(weth)
    with brownie.reverts(revert_pattern=deviation_pattern(market, spot_primary)):
        market.pool.liquidate(weth, usdc, alice, MAX_UINT, False, {"from": liquidator})
    # ...and without the breaker the spot price liquidates the borrower.
    market.oracle.setSecondaryFeed(weth, brownie.ZERO_ADDRESS, 0, 0, {"from": market.deployer})
    assert market.health_factor(alice) < WAD
    preview = market.pool.previewLiquidation(weth, usdc, alice, MAX_UINT)
    assert preview[0] < WAD and preview[3] > 0


# 3: a primary far from the market


def test_a_primary_40_percent_below_the_market_trips_the_breaker_until_they_agree_again(
    market, uniswap, alice, liquidator
):
    weth, usdc, wbtc = market.tokens["WETH"], market.tokens["USDC"], market.tokens["WBTC"]
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    market.oracle.setSecondaryFeed(weth, feed, PRICE_MAX_AGE, BOUND, {"from": market.deployer})
    borrower(market, alice, 10, 15_900)  # HF 1.006 at $2,000
    market.mint_and_approve(liquidator, "USDC", market.units("USDC", 100_000))
    twap = answer_of(feed)

    market.set_price("WETH", 1_200 * 10**8)  # 40% below the market: HF 0.60 if believed

    with brownie.reverts(deviation(market, 1_200 * 10**8, twap)):
        market.oracle.getPrice(weth)
    with brownie.reverts(deviation(market, 1_200 * 10**8, twap)):
        market.pool.previewLiquidation(weth, usdc, alice, MAX_UINT)
    with brownie.reverts(revert_pattern=deviation_pattern(market, 1_200 * 10**8)):
        market.pool.liquidate(weth, usdc, alice, MAX_UINT, False, {"from": liquidator})
    next_block()
    with brownie.reverts(revert_pattern=deviation_pattern(market, 1_200 * 10**8)):  # a block later
        market.pool.liquidate(weth, usdc, alice, MAX_UINT, False, {"from": liquidator})
    assert market.oracle.getPrice(wbtc) == 60_000 * 10**8  # other assets are priced as before

    market.set_price("WETH", 1_960 * 10**8)  # 2% below the TWAP: the two agree, HF 0.986

    assert market.oracle.getPrice(weth) == 1_960 * 10**8
    tx = market.pool.liquidate(weth, usdc, alice, MAX_UINT, False, {"from": liquidator})
    assert tx.events["LiquidationCall"]["user"] == alice
    assert market.health_factor(alice) >= WAD


def test_a_primary_40_percent_above_the_market_trips_the_breaker(market, uniswap, alice):
    weth = market.tokens["WETH"]
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    market.oracle.setSecondaryFeed(weth, feed, PRICE_MAX_AGE, BOUND, {"from": market.deployer})
    twap = answer_of(feed)
    market.set_price("WETH", 2_800 * 10**8)
    with brownie.reverts(deviation(market, 2_800 * 10**8, twap)):
        market.oracle.getPrice(weth)
    market.set_price("WETH", 2_000 * 10**8)
    assert market.oracle.getPrice(weth) == 2_000 * 10**8


# 4: configuration


def test_a_window_shorter_than_5_minutes_is_refused(market, uniswap):
    with brownie.reverts("WindowTooShort: 299, 300"):
        new_feed(market, uniswap, "WETH", "USDC", 500, window=299)
    assert new_feed(market, uniswap, "WETH", "USDC", 500, window=300).twapWindow() == 300


def test_a_zero_block_time_is_refused(market, uniswap):
    with brownie.reverts("InvalidBlockTime: "):
        new_feed(market, uniswap, "WETH", "USDC", 500, block_time=0)


def test_a_pool_keeping_too_few_observations_for_the_window_is_refused(market, uniswap, deployer):
    """The WETH/DAI pool keeps one observation: 30 minutes of 12-second blocks need 151."""
    pool = uniswap_pool(uniswap, *UNOBSERVED)
    with brownie.reverts(f"CardinalityTooLow: {pool.address.lower()}, 1, {CARDINALITY}"):
        new_feed(market, uniswap, *UNOBSERVED)
    transact(web3, pool.functions.increaseObservationCardinalityNext(CARDINALITY - 1), deployer.address)
    with brownie.reverts(f"CardinalityTooLow: {pool.address.lower()}, {CARDINALITY - 1}, {CARDINALITY}"):
        new_feed(market, uniswap, *UNOBSERVED)
    transact(web3, pool.functions.increaseObservationCardinalityNext(CARDINALITY), deployer.address)
    assert new_feed(market, uniswap, *UNOBSERVED).meanTick() == pool.functions.slot0().call()[1]


def test_the_set_up_raises_the_cardinality_a_fast_chain_needs_in_steps_that_fit_a_block(market, uniswap):
    """2-second blocks: 30 minutes need 901 observations, about 20M gas, sent in three transactions."""
    pool = uniswap_pool(uniswap, *UNOBSERVED)
    assert required_cardinality(WINDOW, BLOCK_TIME) == CARDINALITY
    sender = Sender(web3, address=accounts[8].address)
    first_block = web3.eth.block_number

    assert raise_cardinality(web3, sender, pool.address, WINDOW, 2) == 901

    assert pool.functions.slot0().call()[4] == 901
    assert web3.eth.block_number - first_block == 3
    assert new_feed(market, uniswap, *UNOBSERVED, block_time=2).minBlockTime() == 2
    assert raise_cardinality(web3, sender, pool.address, WINDOW, 2) == 901  # nothing more to send
    assert web3.eth.block_number - first_block == 4  # the feed's deployment only


def test_a_pool_whose_history_does_not_reach_a_window_back_is_refused(market, uniswap, deployer):
    """A pool created now, with room for enough observations, has none older than now: Uniswap's `OLD`
    becomes WindowNotCovered, until one window has passed."""
    factory = uniswap_contract(web3, "UniswapV3Factory", uniswap.factory)
    weth, dai = market.tokens["WETH"], market.tokens["DAI"]
    transact(web3, factory.functions.createPool(weth.address, dai.address, 500), deployer.address)
    address = factory.functions.getPool(weth.address, dai.address, 500).call()
    pool = pool_contract(web3, address)
    transact(web3, pool.functions.initialize(2**96), deployer.address)
    transact(web3, pool.functions.increaseObservationCardinalityNext(CARDINALITY), deployer.address)
    next_block(WINDOW - 60)

    with brownie.reverts(f"WindowNotCovered: {address.lower()}, {WINDOW}"):
        new_feed(market, uniswap, "WETH", "DAI", 500, pool=address)
    next_block(60)
    assert new_feed(market, uniswap, "WETH", "DAI", 500, pool=address).twapWindow() == WINDOW


def test_tokens_that_are_not_the_pools_are_refused(market, uniswap):
    pool = uniswap.pool("WETH", "USDC", 500).address
    weth, usdc, wbtc = market.tokens["WETH"], market.tokens["USDC"], market.tokens["WBTC"]
    for base, quote in ((wbtc, usdc), (weth, wbtc), (weth, weth), (usdc, usdc)):
        message = f"TokensNotInPool: {pool.lower()}, {base.address.lower()}, {quote.address.lower()}"
        with brownie.reverts(message):
            UniswapV3TwapFeed.deploy(pool, base, quote, WINDOW, BLOCK_TIME, {"from": market.deployer})


def test_a_token_of_more_than_18_decimals_is_refused(market, uniswap, deployer):
    factory = uniswap_contract(web3, "UniswapV3Factory", uniswap.factory)
    odd = MockERC20.deploy("Odd", "ODD", 19, {"from": deployer})
    usdc = market.tokens["USDC"]
    transact(web3, factory.functions.createPool(odd.address, usdc.address, 500), deployer.address)
    address = factory.functions.getPool(odd.address, usdc.address, 500).call()
    with brownie.reverts(f"UnsupportedTokenDecimals: {odd.address.lower()}, 19"):
        UniswapV3TwapFeed.deploy(address, odd, usdc, WINDOW, BLOCK_TIME, {"from": deployer})


# a pool whose history runs short after configuration


def test_history_overwritten_too_fast_gives_an_incomplete_round_and_the_breaker_is_skipped(
    market, uniswap, swapper, deployer
):
    """A feed configured with an untrue block time (300 s: two observations for a 5-minute window) on a
    pool swapped in two blocks 12 s apart: the window is no longer covered, the round is incomplete
    (not a revert), the oracle skips the secondary (a 40%-off primary passes, isSecondaryFeedActive
    false) and the feed comes back once the pool's history covers the window again."""
    weth = market.tokens["WETH"]
    pool = uniswap_pool(uniswap, *UNOBSERVED)
    transact(web3, pool.functions.increaseObservationCardinalityNext(2), deployer.address)
    feed = new_feed(market, uniswap, *UNOBSERVED, window=300, block_time=300)
    market.oracle.setSecondaryFeed(weth, feed, PRICE_MAX_AGE, BOUND, {"from": market.deployer})
    assert market.oracle.isSecondaryFeedActive(weth)
    for _ in range(2):  # two observations 12 s apart now fill the ring
        push_price(market, uniswap, swapper, Fraction(1001, 1000), *UNOBSERVED)
        next_block()
    now = chain[-1].timestamp

    assert tuple(feed.latestRoundData()) == (now, 0, 0, 0, now)
    with brownie.reverts(f"WindowNotCovered: {pool.address.lower()}, 300"):
        feed.meanTick()
    assert not market.oracle.isSecondaryFeedActive(weth)
    market.set_price("WETH", 1_200 * 10**8)
    assert market.oracle.getPrice(weth) == 1_200 * 10**8

    next_block(300)
    assert market.oracle.isSecondaryFeedActive(weth)
    with brownie.reverts(revert_pattern=r"PriceDeviation.*"):
        market.oracle.getPrice(weth)


def test_no_gas_limit_turns_the_latest_round_into_an_incomplete_one(market, uniswap, swapper):
    """Only Uniswap's `OLD` makes an incomplete round. Any other failure of `observe`, an out-of-gas
    included, reverts: a caller cannot choose a gas limit that switches the breaker off."""
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    trade_in_the_window(market, uniswap, swapper)
    call = {"to": feed.address, "data": feed.latestRoundData.encode_input()}
    needed = web3.eth.estimate_gas(call)
    outcomes = set()
    for gas in range(22_000, needed + 2_000, 500):
        answer = web3.provider.make_request("eth_call", [{**call, "gas": hex(gas)}, "latest"])
        if "error" in answer:
            outcomes.add("revert")
            continue
        updated_at = int(answer["result"][2 + 64 * 3 : 2 + 64 * 4], 16)
        outcomes.add("complete" if updated_at else "incomplete")
    assert outcomes == {"revert", "complete"}


# gas


def test_gas_of_the_latest_round_and_of_a_price_checked_against_it(market, uniswap, swapper):
    weth = market.tokens["WETH"]
    feed = new_feed(market, uniswap, "WETH", "USDC", 500)
    trade_in_the_window(market, uniswap, swapper)
    market.refresh_prices()
    round_gas = feed.latestRoundData.estimate_gas()
    price_gas = market.oracle.getPrice.estimate_gas(weth)
    market.oracle.setSecondaryFeed(weth, feed, PRICE_MAX_AGE, BOUND, {"from": market.deployer})
    checked_gas = market.oracle.getPrice.estimate_gas(weth)
    print(f"latestRoundData gas {round_gas} (incl. 21000 intrinsic), getPrice alone {price_gas}, "
          f"getPrice with the TWAP secondary {checked_gas}")
    assert checked_gas > price_gas
