// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {DataTypes} from "./DataTypes.sol";
import {Errors} from "./Errors.sol";
import {MathLib, RAY} from "./MathLib.sol";
import {SharesMathLib} from "./SharesMathLib.sol";
import {InterestRateLib} from "./InterestRateLib.sol";

/// @title ReserveLogic
/// @notice One reserve's state changes: listing, configuration updates, interest accrual, deficit write-off and
///         settlement; the reserve's state accrued to now for views; and the snapshot of a reserve that a
///         health-factor computation reads once.
library ReserveLogic {
    using MathLib for uint256;
    using SharesMathLib for uint256;
    using SafeCast for uint256;

    /// @notice The borrow index never passes 1e36 (a billion-fold growth): past it, the reserve stops accruing
    ///         interest instead of overflowing. Every accepted rate model therefore degrades to zero interest
    ///         rather than bricking the reserve, so repay, withdraw and liquidate keep working whatever the rates
    ///         and however long utilisation stays at 100% (at 100% a year compounded every second, the ceiling is
    ///         reached after about 21 years; at the largest rates a uint32 BPS model allows, in one accrual).
    uint256 internal constant MAX_BORROW_INDEX = 1e36;

    /// @notice Lists a reserve: its configuration, a borrow index of 1 (RAY) accruing from now, its id and decimals.
    function init(
        DataTypes.Reserve storage reserve,
        DataTypes.ReserveConfig calldata config,
        uint256 id,
        uint8 decimals
    ) internal {
        reserve.config = config;
        reserve.borrowIndex = uint128(RAY);
        reserve.lastUpdate = uint40(block.timestamp);
        reserve.id = uint8(id);
        reserve.decimals = decimals;
        reserve.listed = true;
    }

    /// @notice Replaces a validated configuration, after accruing interest on the old rate model. The paused and
    ///         frozen flags are not configuration: an update never lifts an emergency pause. The collateral factor
    ///         reaches zero only while nobody supplies the reserve (protocol.md section 3).
    /// @return updated The configuration stored.
    function updateConfig(DataTypes.Reserve storage reserve, address asset, DataTypes.ReserveConfig calldata config)
        internal
        returns (DataTypes.ReserveConfig memory updated)
    {
        if (config.collateralFactor == 0 && reserve.config.collateralFactor > 0 && reserve.totalSupplyShares > 0) {
            revert Errors.CollateralFactorInUse(asset, reserve.totalSupplyShares);
        }
        accrue(reserve, asset);
        updated = config;
        updated.paused = reserve.config.paused;
        updated.frozen = reserve.config.frozen;
        reserve.config = updated;
    }

    /// @notice The reserve's borrow index accrued to now, without storing it.
    function accruedIndex(DataTypes.Reserve storage reserve) internal view returns (uint256) {
        return accruedIndex(
            reserve.config, reserve.borrowIndex, reserve.lastUpdate, reserve.cash, reserve.totalDrawnShares
        );
    }

    /// @notice A borrow index accrued from `lastUpdate` to now on `config`'s rate model, at the utilisation of
    ///         `cash` and `totalDrawnShares` at `index`.
    function accruedIndex(
        DataTypes.ReserveConfig storage config,
        uint256 index,
        uint256 lastUpdate,
        uint256 cash,
        uint256 totalDrawnShares
    ) internal view returns (uint256) {
        // `<=` rather than `==`: some nodes run historical eth_calls with an earlier timestamp.
        if (block.timestamp <= lastUpdate || index >= MAX_BORROW_INDEX) return index;
        uint256 rate = InterestRateLib.borrowRateRay(config, cash, totalDrawnShares.rayMulDown(index));
        return InterestRateLib.accrueIndex(index, rate, block.timestamp - lastUpdate).min(MAX_BORROW_INDEX);
    }

    /// @notice The borrow index accrued to now and the total added assets at that index, without storing them.
    function accruedState(DataTypes.Reserve storage reserve) internal view returns (uint256 index, uint256 assets) {
        index = accruedIndex(reserve);
        assets = totalAssets(reserve, index);
    }

    /// @notice The reserve's state with interest accrued to now, for views; the price is the caller's to add.
    function toView(DataTypes.Reserve storage reserve) internal view returns (DataTypes.ReserveView memory data) {
        (uint256 index, uint256 assets) = accruedState(reserve);
        data.config = reserve.config;
        data.id = reserve.id;
        data.decimals = reserve.decimals;
        data.borrowIndex = index;
        data.lastUpdate = reserve.lastUpdate;
        data.cash = reserve.cash;
        data.totalSupplyShares = reserve.totalSupplyShares;
        data.totalDrawnShares = reserve.totalDrawnShares;
        data.totalDebt = uint256(reserve.totalDrawnShares).rayMulDown(index);
        data.deficit = reserve.deficit;
        data.totalAddedAssets = assets;
        data.liquidationGracePeriodUntil = reserve.liquidationGracePeriodUntil;
    }

    /// @notice The reserve's total added assets at `index`: cash, drawn debt (rounded down) and deficit.
    function totalAssets(DataTypes.Reserve storage reserve, uint256 index) internal view returns (uint256) {
        return totalAssets(reserve.cash, reserve.totalDrawnShares, reserve.deficit, index);
    }

    /// @notice Total added assets from a reserve's balances at `index`: `cash + rayMulDown(drawn shares, index) +
    ///         deficit`.
    function totalAssets(uint256 cash, uint256 totalDrawnShares, uint256 deficit, uint256 index)
        internal
        pure
        returns (uint256)
    {
        return cash + totalDrawnShares.rayMulDown(index) + deficit;
    }

    /// @notice Accrues interest to now and stores it; returns the index.
    function accrue(DataTypes.Reserve storage reserve, address asset) internal returns (uint256 index) {
        index = accruedIndex(reserve);
        storeIndex(reserve, asset, index);
    }

    /// @notice Stores an index accrued to now, emitting `InterestAccrued` when it moved (nothing to do if the
    ///         reserve accrued in this block already).
    function storeIndex(DataTypes.Reserve storage reserve, address asset, uint256 index) internal {
        if (reserve.lastUpdate >= block.timestamp) return;
        uint128 newIndex = index.toUint128();
        bool moved = newIndex != reserve.borrowIndex;
        reserve.lastUpdate = uint40(block.timestamp);
        reserve.borrowIndex = newIndex;
        if (moved) emit ILendingPool.InterestAccrued(asset, index);
    }

    /// @notice Writes `user`'s whole debt on the reserve (`position`) off into the reserve's deficit and, unless
    ///         the reserve is paused (its deficit then waits for `settleDeficit`), settles it at once (protocol.md
    ///         section 6): from this transaction the loss is in the share price, so no supplier escapes it by
    ///         withdrawing first.
    function reportDeficit(
        DataTypes.Reserve storage reserve,
        address asset,
        address user,
        DataTypes.Position storage position,
        address fund,
        DataTypes.Position storage fundPosition
    ) internal {
        uint256 index = accrue(reserve, asset);
        uint256 shares = position.drawnShares;
        uint256 amount = shares.rayMulUp(index);
        position.drawnShares = 0;
        reserve.totalDrawnShares -= uint128(shares);
        reserve.deficit = SafeCast.toUint128(reserve.deficit + amount);
        emit ILendingPool.DeficitReported(user, asset, amount);
        if (!reserve.config.paused) settleDeficit(reserve, asset, index, fund, fundPosition);
    }

    /// @notice Settles the reserve's deficit (protocol.md section 6): the fee receiver's supply shares pay
    ///         first (burned up to the deficit), the rest is written off against all suppliers, whose share
    ///         price drops. `index` is the reserve's index accrued in this block.
    function settleDeficit(
        DataTypes.Reserve storage reserve,
        address asset,
        uint256 index,
        address fund,
        DataTypes.Position storage fundPosition
    ) internal {
        uint256 outstanding = reserve.deficit;
        uint256 totalAssets_ = totalAssets(reserve, index);
        uint256 fundShares = fundPosition.supplyShares;
        uint256 totalShares = reserve.totalSupplyShares;
        uint256 covered = outstanding.min(fundShares.toAssetsDown(totalAssets_, totalShares));
        if (covered > 0) {
            uint256 burned = covered.toSharesUp(totalAssets_, totalShares).min(fundShares);
            fundPosition.supplyShares = uint128(fundShares - burned);
            reserve.totalSupplyShares = uint128(totalShares - burned);
            emit ILendingPool.DeficitCovered(asset, fund, covered, burned);
        }
        reserve.deficit = 0;
        uint256 socialized = outstanding - covered;
        if (socialized > 0) emit ILendingPool.DeficitSocialized(asset, socialized);
    }

    /// @notice Reads the snapshot's index slot and accrues its index (on the configuration's rate model), once.
    function load(DataTypes.ReserveSnapshot memory snapshot, DataTypes.Reserve storage reserve) internal view {
        if (snapshot.index != 0) return;
        snapshot.decimals = reserve.decimals;
        snapshot.index = accruedIndex(
            reserve.config, reserve.borrowIndex, reserve.lastUpdate, reserve.cash, reserve.totalDrawnShares
        );
    }

    /// @notice `load`, then the collateral side: the collateral and borrow factors, the supply shares and the
    ///         total added assets, once.
    function loadSupply(DataTypes.ReserveSnapshot memory snapshot, DataTypes.Reserve storage reserve)
        internal
        view
    {
        load(snapshot, reserve);
        if (snapshot.totalAssets != 0) return;
        snapshot.collateralFactor = reserve.config.collateralFactor;
        snapshot.maxLtv = reserve.config.maxLtv;
        snapshot.totalSupplyShares = reserve.totalSupplyShares;
        snapshot.totalAssets = totalAssets(reserve.cash, reserve.totalDrawnShares, reserve.deficit, snapshot.index);
    }
}
