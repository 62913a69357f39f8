// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

/// @title TickPriceLib
/// @notice Uniswap V3 ticks to prices: the square-root price of a tick, bit for bit as the pool computes it,
///         the mean tick of an observation interval, and a price in any decimal scale at full precision.
/// @dev Written for 0.8 (Uniswap's own `TickMath`/`FullMath` are pragma <0.8 and cannot be compiled here);
///      512-bit products go through OpenZeppelin's `Math.mulDiv`. Tick `t` means the price
///      1.0001^t token1 units per token0 unit (raw units, no decimals).
library TickPriceLib {
    /// @notice A tick outside Uniswap's range [-887272, 887272].
    error TickOutOfRange(int24 tick);

    /// @notice The lowest and highest ticks a Uniswap V3 pool can reach (1.0001^t within the range of a
    ///         Q64.96 square-root price).
    int24 internal constant MIN_TICK = -887272;
    int24 internal constant MAX_TICK = 887272;

    uint256 internal constant Q128 = 1 << 128;
    uint256 internal constant Q192 = 1 << 192;

    /// @notice sqrt(1.0001^tick) in Q64.96, exactly the value Uniswap's `TickMath.getSqrtRatioAtTick` returns.
    /// @dev 1.0001^(-|tick|/2) is built in Q128.128 as a product of the factors 1.0001^(-2^i/2) for the set
    ///      bits i of |tick|: each factor is round(2^128 * 1.0001^(-2^(i-1))), the table Uniswap publishes
    ///      (a mathematical constant table; the tests derive every entry from 1.0001 independently). The
    ///      product is truncated after each step, as Uniswap does, so that the result matches the pool's
    ///      to the last bit. A positive tick inverts the ratio (`max / ratio`, which also truncates), and the
    ///      Q128.128 to Q64.96 step rounds up, which keeps `getTickAtSqrtRatio(result) == tick` in the pool.
    ///      Each product is below 2^256 (ratio <= 2^128, factor < 2^128), so the steps run unchecked.
    /// @param tick A tick within [MIN_TICK, MAX_TICK]; reverts `TickOutOfRange` otherwise.
    /// @return sqrtPriceX96 sqrt(token1/token0) in Q64.96 at `tick`.
    function sqrtPriceX96AtTick(int24 tick) internal pure returns (uint160 sqrtPriceX96) {
        if (tick < MIN_TICK || tick > MAX_TICK) revert TickOutOfRange(tick);
        uint256 absTick = tick < 0 ? uint256(-int256(tick)) : uint256(int256(tick));

        uint256 ratio = absTick & 0x1 != 0 ? 0xfffcb933bd6fad37aa2d162d1a594001 : Q128;
        unchecked {
            if (absTick & 0x2 != 0) ratio = (ratio * 0xfff97272373d413259a46990580e213a) >> 128;
            if (absTick & 0x4 != 0) ratio = (ratio * 0xfff2e50f5f656932ef12357cf3c7fdcc) >> 128;
            if (absTick & 0x8 != 0) ratio = (ratio * 0xffe5caca7e10e4e61c3624eaa0941cd0) >> 128;
            if (absTick & 0x10 != 0) ratio = (ratio * 0xffcb9843d60f6159c9db58835c926644) >> 128;
            if (absTick & 0x20 != 0) ratio = (ratio * 0xff973b41fa98c081472e6896dfb254c0) >> 128;
            if (absTick & 0x40 != 0) ratio = (ratio * 0xff2ea16466c96a3843ec78b326b52861) >> 128;
            if (absTick & 0x80 != 0) ratio = (ratio * 0xfe5dee046a99a2a811c461f1969c3053) >> 128;
            if (absTick & 0x100 != 0) ratio = (ratio * 0xfcbe86c7900a88aedcffc83b479aa3a4) >> 128;
            if (absTick & 0x200 != 0) ratio = (ratio * 0xf987a7253ac413176f2b074cf7815e54) >> 128;
            if (absTick & 0x400 != 0) ratio = (ratio * 0xf3392b0822b70005940c7a398e4b70f3) >> 128;
            if (absTick & 0x800 != 0) ratio = (ratio * 0xe7159475a2c29b7443b29c7fa6e889d9) >> 128;
            if (absTick & 0x1000 != 0) ratio = (ratio * 0xd097f3bdfd2022b8845ad8f792aa5825) >> 128;
            if (absTick & 0x2000 != 0) ratio = (ratio * 0xa9f746462d870fdf8a65dc1f90e061e5) >> 128;
            if (absTick & 0x4000 != 0) ratio = (ratio * 0x70d869a156d2a1b890bb3df62baf32f7) >> 128;
            if (absTick & 0x8000 != 0) ratio = (ratio * 0x31be135f97d08fd981231505542fcfa6) >> 128;
            if (absTick & 0x10000 != 0) ratio = (ratio * 0x9aa508b5b7a84e1c677de54f3e99bc9) >> 128;
            if (absTick & 0x20000 != 0) ratio = (ratio * 0x5d6af8dedb81196699c329225ee604) >> 128;
            if (absTick & 0x40000 != 0) ratio = (ratio * 0x2216e584f5fa1ea926041bedfe98) >> 128;
            if (absTick & 0x80000 != 0) ratio = (ratio * 0x48a170391f7dc42444e8fa2) >> 128;
        }
        if (tick > 0) ratio = type(uint256).max / ratio;
        // Q128.128 -> Q64.96, rounded up; below 2^160 for every tick in range.
        sqrtPriceX96 = uint160((ratio >> 32) + (ratio % (1 << 32) == 0 ? 0 : 1));
    }

    /// @notice The arithmetic mean tick over `secondsElapsed` seconds from the change of the pool's cumulative
    ///         tick, rounded towards negative infinity (as Uniswap's `OracleLibrary.consult`).
    /// @dev The mean of ticks within [MIN_TICK, MAX_TICK] lies in that range; a delta no pool can produce
    ///      reverts (SafeCast) rather than wrap.
    /// @param tickCumulativeDelta The cumulative tick at the end minus the one at the start (tick x seconds).
    /// @param secondsElapsed The interval's length in seconds; not zero.
    function meanTickDown(int56 tickCumulativeDelta, uint32 secondsElapsed) internal pure returns (int24 tick) {
        int56 elapsed = int56(uint56(secondsElapsed));
        int56 mean = tickCumulativeDelta / elapsed; // Solidity rounds towards zero
        if (tickCumulativeDelta < 0 && tickCumulativeDelta % elapsed != 0) mean--;
        tick = SafeCast.toInt24(mean);
    }

    /// @notice floor(P * scaleUp / scaleDown), where P is the price of one raw unit of the base token in raw
    ///         units of the other at `sqrtPriceX96`: sqrtPrice^2 / 2^192 when the base is token0, its inverse
    ///         when the base is token1.
    /// @dev Exact (one floor) while sqrtPriceX96 < 2^128, which holds for every tick up to 443636; above that
    ///      the squared price is first taken in Q128 (floored), as Uniswap's `OracleLibrary.getQuoteAtTick`
    ///      does, which changes the result by less than 2^-64 of it. Dividing by `scaleDown` after the
    ///      floor of `mulDiv` is still one floor: floor(floor(x) / d) = floor(x / d) for an integer d > 0.
    /// @param sqrtPriceX96 sqrt(token1/token0) in Q64.96 (nonzero).
    /// @param baseIsToken0 Whether the token priced is the pool's token0.
    /// @param scaleUp The factor the price is multiplied by (e.g. 10^(decimals shift)).
    /// @param scaleDown The divisor applied after it (nonzero).
    function quoteDown(uint160 sqrtPriceX96, bool baseIsToken0, uint256 scaleUp, uint256 scaleDown)
        internal
        pure
        returns (uint256)
    {
        uint256 ratio;
        uint256 one;
        if (sqrtPriceX96 <= type(uint128).max) {
            (ratio, one) = (uint256(sqrtPriceX96) * sqrtPriceX96, Q192);
        } else {
            (ratio, one) = (Math.mulDiv(sqrtPriceX96, sqrtPriceX96, 1 << 64), Q128);
        }
        uint256 scaled = baseIsToken0 ? Math.mulDiv(ratio, scaleUp, one) : Math.mulDiv(one, scaleUp, ratio);
        return scaled / scaleDown;
    }
}
