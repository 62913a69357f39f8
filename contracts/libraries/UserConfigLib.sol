// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title UserConfigLib
/// @notice A user's bitmap over the reserves: for reserve id `i`, bit `2i` is set while the user borrows it
///         and bit `2i + 1` while the user uses it as collateral (as Aave's `UserConfiguration`).
library UserConfigLib {
    /// @notice A 256-bit map holds two bits for each of at most 128 reserves.
    uint256 internal constant MAX_RESERVES = 128;
    /// @dev Every borrowing bit.
    uint256 internal constant BORROWING_MASK = 0x5555555555555555555555555555555555555555555555555555555555555555;

    function isBorrowing(uint256 config, uint256 id) internal pure returns (bool) {
        return (config >> (2 * id)) & 1 != 0;
    }

    function isCollateral(uint256 config, uint256 id) internal pure returns (bool) {
        return (config >> (2 * id + 1)) & 1 != 0;
    }

    function isBorrowingAny(uint256 config) internal pure returns (bool) {
        return config & BORROWING_MASK != 0;
    }

    function setBorrowing(uint256 config, uint256 id, bool borrowing) internal pure returns (uint256) {
        uint256 bit = 1 << (2 * id);
        return borrowing ? config | bit : config & ~bit;
    }

    function setCollateral(uint256 config, uint256 id, bool enabled) internal pure returns (uint256) {
        uint256 bit = 2 << (2 * id);
        return enabled ? config | bit : config & ~bit;
    }
}
