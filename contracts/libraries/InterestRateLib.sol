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

    /// @notice Annual borrow rate in RAY for the given cash and debt (asset units), on the reserve's rate model.
    /// @dev Reads the four rate fields straight from the reserve's storage: copying its configuration to memory
    ///      first costs ~400 gas more per accrual under viaIR.
    function borrowRateRay(DataTypes.Reserve storage reserve, uint256 cash, uint256 debt)
        internal
        view
        returns (uint256)
    {
        // The rates are uint32 and the optimal utilisation uint16 (BPS): times 1e23 they cannot overflow, and
        // neither can the sum of three such rates.
        uint256 base;
        uint256 slope1;
        unchecked {
            base = uint256(reserve.baseRate) * BPS_TO_RAY;
            slope1 = uint256(reserve.slopeBelowOptimal) * BPS_TO_RAY;
        }
        if (debt == 0) return base;
        // Unchecked as well: cash is a uint128 and debt a uint128 of shares times an index over RAY, so their sum
        // cannot overflow; utilisation <= RAY and optimal < RAY, so every term below is at most a rate.
        unchecked {
            uint256 utilization = debt.mulDivDown(RAY, cash + debt);
            uint256 optimal = uint256(reserve.optimalUtilization) * BPS_TO_RAY;
            if (utilization <= optimal) return base + slope1.mulDivDown(utilization, optimal);
            uint256 slope2 = uint256(reserve.slopeAboveOptimal) * BPS_TO_RAY;
            return base + slope1 + slope2.mulDivDown(utilization - optimal, RAY - optimal);
        }
    }

    /// @notice The borrow index after `elapsed` seconds at `rateRay` (rounded up).
    function accrueIndex(uint256 index, uint256 rateRay, uint256 elapsed) internal pure returns (uint256) {
        if (rateRay == 0 || elapsed == 0) return index;
        // Unchecked: a rate (below 2**111) times seconds since a uint40 timestamp, and a uint128 index plus its
        // growth over that time, are far below 2**256.
        unchecked {
            return index + index.mulDivUp(rateRay * elapsed, RAY * SECONDS_PER_YEAR);
        }
    }
}
