"""The TWAP guard installed on a deployment (`scripts.twap.install_twap_guard`): a 5-minute TWAP of the
WETH/USDC and WBTC/USDC pools becomes the oracle's secondary feed of WETH and WBTC. Once installed the
oracle still prices both at their primary; a primary 40% off the pool trips the breaker; a one-block 30%
push of the pool's spot barely moves the TWAP and trips nothing, while a primary that followed the
manipulated spot is refused. The clock moves only as far as the window needs, and no trade moves a pool
to get there. A guard the deployment cannot take is refused with one sentence before any transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from web3.exceptions import ContractCustomError

from bench.observer import Observer
from keeper.contracts import decode_revert
from keeper.deployment import PoolInfo
from scripts.deployer import Sender, contract
from scripts.market.pool_prices import PoolPriceReader, UsdPool
from scripts.market.swaps import PoolSwapper
from scripts.twap import (
    DEFAULT_GUARDED,
    GuardedPool,
    TwapGuardError,
    history_covers,
    history_missing_seconds,
    install_twap_guard,
    required_cardinality,
)
from scripts.uniswap import sqrt_price_x96, uniswap_contract

WINDOW = 300
BLOCK_TIME = 2
BOUND_BPS = 2_000
MAX_AGE = 600
SWAPPER_INDEX = 5
USD8 = 10**8


@dataclass(frozen=True)
class Guard:
    """What the module's installation did: the chain, the feeds, and the chain's clock and pools before
    and after it."""

    chain: Any  # the conftest's MarketChain
    feeds: dict[str, str]
    time_before: int
    time_after: int
    slot0_before: dict[str, tuple]


def slot0s(chain) -> dict[str, tuple]:
    return {
        spec.asset: tuple(
            uniswap_contract(chain.w3, "UniswapV3Pool", pool_address(chain, spec)).functions.slot0().call()
        )
        for spec in DEFAULT_GUARDED
    }


def pool_address(chain, spec: GuardedPool) -> str:
    pool = chain.deployment.uniswap.pool(spec.asset, spec.quote, spec.fee)
    assert pool is not None
    return pool.address


def latest_time(chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


@pytest.fixture(scope="module")
def guard(chain) -> Guard:
    """The guard installed once on the module's fresh deployment (the oracle's owner sends)."""
    time_before, slot0_before = latest_time(chain), slot0s(chain)
    owner = Sender(chain.w3, address=chain.w3.eth.accounts[0])
    feeds = install_twap_guard(
        chain.w3,
        owner,
        chain.deployment,
        window=WINDOW,
        block_time=BLOCK_TIME,
        max_deviation_bps=BOUND_BPS,
        max_age=MAX_AGE,
    )
    return Guard(chain, feeds, time_before, latest_time(chain), slot0_before)


@pytest.fixture
def guarded(guard, market) -> Guard:
    """The guarded chain, put back as it was after the test (by `market`)."""
    return guard


def oracle(chain):
    return contract(chain.w3, "PriceOracle", chain.deployment.oracle)


def asset(chain, symbol: str) -> str:
    return chain.deployment.asset_by_symbol(symbol).address


def get_price(chain, symbol: str) -> int:
    return int(oracle(chain).functions.getPrice(asset(chain, symbol)).call())


def price_revert(chain, symbol: str) -> str:
    """The decoded revert of `getPrice(symbol)`; fails the test if it answers."""
    with pytest.raises(ContractCustomError) as raised:
        oracle(chain).functions.getPrice(asset(chain, symbol)).call()
    return decode_revert(raised.value.data)


def deviation(chain, symbol: str, primary: int, secondary: int) -> str:
    """The oracle's `PriceDeviation` revert, decoded."""
    return f"PriceDeviation('{asset(chain, symbol).lower()}', {primary}, {secondary})"


def twap(chain, guard: Guard, symbol: str) -> int:
    return int(
        contract(chain.w3, "UniswapV3TwapFeed", guard.feeds[symbol]).functions.latestRoundData().call()[1]
    )


def set_primary(chain, symbol: str, price_usd8: int) -> None:
    chain.account(0).transact(chain.feed(symbol).functions.setPrice(price_usd8))


def next_block(chain, seconds: int = BLOCK_TIME) -> None:
    chain.advance_time(seconds)


