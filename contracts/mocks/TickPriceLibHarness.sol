// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {TickPriceLib} from "../libraries/TickPriceLib.sol";

/// @title TickPriceLibHarness
/// @notice Exposes `TickPriceLib`'s internal functions to the tests (tests only).
contract TickPriceLibHarness {
    /// @notice `TickPriceLib.sqrtPriceX96AtTick` of each tick, in one call.
    function sqrtPricesX96AtTicks(int24[] calldata ticks) external pure returns (uint160[] memory prices) {
        prices = new uint160[](ticks.length);
        for (uint256 i; i < ticks.length; ++i) {
            prices[i] = TickPriceLib.sqrtPriceX96AtTick(ticks[i]);
        }
    }

    /// @notice `TickPriceLib.sqrtPriceX96AtTick`.
    function sqrtPriceX96AtTick(int24 tick) external pure returns (uint160) {
        return TickPriceLib.sqrtPriceX96AtTick(tick);
    }

    /// @notice `TickPriceLib.meanTickDown`.
    function meanTickDown(int56 tickCumulativeDelta, uint32 secondsElapsed) external pure returns (int24) {
        return TickPriceLib.meanTickDown(tickCumulativeDelta, secondsElapsed);
    }

    /// @notice `TickPriceLib.quoteDown`.
    function quoteDown(uint160 sqrtPriceX96, bool baseIsToken0, uint256 scaleUp, uint256 scaleDown)
        external
        pure
        returns (uint256)
    {
        return TickPriceLib.quoteDown(sqrtPriceX96, baseIsToken0, scaleUp, scaleDown);
    }
}
