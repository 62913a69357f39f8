// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {MathLib} from "./MathLib.sol";

/// @title SharesMathLib
/// @notice Supply shares with a virtual offset of `VIRTUAL = 1e6` on both sides, so that the first
///         depositor cannot inflate the share price by donating (and donations do not count anyway:
///         the pool keeps its cash on its books).
/// @dev With A = total added assets and S = total shares:
///      assets -> shares `a * (S + V) / (A + V)`, shares -> assets `s * (A + V) / (S + V)`.
///      `S + V` and `A + V` are unchecked: S is a stored uint128 and A = cash + drawn debt + deficit, far below
///      2**255 (uint128 cash and deficit, uint128 shares times a uint128 index over RAY).
library SharesMathLib {
    using MathLib for uint256;

    uint256 internal constant VIRTUAL = 1e6;

    /// @notice Shares minted for supplied assets (rounded down, against the supplier).
    function toSharesDown(uint256 assets, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        unchecked {
            return assets.mulDivDown(totalShares + VIRTUAL, totalAssets + VIRTUAL);
        }
    }

    /// @notice Shares burned for withdrawn assets (rounded up, against the withdrawer).
    function toSharesUp(uint256 assets, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        unchecked {
            return assets.mulDivUp(totalShares + VIRTUAL, totalAssets + VIRTUAL);
        }
    }

    /// @notice Assets that shares are worth, for value and withdrawal (rounded down).
    function toAssetsDown(uint256 shares, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        unchecked {
            return shares.mulDivDown(totalAssets + VIRTUAL, totalShares + VIRTUAL);
        }
    }

    /// @notice Assets that shares are worth, rounded up (used where the protocol must not under-count).
    function toAssetsUp(uint256 shares, uint256 totalAssets, uint256 totalShares) internal pure returns (uint256) {
        unchecked {
            return shares.mulDivUp(totalAssets + VIRTUAL, totalShares + VIRTUAL);
        }
    }
}