def push_spot(chain, symbol: str, factor_bps: int) -> int:
    """One swap through the SwapRouter that moves the pool's spot price of `symbol` to `factor_bps` of
    what it is (selling it into the pool when below 10,000); the spot after, USD with 8 decimals."""
    pool = UsdPool.of(chain.deployment, symbol, "USDC")
    reader = PoolPriceReader(chain.w3, {symbol: pool})
    target = reader.mid_price_usd8(symbol) * factor_bps // 10_000
    swapper = PoolSwapper(chain.account(SWAPPER_INDEX), chain.router, pool)
    sell = factor_bps < 10_000
    amount = 10**9 * 10 ** (pool.risky_decimals if sell else pool.stable_decimals)
    swapper.mint_mock({swapper.token_of(sell)[0]: amount})
    swapper.approve_router()
    fill = swapper.fill(swapper.send_exact_input(sell, amount, pool.sqrt_price_x96_down(target)))
    assert not fill.reverted
    return reader.mid_price_usd8(symbol)


# installed


def test_each_risky_asset_gets_its_pools_twap_as_the_oracles_secondary_feed(guarded):
    chain, feeds = guarded.chain, guarded.feeds
    assert set(feeds) == {"WETH", "WBTC"}
    for spec in DEFAULT_GUARDED:
        feed = contract(chain.w3, "UniswapV3TwapFeed", feeds[spec.asset])
        assert feed.functions.pool().call() == pool_address(chain, spec)
        assert feed.functions.baseToken().call() == asset(chain, spec.asset)
        assert feed.functions.quoteToken().call() == asset(chain, "USDC")
        assert (feed.functions.twapWindow().call(), feed.functions.minBlockTime().call()) == (
            WINDOW,
            BLOCK_TIME,
        )
        configured = oracle(chain).functions.getSecondaryFeed(asset(chain, spec.asset)).call()
        assert tuple(configured) == (feeds[spec.asset], MAX_AGE, BOUND_BPS)
        slot0 = (
            uniswap_contract(chain.w3, "UniswapV3Pool", pool_address(chain, spec)).functions.slot0().call()
        )
        assert slot0[4] >= required_cardinality(WINDOW, BLOCK_TIME) == 151


def test_after_installation_the_oracle_still_prices_the_guarded_assets_at_their_primary(guarded):
    chain = guarded.chain
    for symbol in ("WETH", "WBTC"):
        assert oracle(chain).functions.isSecondaryFeedActive(asset(chain, symbol)).call()
        assert get_price(chain, symbol) == int(chain.feed(symbol).functions.latestAnswer().call())
        # The pool was created at the oracle's price: its TWAP agrees within a tick (0.01%).
        assert abs(twap(chain, guarded, symbol) - get_price(chain, symbol)) * 10_000 <= get_price(
            chain, symbol
        )
    assert not oracle(chain).functions.isSecondaryFeedActive(asset(chain, "USDC")).call()


def test_the_clock_moves_only_as_far_as_the_window_needs_and_no_trade_moves_a_pool(guarded):
    chain = guarded.chain
    for spec in DEFAULT_GUARDED:
        assert history_missing_seconds(chain.w3, pool_address(chain, spec), WINDOW) == 0
        assert history_covers(chain.w3, pool_address(chain, spec), WINDOW)
    # The pools' oldest observations are from their creation, seconds before the installation.
    assert WINDOW - 30 <= guarded.time_after - guarded.time_before <= WINDOW + 5
    for symbol, before in guarded.slot0_before.items():
        after = slot0s(chain)[symbol]
        assert after[:2] == before[:2], "price and tick unchanged: no swap was needed"


# the breaker


@pytest.mark.parametrize("factor_bps", [6_000, 14_000], ids=["40% below", "40% above"])
@pytest.mark.parametrize("symbol", ["WETH", "WBTC"])
def test_a_primary_40_percent_off_the_pool_trips_the_breaker(guarded, symbol, factor_bps):
    chain = guarded.chain
    market_price = get_price(chain, symbol)
    primary = market_price * factor_bps // 10_000
    set_primary(chain, symbol, primary)

    reason = price_revert(chain, symbol)

    assert reason == deviation(chain, symbol, primary, twap(chain, guarded, symbol))
    assert oracle(chain).functions.isSecondaryFeedActive(asset(chain, symbol)).call()
    set_primary(chain, symbol, market_price)  # they agree again
    assert get_price(chain, symbol) == market_price


