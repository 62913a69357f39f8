// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ValueLib
/// @notice Converts token amounts to USD value, with $1 = 1e26, from 8-decimal prices.
library ValueLib {
    /// @notice Value of `amount` (in token units of `decimals` <= 18) at `price` (8 decimals):
    ///         `amount * price * 10**(18 - decimals)`, exact (no rounding).
    /// @dev An amount times RAY gives a value times RAY, which is how debt value is kept. Reserves with more
    ///      than 18 decimals are refused when listed, so the scale is computed unchecked; the products stay checked.
    function toValue(uint256 amount, uint256 decimals, uint256 price) internal pure returns (uint256) {
        uint256 scale;
        unchecked {
            scale = 10 ** (18 - decimals);
        }
        return amount * price * scale;
    }
}
