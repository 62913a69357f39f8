// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

uint256 constant WAD = 1e18;
uint256 constant RAY = 1e27;
uint256 constant BPS = 1e4;

/// @title MathLib
/// @notice Full-precision multiply-divide with the rounding direction in every name (OpenZeppelin's
///         `Math.mulDiv`, so no intermediate product overflows).
library MathLib {
    /// @notice floor(a * b / c).
    function mulDivDown(uint256 a, uint256 b, uint256 c) internal pure returns (uint256) {
        return Math.mulDiv(a, b, c);
    }

    /// @notice ceil(a * b / c).
    function mulDivUp(uint256 a, uint256 b, uint256 c) internal pure returns (uint256) {
        return Math.mulDiv(a, b, c, Math.Rounding.Ceil);
    }

    /// @notice ceil(a / b) for b > 0.
    function divUp(uint256 a, uint256 b) internal pure returns (uint256) {
        return Math.ceilDiv(a, b);
    }

    /// @notice floor(a * b / RAY).
    function rayMulDown(uint256 a, uint256 b) internal pure returns (uint256) {
        return Math.mulDiv(a, b, RAY);
    }

    /// @notice ceil(a * b / RAY).
    function rayMulUp(uint256 a, uint256 b) internal pure returns (uint256) {
        return Math.mulDiv(a, b, RAY, Math.Rounding.Ceil);
    }

    /// @notice min(a, b).
    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return Math.min(a, b);
    }
}