def test_a_one_block_30_percent_spot_push_barely_moves_the_twap_and_trips_nothing(guarded):
    """WETH's spot pushed 30% down through the SwapRouter and held for one 2-second block: 2 s of 300 at
    -30% move the TWAP by about ln(0.7) * 2 / 300 = -0.24%, far inside the 20% bound; the oracle
    answers the primary as before. A primary that had followed the manipulated spot is refused."""
    chain = guarded.chain
    primary = get_price(chain, "WETH")
    twap_before = twap(chain, guarded, "WETH")

    spot = push_spot(chain, "WETH", 7_000)
    next_block(chain)

    assert abs(spot * 10_000 - primary * 7_000) <= primary  # the spot is 30% down, within 0.01%
    twap_after = twap(chain, guarded, "WETH")
    assert 0 < (twap_before - twap_after) * 10_000 < 50 * twap_before  # down, by less than 0.5%
    assert get_price(chain, "WETH") == primary
    assert oracle(chain).functions.isSecondaryFeedActive(asset(chain, "WETH")).call()
    set_primary(chain, "WETH", spot)
    assert price_revert(chain, "WETH") == deviation(chain, "WETH", spot, twap(chain, guarded, "WETH"))


def test_the_observer_values_an_asset_the_breaker_holds_at_its_primary(guarded, tmp_path):
    """After a block in which the breaker holds WETH, `getPrice` reverts; the observer (which values
    every liquidation and the insurance fund at each block's oracle price) takes the primary's answer,
    the price `getPrice` gives whenever it answers, and the oracle's own price elsewhere."""
    chain = guarded.chain
    deployment = chain.deployment.write(tmp_path)
    weth, wbtc = asset(chain, "WETH"), asset(chain, "WBTC")
    answering = chain.w3.eth.block_number
    set_primary(chain, "WETH", 1_200 * USD8)
    held = chain.w3.eth.block_number
    assert price_revert(chain, "WETH").startswith("PriceDeviation(")

    prices = Observer(chain.w3.provider.endpoint_uri, deployment.path).prices([weth, wbtc], [answering, held])

    assert prices == {
        (weth, answering): 2_000 * USD8,
        (weth, held): 1_200 * USD8,
        (wbtc, answering): 60_000 * USD8,
        (wbtc, held): 60_000 * USD8,
    }


# refused


def test_a_missing_pool_is_refused_before_any_transaction(market):
    without_weth_usdc = replace(
        market.deployment.uniswap,
        pools=tuple(p for p in market.deployment.uniswap.pools if {p.token0, p.token1} != {"WETH", "USDC"}),
    )
    deployment = replace(market.deployment, uniswap=without_weth_usdc)
    block = market.w3.eth.block_number

    with pytest.raises(TwapGuardError, match=r"^the deployment has no WETH/USDC 0.05% Uniswap pool"):
        install(market, deployment)
    with pytest.raises(TwapGuardError, match=r"^the deployment has no Uniswap pools"):
        install(market, replace(market.deployment, uniswap=None))
    with pytest.raises(TwapGuardError, match=r"^the deployment has no WETH/DAI 0.05% Uniswap pool"):
        install(market, market.deployment, guarded=[GuardedPool("WETH", "DAI", 500)])
    with pytest.raises(TwapGuardError, match=r"^LINK is not an asset of the deployment"):
        install(market, market.deployment, guarded=[GuardedPool("LINK", "USDC")])
    assert market.w3.eth.block_number == block


def test_a_pool_without_code_a_stranger_or_a_short_window_is_refused_before_any_transaction(market):
    block = market.w3.eth.block_number
    fake = PoolInfo("WETH", "USDC", 500, "0x" + "12" * 20)
    deployment = replace(market.deployment, uniswap=replace(market.deployment.uniswap, pools=(fake,)))
    with pytest.raises(TwapGuardError, match=r"WETH/USDC 0.05% pool 0x1212.* has no code on chain"):
        install(market, deployment, guarded=[GuardedPool("WETH", "USDC", 500)])
    with pytest.raises(TwapGuardError, match=r"^the oracle .* is owned by .*, not by the sender"):
        install(market, market.deployment, sender=Sender(market.w3, address=market.w3.eth.accounts[3]))
    with pytest.raises(TwapGuardError, match=r"window of 299 s is shorter than the feed's minimum of 300 s"):
        install(market, market.deployment, window=299)
    with pytest.raises(TwapGuardError, match=r"max_deviation_bps 10000"):
        install(market, market.deployment, max_deviation_bps=10_000)
    assert market.w3.eth.block_number == block


