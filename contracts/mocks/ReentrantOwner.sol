// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {ITransferHook} from "./MockHookERC20.sol";

interface IOwnable2Step {
    function acceptOwnership() external;
}

/// @title ReentrantOwner
/// @notice A pool owner that is also a `MockHookERC20` transfer hook (tests only). When armed, the next token
///         transfer it sees calls `setFeeReceiver` from inside the pool call that moved the tokens, catches
///         the revert and records its selector. It never reverts itself, so the outer call completes.
contract ReentrantOwner is ITransferHook {
    /// @notice The pool it owns once `acceptOwnership` ran.
    ILendingPool public immutable pool;
    /// @notice The fee receiver the armed hook tries to set.
    address public newFeeReceiver;
    /// @notice Whether the next transfer triggers the attempt.
    bool public armed;
    /// @notice Whether the attempt was made, and whether it reverted.
    bool public attempted;
    bool public reverted;
    /// @notice The revert's error selector (zero if none or too short).
    bytes4 public selector;

    /// @param pool_ The lending pool.
    constructor(address pool_) {
        pool = ILendingPool(pool_);
    }

    /// @notice Completes a two-step ownership transfer of the pool to this contract.
    function acceptOwnership() external {
        IOwnable2Step(address(pool)).acceptOwnership();
    }

    /// @notice Sets the fee receiver directly (outside any pool call).
    function setFeeReceiver(address receiver) external {
        pool.setFeeReceiver(receiver);
    }

    /// @notice Arms the hook: the next transfer tries `setFeeReceiver(receiver)`.
    function arm(address receiver) external {
        newFeeReceiver = receiver;
        armed = true;
    }

    /// @inheritdoc ITransferHook
    function onTokenTransfer(address, address, uint256) external {
        if (!armed) return;
        armed = false;
        attempted = true;
        try pool.setFeeReceiver(newFeeReceiver) {
            reverted = false;
        } catch (bytes memory reason) {
            reverted = true;
            if (reason.length >= 4) selector = bytes4(reason);
        }
    }
}
