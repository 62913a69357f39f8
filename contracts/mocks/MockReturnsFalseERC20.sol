// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockReturnsFalseERC20
/// @notice An ERC20 whose `transfer` and `transferFrom` return `false` instead of reverting when they
///         fail (missing balance or allowance, or every transfer while `failTransfers` is set), as some
///         early tokens do (tests only: SafeERC20 must turn `false` into a revert).
/// @dev A failed call moves nothing and spends no allowance.
contract MockReturnsFalseERC20 is ERC20 {
    uint8 internal immutable _decimals;

    /// @notice While true, every transfer and transferFrom returns false and moves nothing.
    bool public failTransfers;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Token decimals.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /// @notice Makes every transfer fail (return false) or behave normally again; anyone may call.
    function setFailTransfers(bool fail) external {
        failTransfers = fail;
    }

    /// @notice Mints `amount` to `to`; anyone may mint.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Moves `value` to `to`, or returns false (moving nothing) where a standard token reverts.
    function transfer(address to, uint256 value) public override returns (bool) {
        if (failTransfers || to == address(0) || balanceOf(msg.sender) < value) return false;
        _transfer(msg.sender, to, value);
        return true;
    }

    /// @notice Moves `value` from `from` to `to` against the caller's allowance, or returns false (moving
    ///         nothing, spending no allowance) where a standard token reverts.
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (failTransfers || to == address(0) || balanceOf(from) < value || allowance(from, msg.sender) < value) {
            return false;
        }
        _spendAllowance(from, msg.sender, value);
        _transfer(from, to, value);
        return true;
    }
}
