// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IUniswapV3Pool} from "./IUniswapV3Pool.sol";

/// @title IUniswapV3TwapFeed
/// @notice A Chainlink-style feed (8 decimals) that answers the time-weighted average price of a Uniswap V3
///         pool's `base` token in its `quote` token over the last `twapWindow` seconds, taking one quote token
///         as exactly $1. Built to be a `PriceOracle` secondary feed: the deviation circuit breaker between
///         it and the Chainlink primary then refuses a primary the market does not confirm, while a
///         one-block push of the pool's spot price barely moves the average.
/// @dev Rules:
///      1. Price. The mean tick over the window, rounded towards negative infinity (Uniswap's
///         `OracleLibrary.consult`), is turned into the base's price in the quote at full precision and
///         scaled to 8 decimals by both tokens' decimals, rounded down. Its resolution is one tick (0.01%).
///      2. The quote token is assumed worth exactly $1 (a USD stablecoin such as USDC or DAI). Nothing checks
///         that peg: if the stablecoin trades at $0.95, every answer is about 5% above the base's USD price.
///         As a secondary feed this means a depeg beyond the breaker's `maxDeviationBps` stops the base
///         asset's prices (and liquidations) until the peg returns or the owner removes the secondary.
///      3. Window. At least `MIN_TWAP_WINDOW` (5 minutes). A swap moves the pool's tick for the time until
///         the next swap; held for one block of `b` seconds against arbitrage, a move of `x` ticks shifts
///         the mean by `x * b / twapWindow`. With 12 s blocks a 5-minute window divides a one-block push by
///         25, a 30-minute window (the recommended one) by 150: moving the average by 5% (a typical breaker
///         bound) in one block then needs the spot pushed to about 3.4x (5 min) or 1500x (30 min) for that
///         block. Below 5 minutes a single block weighs so much that a cheap push on a thin pool could trip
///         the breaker and stop liquidations on purpose. A swap in the block being read has no weight at
///         all (the pool records the tick it replaced). The cost of a long window is lag: in a crash the
///         average trails the market, by about half of a steady fall over one window, and by all of a sudden
///         gap at first (less and less over the next window); the breaker's `maxDeviationBps` must absorb
///         that lag or it stops liquidations exactly when they are needed.
///      4. Observations. A pool writes at most one observation per block, so a window of `w` seconds stays
///         covered under a swap in every block only if the pool keeps `ceil(w / minBlockTime) + 1` of them.
///         The constructor refuses a pool whose `observationCardinalityNext` is lower (`CardinalityTooLow`)
///         and a pool whose oldest kept observation is younger than `twapWindow` (`WindowNotCovered`,
///         Uniswap's `OLD`): a pool created less than a window ago, or one that kept a single observation
///         and was traded within the window, is accepted once its history reaches one window back.
///      5. Rounds. The round id is the timestamp the window ends at; `latestRoundData` ends it now, so
///         `updatedAt = block.timestamp` and `startedAt = block.timestamp - twapWindow`. If the pool can no
///         longer cover the window (its history was overwritten faster than `minBlockTime` promised), the
///         round is reported incomplete (answer 0, `updatedAt` 0) instead of reverting: `PriceOracle` then
///         skips the secondary as stale, `isSecondaryFeedActive` turns false for monitoring, and the
///         primary alone prices the asset, so a busy pool cannot become a kill switch for liquidations.
///         Only Uniswap's `OLD` is treated so; any other failure of `observe` (including running out of
///         gas) reverts, so a caller cannot switch the breaker off by choosing the gas limit.
///      6. Configuration is immutable and nothing is stored after construction (no events): a new window or
///         pool is a new feed, set with `PriceOracle.setSecondaryFeed`.
interface IUniswapV3TwapFeed is AggregatorV3Interface {
    /// @notice `twapWindow` is shorter than `minimum` seconds (rule 3).
    error WindowTooShort(uint32 twapWindow, uint32 minimum);
    /// @notice `minBlockTime` is zero.
    error InvalidBlockTime();
    /// @notice `base` and `quote` are not the pool's two tokens (in either order).
    error TokensNotInPool(address pool, address base, address quote);
    /// @notice A token has more than 18 decimals (the protocol lists none).
    error UnsupportedTokenDecimals(address token, uint8 decimals);
    /// @notice The pool will keep `cardinalityNext` observations, fewer than the `required` ones (rule 4).
    error CardinalityTooLow(address pool, uint16 cardinalityNext, uint256 required);
    /// @notice The pool's recorded observations do not reach `twapWindow` seconds back (Uniswap's `OLD`).
    error WindowNotCovered(address pool, uint32 twapWindow);
    /// @notice `getRoundData` was asked for a round that ends in the future or before the pool's history.
    error RoundNotAvailable(uint80 roundId);

    /// @notice The shortest accepted window, seconds (rule 3).
    function MIN_TWAP_WINDOW() external view returns (uint32);

    /// @notice The Uniswap V3 pool whose observations are averaged.
    function pool() external view returns (IUniswapV3Pool);

    /// @notice The token priced.
    function baseToken() external view returns (address);

    /// @notice The token it is priced in, taken as $1.
    function quoteToken() external view returns (address);

    /// @notice The averaging window, seconds.
    function twapWindow() external view returns (uint32);

    /// @notice The chain's shortest block interval the pool's observation count was checked against, seconds.
    function minBlockTime() external view returns (uint32);

    /// @notice The 8-decimal answer this feed gives when the mean tick is `tick` (rounded down).
    /// @param tick A tick within Uniswap's range; reverts `TickOutOfRange` otherwise.
    function priceAtTick(int24 tick) external view returns (uint256 price);

    /// @notice The time-weighted mean tick over the window ending now (rounded towards negative infinity).
    /// @dev Reverts `WindowNotCovered` when the pool's history does not cover the window.
    function meanTick() external view returns (int24 tick);
}
