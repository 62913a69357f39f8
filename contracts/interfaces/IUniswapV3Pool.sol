// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IUniswapV3Pool
/// @notice The part of a Uniswap V3 pool (v3-core 1.0.1) a flash liquidation uses.
interface IUniswapV3Pool {
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
