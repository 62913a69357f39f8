// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IUniswapV3Pool
/// @notice The part of a Uniswap V3 pool (v3-core 1.0.1) a flash liquidation and the TWAP feed use.
interface IUniswapV3Pool {
    /// @notice The pool's first token (the lower address); prices are token1 per token0.
    function token0() external view returns (address);

    /// @notice The pool's second token (the higher address).
    function token1() external view returns (address);

    /// @notice The pool's current state: spot price (sqrt(token1/token0) in Q64.96), its tick, and the
    ///         oracle's ring buffer: the index of the latest observation, the number of observations kept
    ///         now, and the number it grows to (`increaseObservationCardinalityNext`) once the ring is full.
    function slot0()
        external
        view
        returns (
            uint160 sqrtPriceX96,
            int24 tick,
            uint16 observationIndex,
            uint16 observationCardinality,
            uint16 observationCardinalityNext,
            uint8 feeProtocol,
            bool unlocked
        );

    /// @notice The cumulative tick (tick x seconds) and seconds-per-liquidity as of each `secondsAgos[i]`
    ///         seconds before now; reverts `OLD` when one lies before the oldest observation kept.
    function observe(uint32[] calldata secondsAgos)
        external
        view
        returns (int56[] memory tickCumulatives, uint160[] memory secondsPerLiquidityCumulativeX128s);

    /// @notice Swaps token0 for token1 or back; a negative `amountSpecified` asks for that exact output. The
    ///         pool sends the output first, then calls `uniswapV3SwapCallback` on the caller to be paid.
    function swap(
        address recipient,
        bool zeroForOne,
        int256 amountSpecified,
        uint160 sqrtPriceLimitX96,
        bytes calldata data
    ) external returns (int256 amount0, int256 amount1);
}

/// @title IUniswapV3SwapCallback
/// @notice What a contract calling `IUniswapV3Pool.swap` implements to pay for the swap.
interface IUniswapV3SwapCallback {
    /// @notice Called by the pool during `swap`; the positive delta is what the caller owes the pool.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external;
}
