// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

// Old-style tokens revert with strings, as this mock imitates them.
// solhint-disable gas-custom-errors

/// @title MockNoReturnERC20
/// @notice A USDT-style token: `transfer`, `transferFrom` and `approve` return nothing (not even a bool)
///         and revert on failure (tests only: SafeERC20 must accept the missing return value).
/// @dev A minimal, assembly-free implementation that deliberately does not implement `IERC20`, whose
///      functions return `bool`. Minting is open.
contract MockNoReturnERC20 {
    /// @notice ERC20 transfer event.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice ERC20 approval event.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Token name.
    string public name;
    /// @notice Token symbol.
    string public symbol;
    /// @notice Token decimals.
    uint8 public immutable decimals;
    /// @notice Total supply.
    uint256 public totalSupply;
    /// @notice Balances.
    mapping(address account => uint256) public balanceOf;
    /// @notice Allowances; `type(uint256).max` is never spent down.
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param decimals_ Token decimals.
    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    /// @notice Mints `amount` to `to`; anyone may mint.
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @notice Approves `spender` for `amount`. Returns nothing.
    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }

    /// @notice Moves `amount` to `to`; reverts if the balance is short. Returns nothing.
    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice Moves `amount` from `from` to `to` against the caller's allowance; reverts if the allowance
    ///         or the balance is short. Returns nothing.
    function transferFrom(address from, address to, uint256 amount) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "allowance");
            allowance[from][msg.sender] = allowed - amount;
        }
        _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) internal {
        require(balanceOf[from] >= amount, "balance");
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