def test_a_primary_already_off_its_twap_is_refused_before_the_breaker_is_set(guarded):
    chain, feeds = guarded.chain, guarded.feeds
    set_primary(chain, "WETH", get_price(chain, "WETH") * 7_000 // 10_000)

    with pytest.raises(
        TwapGuardError, match=r"^WETH's oracle price 1400.00 and its WETH/USDC 0.05% TWAP 2000"
    ):
        install(chain, chain.deployment, guarded=[GuardedPool("WETH", "USDC", 500)])

    configured = oracle(chain).functions.getSecondaryFeed(asset(chain, "WETH")).call()
    assert configured[0] == feeds["WETH"], "the breaker in place is the one installed before"


def test_a_new_pool_gets_exactly_its_missing_history_and_a_live_network_is_told_how_long_to_wait(market):
    """A WETH/USDC 0.3% pool created now has one observation, from its initialisation: without moving
    the clock the installation says how long to wait; with it, the clock moves that far and no more."""
    pool = create_pool(market, "WETH", "USDC", 3000, 2_000 * USD8)
    deployment = replace(
        market.deployment,
        uniswap=replace(market.deployment.uniswap, pools=(*market.deployment.uniswap.pools, pool)),
    )
    spec = GuardedPool("WETH", "USDC", 3000)
    missing = history_missing_seconds(market.w3, pool.address, WINDOW)
    assert WINDOW - 10 <= missing <= WINDOW

    with pytest.raises(
        TwapGuardError, match=r"^the pools' history does not reach 300 s back yet: wait \d+ s$"
    ):
        install(market, deployment, guarded=[spec], advance_clock=False)
    assert not history_covers(market.w3, pool.address, WINDOW)

    before = latest_time(market)
    missing = history_missing_seconds(market.w3, pool.address, WINDOW)
    feeds = install(market, deployment, guarded=[spec])

    assert history_missing_seconds(market.w3, pool.address, WINDOW) == 0
    assert missing <= latest_time(market) - before <= missing + 5
    assert contract(market.w3, "UniswapV3TwapFeed", feeds["WETH"]).functions.pool().call() == pool.address
    assert get_price(market, "WETH") == 2_000 * USD8


# helpers


def install(chain, deployment, sender: Sender | None = None, **overrides) -> dict[str, str]:
    arguments = {
        "window": WINDOW,
        "block_time": BLOCK_TIME,
        "max_deviation_bps": BOUND_BPS,
        "max_age": MAX_AGE,
        **overrides,
    }
    owner = sender or Sender(chain.w3, address=chain.w3.eth.accounts[0])
    return install_twap_guard(chain.w3, owner, deployment, **arguments)


def create_pool(chain, symbol_a: str, symbol_b: str, fee: int, price_a_usd8: int) -> PoolInfo:
    """A new pool of the deployment's factory, initialised at `price_a_usd8` (`symbol_b` at $1)."""
    a, b = chain.deployment.asset_by_symbol(symbol_a), chain.deployment.asset_by_symbol(symbol_b)
    (t0, p0), (t1, p1) = sorted(((a, price_a_usd8), (b, USD8)), key=lambda x: int(x[0].address, 16))
    factory = uniswap_contract(chain.w3, "UniswapV3Factory", chain.deployment.uniswap.factory)
    owner = chain.account(0)
    owner.transact(factory.functions.createPool(t0.address, t1.address, fee), 6_000_000)
    address = factory.functions.getPool(t0.address, t1.address, fee).call()
    pool = uniswap_contract(chain.w3, "UniswapV3Pool", address)
    owner.transact(pool.functions.initialize(sqrt_price_x96(p0, t0.decimals, p1, t1.decimals)), 200_000)
    return PoolInfo(t0.symbol, t1.symbol, fee, address)
