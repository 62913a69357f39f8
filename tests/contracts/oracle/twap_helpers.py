"""Reference maths of the TWAP feed in exact Python integers, and helpers that act on the real Uniswap V3
pools (deployed from the npm packages' artifacts by scripts/uniswap.py).

The square-root price of a tick is Uniswap's `TickMath.getSqrtRatioAtTick` algorithm, with its factor
table derived here from 1.0001 itself (round(2^128 * 1.0001^(-2^(i-1)))), not copied: a wrong constant in
the contract's table then shows as a mismatch."""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.uniswap import DEADLINE, MAX_UINT, uniswap_contract  # noqa: E402

MIN_TICK, MAX_TICK = -887272, 887272
Q96, Q128, Q192 = 2**96, 2**128, 2**192
PRICE_DECIMALS = 8


@cache
def factor_table() -> tuple[int, ...]:
    """The 20 factors 1.0001^(-2^i / 2) in Q128.128, rounded to nearest, from 120-digit arithmetic."""
    with localcontext() as ctx:
        ctx.prec = 120
        return tuple(
            int((Decimal(Q128) * Decimal("1.0001") ** (-Decimal(2**i) / 2)).to_integral_value(ROUND_HALF_UP))
            for i in range(20)
        )


def sqrt_price_x96_at_tick(tick: int) -> int:
    """Uniswap's getSqrtRatioAtTick in exact integers: the product truncated after each factor, a
    positive tick inverted as (2^256 - 1) // ratio, then Q128.128 -> Q64.96 rounded up."""
    assert MIN_TICK <= tick <= MAX_TICK
    table = factor_table()
    absolute = abs(tick)
    ratio = table[0] if absolute & 1 else Q128
    for bit in range(1, 20):
        if absolute >> bit & 1:
            ratio = ratio * table[bit] >> 128
    if tick > 0:
        ratio = MAX_UINT // ratio
    return (ratio >> 32) + (1 if ratio % 2**32 else 0)


def mean_tick_down(delta: int, seconds: int) -> int:
    """The mean tick rounded towards negative infinity (Python's // already floors)."""
    return delta // seconds


def scales(base_decimals: int, quote_decimals: int) -> tuple[int, int]:
    exponent = base_decimals + PRICE_DECIMALS - quote_decimals
    return (10**exponent, 1) if exponent >= 0 else (1, 10**-exponent)


def quote_down(sqrt_price: int, base_is_token0: bool, scale_up: int, scale_down: int) -> int:
    """floor(P * scale_up / scale_down), P the base's raw price in raw quote units: exact below
    sqrtPrice 2^128, through the squared price floored to Q128 above (Uniswap's getQuoteAtTick)."""
    if sqrt_price < Q128:
        ratio, one = sqrt_price * sqrt_price, Q192
    else:
        ratio, one = sqrt_price * sqrt_price // 2**64, Q128
    price = Fraction(ratio, one) if base_is_token0 else Fraction(one, ratio)
    return int(price * scale_up // scale_down)


def price_at_tick(tick: int, base_is_token0: bool, base_decimals: int, quote_decimals: int) -> int:
    """The feed's 8-decimal answer at a mean tick."""
    return quote_down(sqrt_price_x96_at_tick(tick), base_is_token0, *scales(base_decimals, quote_decimals))


def spot_price(sqrt_price: int, base_is_token0: bool, base_decimals: int, quote_decimals: int) -> Fraction:
    """The pool's spot price of the base in the quote, 8 decimals, exact (not rounded)."""
    raw = Fraction(sqrt_price * sqrt_price, Q192)
    if not base_is_token0:
        raw = 1 / raw
    return raw * 10 ** (base_decimals + PRICE_DECIMALS - quote_decimals)


# the real pools


def pool_contract(w3, address: str):
    return uniswap_contract(w3, "UniswapV3Pool", address)


def transact(w3, fn, sender: str) -> dict:
    """Sends a web3 contract call from an unlocked node account and waits for it (one block)."""
    tx_hash = fn.transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, f"{fn.fn_name} reverted"
    return receipt


def swap_to_price(w3, router: str, token_in, token_out, fee: int, sqrt_price_limit: int, sender) -> dict:
    """Sells `token_in` into the pool (exact input, more than enough) until its price reaches the limit:
    one transaction, one block. The router takes only what the swap to the limit used."""
    amount = 10**40
    token_in.mint(sender, amount, {"from": sender})
    token_in.approve(router, amount, {"from": sender})
    swap = uniswap_contract(w3, "SwapRouter", router).functions.exactInputSingle(
        (token_in.address, token_out.address, fee, sender.address, DEADLINE, amount, 0, sqrt_price_limit)
    )
    return transact(w3, swap, sender.address)
