// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DataTypes} from "./DataTypes.sol";
import {MathLib, RAY} from "./MathLib.sol";

/// @title InterestRateLib
/// @notice A kinked (two-slope) borrow rate on utilisation, accrued per second into the borrow index.
/// @dev Utilisation `u = debt / (cash + debt)` (RAY; deficits excluded). Annual rate (RAY):
///      `base + slope1 * u / optimal` below the kink, `base + slope1 + slope2 * (u - optimal) / (1 - optimal)`
///      above it. Between two accruals the index grows linearly:
///      `index' = index + ceil(index * rate * dt / (RAY * SECONDS_PER_YEAR))`, rounded up so that debt never
///      grows slower than the model. A zero-rate model leaves the index at exactly 1e27.
library InterestRateLib {
    using MathLib for uint256;

    uint256 internal constant SECONDS_PER_YEAR = 365 days;
    /// @dev One BPS in RAY.
    uint256 internal constant BPS_TO_RAY = 1e23;

    /// @notice Annual borrow rate in RAY for the given cash and debt (asset units), on `config`'s rate model.
    function borrowRateRay(DataTypes.ReserveConfig storage config, uint256 cash, uint256 debt)
        internal
        view
        returns (uint256)
    {
        // Unchecked: the rates are uint32 and the optimal utilisation uint16 (BPS), so times 1e23 they and their
        // sums are far below 2**256; cash and debt are below 2**129 each; utilisation <= RAY and optimal < RAY, so
        // every difference is non-negative.
        unchecked {
            uint256 base = config.baseRate * BPS_TO_RAY;
            if (debt == 0) return base;
            uint256 slope1 = config.slopeBelowOptimal * BPS_TO_RAY;
            uint256 utilization = debt.mulDivDown(RAY, cash + debt);
            uint256 optimal = config.optimalUtilization * BPS_TO_RAY;
            if (utilization <= optimal) return base + slope1.mulDivDown(utilization, optimal);
            uint256 slope2 = config.slopeAboveOptimal * BPS_TO_RAY;
            return base + slope1 + slope2.mulDivDown(utilization - optimal, RAY - optimal);
        }
    }

    /// @notice The borrow index after `elapsed` seconds at `rateRay` (rounded up).
    function accrueIndex(uint256 index, uint256 rateRay, uint256 elapsed) internal pure returns (uint256) {
        if (rateRay == 0 || elapsed == 0) return index;
        return index + index.mulDivUp(rateRay * elapsed, RAY * SECONDS_PER_YEAR);
    }
}
