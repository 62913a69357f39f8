// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DataTypes} from "./DataTypes.sol";
import {Errors} from "./Errors.sol";
import {WAD, BPS} from "./MathLib.sol";

/// @title ConfigValidation
/// @notice Every rule a reserve or liquidation configuration must meet, in one place, each named after the
///         invariant it protects.
library ConfigValidation {
    /// @notice Checks a reserve configuration (listing and updates).
    /// @dev collateralFactor < 1e4; maxLtv <= collateralFactor (borrowing stops before liquidation starts);
    ///      maxLiquidationBonus >= 1e4; liquidationFee <= 1e4;
    ///      ceil(maxLiquidationBonus * collateralFactor / 1e4) < 1e4, so that a liquidation at the maximum bonus
    ///      can still raise a health factor; 0 < optimalUtilization < 1e4.
    function validateReserveConfig(DataTypes.ReserveConfig calldata config) internal pure {
        if (config.collateralFactor >= BPS) revert Errors.InvalidCollateralFactor(config.collateralFactor);
        if (config.maxLtv > config.collateralFactor) {
            revert Errors.InvalidMaxLtv(config.maxLtv, config.collateralFactor);
        }
        if (config.maxLiquidationBonus < BPS) revert Errors.InvalidLiquidationBonus(config.maxLiquidationBonus);
        if (config.liquidationFee > BPS) revert Errors.InvalidLiquidationFee(config.liquidationFee);
        // ceil(maxLB * CF / 1e4) < 1e4  <=>  maxLB * CF <= 1e8 - 1e4
        if (uint256(config.maxLiquidationBonus) * config.collateralFactor > BPS * BPS - BPS) {
            revert Errors.BonusTimesCollateralFactorTooHigh(config.maxLiquidationBonus, config.collateralFactor);
        }
        if (config.optimalUtilization == 0 || config.optimalUtilization >= BPS) {
            revert Errors.InvalidOptimalUtilization(config.optimalUtilization);
        }
    }

    /// @notice Checks the pool-wide liquidation configuration: a target health factor of at least 1 (and
    ///         within its 64-bit field), a health factor for the maximum bonus below 1, a bonus factor of at
    ///         most 100%.
    function validateLiquidationConfig(
        uint256 targetHealthFactor,
        uint256 healthFactorForMaxBonus,
        uint256 liquidationBonusFactor
    ) internal pure {
        if (targetHealthFactor < WAD || targetHealthFactor > type(uint64).max) {
            revert Errors.InvalidTargetHealthFactor(targetHealthFactor);
        }
        if (healthFactorForMaxBonus >= WAD) revert Errors.InvalidHealthFactorForMaxBonus(healthFactorForMaxBonus);
        if (liquidationBonusFactor > BPS) revert Errors.InvalidLiquidationBonusFactor(liquidationBonusFactor);
    }
}
