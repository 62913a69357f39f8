// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

uint256 constant WAD = 1e18;
uint256 constant RAY = 1e27;
uint256 constant BPS = 1e4;

/// @title MathLib
/// @notice Full-precision multiply-divide with the rounding direction in every name
///         (OpenZeppelin's `Math.mulDiv` underneath, so no intermediate product overflows).
library MathLib {
    /// @notice floor(a * b / c).
    /// @dev When `a * b` fits 256 bits and `c` is not zero (every call of the protocol's in practice), one MUL and
    ///      one DIV: OpenZeppelin's fast path for that case costs two internal calls (its checked division is a
    ///      helper function under viaIR). Anything else goes to `Math.mulDiv`, which gives the same result and
    ///      the same panics.
    function mulDivDown(uint256 a, uint256 b, uint256 c) internal pure returns (uint256 result) {
        bool fast;
        assembly ("memory-safe") {
            let product := mul(a, b)
            // `a * b` fits 256 bits iff a == 0 or product / a == b.
            fast := and(iszero(iszero(c)), or(iszero(a), eq(div(product, a), b)))
            if fast { result := div(product, c) }
        }
        if (!fast) result = Math.mulDiv(a, b, c);
    }

    /// @notice ceil(a * b / c).
    /// @dev The same fast path as `mulDivDown`; the rounding adds one when the division leaves a remainder (it
    ///      cannot overflow: with a remainder, c > 1 and the quotient is below 2**255).
    function mulDivUp(uint256 a, uint256 b, uint256 c) internal pure returns (uint256 result) {
        bool fast;
        assembly ("memory-safe") {
            let product := mul(a, b)
            fast := and(iszero(iszero(c)), or(iszero(a), eq(div(product, a), b)))
            if fast { result := add(div(product, c), iszero(iszero(mod(product, c)))) }
        }
        if (!fast) result = Math.mulDiv(a, b, c, Math.Rounding.Ceil);
    }

    /// @notice ceil(a / b) for b > 0.
    function divUp(uint256 a, uint256 b) internal pure returns (uint256) {
        // a > 0 in the second branch, and (a - 1) / b + 1 <= a: nothing to check but the division by zero.
        unchecked {
            return a == 0 ? 0 : (a - 1) / b + 1;
        }
    }

    /// @notice floor(a * b / RAY).
    function rayMulDown(uint256 a, uint256 b) internal pure returns (uint256) {
        return mulDivDown(a, b, RAY);
    }

    /// @notice ceil(a * b / RAY).
    function rayMulUp(uint256 a, uint256 b) internal pure returns (uint256) {
        return mulDivUp(a, b, RAY);
    }

    /// @notice a * b * c, reverting `Panic(0x11)` on overflow as Solidity's checked arithmetic does.
    /// @dev In assembly: under viaIR each checked multiplication is a call to a helper (~60 gas); this is one
    ///      block with the same overflow test for both products.
    function mul3(uint256 a, uint256 b, uint256 c) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            let ab := mul(a, b)
            result := mul(ab, c)
            if iszero(and(or(iszero(a), eq(div(ab, a), b)), or(iszero(c), eq(div(result, c), ab)))) {
                mstore(0, shl(224, 0x4e487b71)) // Panic(uint256)
                mstore(4, 0x11)
                revert(0, 0x24)
            }
        }
    }

    /// @notice a * b, reverting `Panic(0x11)` on overflow (see `mul3`).
    function mul2(uint256 a, uint256 b) internal pure returns (uint256 result) {
        assembly ("memory-safe") {
            result := mul(a, b)
            if iszero(or(iszero(a), eq(div(result, a), b))) {
                mstore(0, shl(224, 0x4e487b71)) // Panic(uint256)
                mstore(4, 0x11)
                revert(0, 0x24)
            }
        }
    }

    /// @notice min(a, b).
    function min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }
}
