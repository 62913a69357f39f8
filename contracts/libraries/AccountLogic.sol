// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IPriceOracle} from "../interfaces/IPriceOracle.sol";
import {DataTypes} from "./DataTypes.sol";
import {MathLib, RAY} from "./MathLib.sol";
import {SharesMathLib} from "./SharesMathLib.sol";
import {ValueLib} from "./ValueLib.sol";
import {ReserveLogic} from "./ReserveLogic.sol";
import {UserConfigLib} from "./UserConfigLib.sol";

/// @title AccountLogic
/// @notice An account's collateral, debt and health factors (protocol.md section 3) from the pool's storage
///         and the oracle's prices, as Aave V3's `GenericLogic`: each reserve the account uses is read once
///         into a snapshot, which a liquidation then reuses for its amounts.
library AccountLogic {
    using MathLib for uint256;
    using SharesMathLib for uint256;
    using ReserveLogic for DataTypes.ReserveSnapshot;
    using UserConfigLib for uint256;

    /// @notice The user's collateral and debt at current prices and indexes, from its bitmap `userConfig`.
    ///         `cache` holds the snapshots the caller keeps, by reserve id (a batch of accounts shares every
    ///         reserve's; a liquidation keeps its two reserves'; a single check keeps none): a reserve whose id is
    ///         past its end is read into a snapshot of its own. A snapshot whose `asset` is set is not looked up
    ///         again in `reservesList`.
    function accountData(
        mapping(address asset => DataTypes.Reserve) storage reserves,
        mapping(uint256 id => address asset) storage reservesList,
        mapping(address asset => DataTypes.Position) storage positions,
        IPriceOracle oracle,
        uint256 userConfig,
        DataTypes.ReserveSnapshot[] memory cache
    ) internal view returns (DataTypes.AccountData memory data) {
        // Two bits per reserve id, low bits first (`UserConfigLib`): bit 0 borrowing, bit 1 collateral.
        uint256 id = 0;
        for (uint256 bits = userConfig; bits != 0; bits >>= 2) {
            bool borrowing = bits & 1 != 0;
            bool usedAsCollateral = bits & 2 != 0;
            if (borrowing || usedAsCollateral) {
                DataTypes.ReserveSnapshot memory snapshot = id < cache.length ? cache[id] : _newSnapshot();
                if (snapshot.asset == address(0)) snapshot.asset = reservesList[id];
                DataTypes.Reserve storage reserve = reserves[snapshot.asset];
                _addReserve(data, snapshot, reserve, positions[snapshot.asset], oracle, borrowing, usedAsCollateral);
            }
            unchecked {
                ++id; // at most 128
            }
        }
        data.healthFactor = healthFactor(data.weightedCollateralValue, data.totalDebtValueRay);
    }

    /// @dev An empty snapshot, for a reserve the caller does not keep.
    function _newSnapshot() private pure returns (DataTypes.ReserveSnapshot memory snapshot) {
        return snapshot; // every field zero: not read yet
    }

    /// @notice floor(weighted * 1e14 * 1e27 / debtValueRay), WAD; the maximum uint without debt.
    function healthFactor(uint256 weightedCollateralValue, uint256 totalDebtValueRay) internal pure returns (uint256) {
        if (totalDebtValueRay == 0) return type(uint256).max;
        return weightedCollateralValue.mulDivDown(1e14 * RAY, totalDebtValueRay);
    }

    /// @dev Adds the user's collateral (if it counts: enabled, supplied, a collateral factor) and debt in one
    ///      reserve to `data`, reading the price only for a reserve that counts.
    function _addReserve(
        DataTypes.AccountData memory data,
        DataTypes.ReserveSnapshot memory snapshot,
        DataTypes.Reserve storage reserve,
        DataTypes.Position storage position,
        IPriceOracle oracle,
        bool borrowing,
        bool usedAsCollateral
    ) private view {
        // Every storage read before the price call, after which the compiler would read the slots again.
        snapshot.load(reserve);
        uint256 supplyShares = position.supplyShares;
        uint256 drawnShares = position.drawnShares;
        if (usedAsCollateral && supplyShares > 0) snapshot.loadSupply(reserve);
        bool isCollateral = usedAsCollateral && supplyShares > 0 && snapshot.collateralFactor > 0;
        if (!isCollateral && !borrowing) return;

        if (snapshot.price == 0) snapshot.price = oracle.getPrice(snapshot.asset);
        if (isCollateral) {
            uint256 assets = supplyShares.toAssetsDown(snapshot.totalAssets, snapshot.totalSupplyShares);
            uint256 value = ValueLib.toValue(assets, snapshot.decimals, snapshot.price);
            data.totalCollateralValue += value;
            data.weightedCollateralValue += value * snapshot.collateralFactor;
            data.weightedBorrowValue += value * snapshot.maxLtv;
            ++data.activeCollateralCount;
        }
        if (borrowing) {
            data.totalDebtValueRay +=
                ValueLib.toValue(drawnShares * snapshot.index, snapshot.decimals, snapshot.price);
            ++data.borrowCount;
        }
    }
}
