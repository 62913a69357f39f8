"""TickPriceLib: the square-root price of a tick is Uniswap's to the last bit (checked against exact
Python integers with a factor table derived from 1.0001, and against a real Uniswap V3 pool's own
`initialize`), the mean tick rounds towards negative infinity, and a price converts at full precision."""

from __future__ import annotations

import random
from decimal import Decimal, localcontext

import brownie
import pytest
from brownie import MockERC20, TickPriceLibHarness, accounts, web3
from twap_helpers import (
    MAX_TICK,
    MIN_TICK,
    Q96,
    Q128,
    factor_table,
    mean_tick_down,
    pool_contract,
    quote_down,
    sqrt_price_x96_at_tick,
    transact,
)

from scripts.deployer import Sender
from scripts.uniswap import artifact

#: Every bit of |tick| set at least once, both signs, the ends of the range, the branch of quoteDown.
TICKS = sorted(
    {0, 1, -1, 2, -2, 60, -60, 887271, -887271, MAX_TICK, MIN_TICK, 524287, -524287, 2**19, -(2**19),
     443636, 443637, -443636, 276324, -276324, 200_000, -200_000, 12345, -54321, 887272 - 7, 699_999}
    | {2**i for i in range(20)} | {-(2**i) for i in range(20)} | {2**i - 1 for i in range(1, 20)}
)


@pytest.fixture(scope="module")
def harness(deployer):
    return TickPriceLibHarness.deploy({"from": deployer})


def test_the_factor_table_is_uniswaps():
    """The table derived from 1.0001 is the one Uniswap publishes (first and last entries quoted)."""
    table = factor_table()
    assert table[0] == 0xFFFCB933BD6FAD37AA2D162D1A594001
    assert table[19] == 0x48A170391F7DC42444E8FA2


def test_the_sqrt_price_of_every_tick_tested_is_the_exact_reference(harness):
    contract = harness.sqrtPricesX96AtTicks(TICKS)
    assert list(contract) == [sqrt_price_x96_at_tick(t) for t in TICKS]


def test_the_sqrt_price_of_3000_seeded_random_ticks_is_the_exact_reference(harness):
    rng = random.Random(17)
    ticks = [rng.randint(MIN_TICK, MAX_TICK) for _ in range(3000)]
    for start in range(0, len(ticks), 1000):
        batch = ticks[start : start + 1000]
        assert list(harness.sqrtPricesX96AtTicks(batch)) == [sqrt_price_x96_at_tick(t) for t in batch]


def test_the_sqrt_price_is_within_the_truncation_error_of_the_true_square_root(harness):
    """Against sqrt(1.0001^tick) * 2^96 in 120-digit arithmetic. The Q128.128 ratio 1.0001^(-|tick|/2)
    loses less than one unit per truncated step (20 at most): within 2 units of the result for a negative
    tick; a positive tick inverts the ratio, so its relative error is up to 21 / ratio (about 2^-60 at
    the top of the range, where the ratio is near 2^64)."""
    with localcontext() as ctx:
        ctx.prec = 120
        for tick, got in zip(TICKS, harness.sqrtPricesX96AtTicks(TICKS), strict=True):
            exact = Decimal("1.0001") ** (Decimal(tick) / 2) * Q96
            ratio = Decimal("1.0001") ** (-Decimal(abs(tick)) / 2) * Q128
            tolerance = 2 + (exact * 21 / ratio if tick > 0 else 0)
            assert abs(Decimal(got) - exact) <= tolerance, tick


def test_the_ends_of_the_range_are_uniswaps_min_and_max_sqrt_ratio(harness):
    assert harness.sqrtPriceX96AtTick(MIN_TICK) == 4295128739
    assert harness.sqrtPriceX96AtTick(MAX_TICK) == 1461446703485210103287273052203988822378723970342


@pytest.mark.parametrize("tick", [MIN_TICK - 1, MAX_TICK + 1, -(2**23), 2**23 - 1])
def test_a_tick_outside_the_range_is_refused(harness, tick):
    with brownie.reverts(f"TickOutOfRange: {tick}"):
        harness.sqrtPriceX96AtTick(tick)


@pytest.fixture(scope="module")
def factory(deployer):
    """A bare UniswapV3Factory from the v3-core artifact, for pools that are only initialised."""
    sender = Sender(web3, address=accounts[8].address)
    return sender.deploy_artifact("UniswapV3Factory", artifact("UniswapV3Factory"))[0]


def test_a_real_pool_initialised_at_the_sqrt_price_of_a_tick_sits_at_that_tick(harness, factory, deployer):
    """Uniswap's own `initialize` computes the tick of a price (getTickAtSqrtRatio: the highest tick whose
    sqrt price is at most the price). At our sqrt price of tick t the pool says t, one unit below it t-1:
    so ours is exactly the pool's `getSqrtRatioAtTick(t)`."""
    tokens = [MockERC20.deploy(f"T{i}", f"T{i}", 18, {"from": deployer}) for i in range(4)]
    pairs = [(a, b, fee) for i, a in enumerate(tokens) for b in tokens[i + 1:] for fee in (500, 3000, 10000)]
    cases = [(MIN_TICK, 0)] + [
        (tick, offset)
        for tick in (-524287, -276324, -1, 1, 2**19, 443637, MAX_TICK - 1)
        for offset in (0, -1)
    ]
    assert len(cases) <= len(pairs)
    for (tick, offset), (a, b, fee) in zip(cases, pairs, strict=False):
        transact(web3, factory.functions.createPool(a.address, b.address, fee), deployer.address)
        pool = pool_contract(web3, factory.functions.getPool(a.address, b.address, fee).call())
        sqrt_price = harness.sqrtPriceX96AtTick(tick) + offset
        transact(web3, pool.functions.initialize(sqrt_price), deployer.address)
        assert pool.functions.slot0().call()[1] == tick + offset, (tick, offset)


@pytest.mark.parametrize(
    "delta, seconds",
    [(0, 1800), (1800 * 7, 1800), (1800 * 7 + 1, 1800), (-1800 * 7, 1800), (-1800 * 7 - 1, 1800),
     (-1, 300), (1, 300), (-887272 * 1800, 1800), (887272 * 1800 - 1, 1800)],
)
def test_the_mean_tick_rounds_towards_negative_infinity(harness, delta, seconds):
    assert harness.meanTickDown(delta, seconds) == mean_tick_down(delta, seconds)


@pytest.mark.parametrize("tick", [MIN_TICK, -276324, -1, 0, 1, 200_000, 443636, 443637, 600_000, MAX_TICK])
@pytest.mark.parametrize("base_is_token0", [True, False])
@pytest.mark.parametrize("scale", [(10**20, 1), (10**8, 1), (1, 10**10), (10**26, 1)])
def test_the_quote_is_the_exact_floor(harness, tick, base_is_token0, scale):
    sqrt_price = sqrt_price_x96_at_tick(tick)
    expected = quote_down(sqrt_price, base_is_token0, *scale)
    assert harness.quoteDown(sqrt_price, base_is_token0, *scale) == expected


def test_below_tick_443637_the_squared_sqrt_price_fits_256_bits():
    """The exact branch of quoteDown covers every tick below 443637 (the NatSpec's claim)."""
    assert sqrt_price_x96_at_tick(443636) < Q128 <= sqrt_price_x96_at_tick(443637)
