// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ITransferHook} from "./MockHookERC20.sol";
import {IUniswapV3SwapCallback} from "../interfaces/IUniswapV3Pool.sol";

/// @title FlashCallbackAttacker
/// @notice Tests only: tries to get a FlashLiquidator to pay through a forged Uniswap V3 swap callback, either
///         on its own (posing as a pool, `attack`) or as the transfer hook of a `MockHookERC20`, from inside a
///         swap the FlashLiquidator itself started (`armed`: the first hooked transfer tries it). Every attempt
///         is caught and recorded, never re-raised, so the outer call completes and a test reads the outcome.
contract FlashCallbackAttacker is ITransferHook {
    /// @notice The FlashLiquidator attacked.
    IUniswapV3SwapCallback public immutable target;
    /// @notice Whether the next hooked transfer makes the attempt.
    bool public armed;
    /// @notice Attempts made, and how many of them the target refused.
    uint256 public attempts;
    uint256 public refusals;
    /// @notice The error selector of the last refusal.
    bytes4 public lastError;
    /// @notice The forged callback's arguments: what it claims the target owes, and its data.
    int256 internal _amount0;
    int256 internal _amount1;
    bytes internal _data;

    /// @param target_ The FlashLiquidator.
    constructor(IUniswapV3SwapCallback target_) {
        target = target_;
    }

    /// @notice Sets the forged callback and arms the hook.
    function arm(int256 amount0, int256 amount1, bytes calldata data) external {
        (_amount0, _amount1, _data, armed) = (amount0, amount1, data, true);
    }

    /// @notice Makes the forged callback now, as a contract posing as a pool.
    function attack(int256 amount0, int256 amount1, bytes calldata data) external {
        (_amount0, _amount1, _data) = (amount0, amount1, data);
        _try();
    }

    /// @inheritdoc ITransferHook
    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        _try();
    }

    function _try() internal {
        attempts += 1;
        try target.uniswapV3SwapCallback(_amount0, _amount1, _data) {}
        catch (bytes memory reason) {
            refusals += 1;
            if (reason.length >= 4) lastError = bytes4(reason);
        }
    }
}
