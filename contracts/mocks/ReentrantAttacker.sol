// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {ITransferHook} from "./MockHookERC20.sol";

/// @title ReentrantAttacker
/// @notice A transfer hook for `MockHookERC20` (tests only). When armed, the first token transfer it sees
///         tries to re-enter the pool through `liquidate`, `withdraw` and `borrow`, catches each revert and
///         records whether it was OpenZeppelin's `ReentrancyGuardReentrantCall()`. It never reverts itself,
///         so the outer call completes and the test can read what happened.
contract ReentrantAttacker is ITransferHook {
    /// @notice The re-entry attempts, in the order they are made.
    enum Attempt {
        Liquidate,
        Withdraw,
        Borrow
    }

    /// @notice The outcome of one re-entry attempt.
    struct Outcome {
        bool attempted;
        bool reverted;
        bool reentrancyGuardError; // the revert was ReentrancyGuardReentrantCall()
        bytes4 selector; // the revert's error selector (zero if none or too short)
    }

    /// @notice The pool the attacker re-enters.
    ILendingPool public immutable pool;

    /// @notice Whether the next transfer triggers the re-entry attempts.
    bool public armed;
    /// @notice Number of transfers the hook has seen.
    uint256 public hookCalls;

    address internal _collateralAsset;
    address internal _debtAsset;
    address internal _user;
    address internal _asset;

    mapping(Attempt => Outcome) internal _outcomes;

    /// @param pool_ The lending pool to re-enter.
    constructor(address pool_) {
        pool = ILendingPool(pool_);
    }

    /// @notice Enables `asset` as the attacker's collateral (a supply made on its behalf does not).
    function enableCollateral(address asset) external {
        pool.setUsingAsCollateral(asset, true);
    }

    /// @notice Arms the hook: the next transfer re-enters with these arguments.
    /// @param collateralAsset Collateral reserve for the re-entrant `liquidate`.
    /// @param debtAsset Debt reserve for the re-entrant `liquidate`.
    /// @param user Account for the re-entrant `liquidate`.
    /// @param asset Reserve for the re-entrant `withdraw` and `borrow`.
    function arm(address collateralAsset, address debtAsset, address user, address asset) external {
        _collateralAsset = collateralAsset;
        _debtAsset = debtAsset;
        _user = user;
        _asset = asset;
        armed = true;
    }

    /// @notice The recorded outcome of one attempt.
    function outcome(Attempt attempt) external view returns (Outcome memory) {
        return _outcomes[attempt];
    }

    /// @inheritdoc ITransferHook
    /// @dev Disarms before re-entering, so the attempts run once.
    function onTokenTransfer(address, address, uint256) external {
        ++hookCalls;
        if (!armed) return;
        armed = false;

        try pool.liquidate(_collateralAsset, _debtAsset, _user, type(uint256).max, false) {
            _record(Attempt.Liquidate, false, "");
        } catch (bytes memory reason) {
            _record(Attempt.Liquidate, true, reason);
        }
        try pool.withdraw(_asset, 1, address(this)) {
            _record(Attempt.Withdraw, false, "");
        } catch (bytes memory reason) {
            _record(Attempt.Withdraw, true, reason);
        }
        try pool.borrow(_asset, 1) {
            _record(Attempt.Borrow, false, "");
        } catch (bytes memory reason) {
            _record(Attempt.Borrow, true, reason);
        }
    }

    function _record(Attempt attempt, bool reverted, bytes memory reason) internal {
        bytes4 selector;
        if (reason.length >= 4) selector = bytes4(reason);
        _outcomes[attempt] = Outcome({
            attempted: true,
            reverted: reverted,
            reentrancyGuardError: selector == ReentrancyGuard.ReentrancyGuardReentrantCall.selector,
            selector: selector
        });
    }
}
