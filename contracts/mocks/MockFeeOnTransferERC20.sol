// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Old-style tokens revert with strings, as this mock imitates them.
// solhint-disable gas-custom-errors

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockFeeOnTransferERC20
/// @notice An ERC20 that burns a fee (BPS of the amount) on every transfer between two accounts, so the
///         recipient receives less than was sent (tests only: the pool must reject such tokens).
/// @dev Minting and burning are not charged. The fee is settable at any time, so a test can list the
///      token fee-free, build a position, and then switch the fee on.
contract MockFeeOnTransferERC20 is ERC20 {
    uint8 internal immutable _decimals;

    /// @notice The fee charged on each transfer, BPS of the amount sent (1e4 = 100%).
    uint256 public feeBps;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Token decimals.
    /// @param feeBps_ Initial transfer fee in BPS (at most 1e4).
    constructor(string memory name_, string memory symbol_, uint8 decimals_, uint256 feeBps_) ERC20(name_, symbol_) {
        require(feeBps_ <= 1e4, "fee above 100%");
        _decimals = decimals_;
        feeBps = feeBps_;
    }

    /// @notice Sets the transfer fee in BPS (at most 1e4); anyone may call.
    function setFeeBps(uint256 newFeeBps) external {
        require(newFeeBps <= 1e4, "fee above 100%");
        feeBps = newFeeBps;
    }

    /// @notice Mints `amount` to `to`; anyone may mint.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @dev Transfers between two accounts burn `value * feeBps / 1e4` from the sender first.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value * feeBps / 1e4;
            if (fee > 0) {
                super._update(from, address(0), fee);
                value -= fee;
            }
        }
        super._update(from, to, value);
    }
}
