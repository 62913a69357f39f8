// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ITransferHook
/// @notice Receives a callback from `MockHookERC20` after every balance change.
interface ITransferHook {
    /// @notice Called by the token after `value` moved from `from` to `to` (zero addresses for mint and burn).
    function onTokenTransfer(address from, address to, uint256 value) external;
}

/// @title MockHookERC20
/// @notice A badly-behaved ERC20 for tests only: configurable decimals, open minting, and a hook contract
///         that the token calls after every transfer, mint or burn, handing control to arbitrary code in
///         the middle of the caller's transaction (as ERC777 or ERC1363-style tokens do).
/// @dev The hook is called after the balances are updated. A reverting hook reverts the transfer.
contract MockHookERC20 is ERC20 {
    uint8 internal immutable _decimals;

    /// @notice The contract called after every balance change; zero disables the hook.
    ITransferHook public hook;

    /// @notice Emitted when the hook changes.
    event HookSet(address indexed hook);

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Token decimals.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
    }

    /// @notice Sets the hook contract; anyone may set it (tests only).
    /// @param hook_ The new hook, or the zero address to disable it.
    function setHook(address hook_) external {
        hook = ITransferHook(hook_);
        emit HookSet(hook_);
    }

    /// @notice Mints `amount` to `to`; anyone may mint.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @dev Moves the balances, then hands control to the hook.
    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        ITransferHook hook_ = hook;
        if (address(hook_) != address(0)) hook_.onTokenTransfer(from, to, value);
    }
}
