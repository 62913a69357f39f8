// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Errors
/// @notice Every custom error of the protocol, named after the rule that failed.
library Errors {
    /* LISTING AND CONFIGURATION */

    /// @notice The asset has no reserve in the pool.
    error ReserveNotListed(address asset);
    /// @notice The asset already has a reserve.
    error ReserveAlreadyListed(address asset);
    /// @notice The pool holds the maximum number of reserves (128).
    error TooManyReserves();
    /// @notice The token reports more than 18 decimals.
    error TooManyDecimals(uint8 decimals);
    /// @notice A required address is zero.
    error ZeroAddress();
    /// @notice The collateral factor must be below 100% (1e4 BPS).
    error InvalidCollateralFactor(uint256 collateralFactor);
    /// @notice The borrow factor (maxLtv) must not exceed the collateral factor.
    error InvalidMaxLtv(uint256 maxLtv, uint256 collateralFactor);
    /// @notice The collateral factor can reach zero only while nobody supplies the reserve (Aave V3's rule):
    ///         offboarding lowers the borrow factor to zero first.
    error CollateralFactorInUse(address asset, uint256 totalSupplyShares);
    /// @notice The maximum liquidation bonus must be at least 100% (1e4 BPS).
    error InvalidLiquidationBonus(uint256 maxLiquidationBonus);
    /// @notice The liquidation fee must be at most 100% (1e4 BPS).
    error InvalidLiquidationFee(uint256 liquidationFee);
    /// @notice ceil(maxLiquidationBonus * collateralFactor / 1e4) must stay below 1e4, otherwise a
    ///         liquidation could lower the health factor of every account.
    error BonusTimesCollateralFactorTooHigh(uint256 maxLiquidationBonus, uint256 collateralFactor);
    /// @notice The optimal utilisation of the rate model must be strictly between 0 and 100%.
    error InvalidOptimalUtilization(uint256 optimalUtilization);
    /// @notice The target health factor must be at least 1e18.
    error InvalidTargetHealthFactor(uint256 targetHealthFactor);
    /// @notice The health factor for the maximum bonus must be below 1e18.
    error InvalidHealthFactorForMaxBonus(uint256 healthFactorForMaxBonus);
    /// @notice The liquidation bonus factor must be at most 100% (1e4 BPS).
    error InvalidLiquidationBonusFactor(uint256 liquidationBonusFactor);
    /// @notice Only the owner or the guardian may pause a reserve.
    error OnlyOwnerOrGuardian(address caller);
    /// @notice The guardian may pause a reserve; only the owner unpauses it.
    error OnlyOwnerCanUnpause(address caller);
    /// @notice The liquidation grace period after an unpause is at most `MAX_LIQUIDATION_GRACE_PERIOD`.
    error InvalidLiquidationGracePeriod(uint256 gracePeriod);

    /* USER OPERATIONS */

    /// @notice A guarded pool call was entered again before it returned (OpenZeppelin's `ReentrancyGuard` error).
    error ReentrancyGuardReentrantCall();

    /// @notice The amount is zero, or too small to move a single share.
    error InvalidAmount();
    /// @notice The reserve is paused: only repay, supply and enabling collateral may touch it.
    error ReservePaused(address asset);
    /// @notice The reserve is frozen: no new supply, borrow or received shares.
    error ReserveFrozen(address asset);
    /// @notice The user does not have that much supplied.
    error InsufficientSupply(uint256 requested, uint256 available);
    /// @notice The pool does not hold enough cash of the asset.
    error InsufficientLiquidity(uint256 requested, uint256 available);
    /// @notice The operation would leave the user's health factor below 1e18.
    error HealthFactorBelowThreshold(uint256 healthFactor);
    /// @notice The user has no debt on this reserve.
    error NoDebt();
    /// @notice An inbound transfer delivered less than the amount the pool credits: the token charged a fee on
    ///         transfer or otherwise under-delivered.
    error InboundTransferShortfall(address asset, uint256 received, uint256 amount);
    /// @notice A share or debt amount does not fit the 128-bit storage field.
    error AmountTooLarge();

    /* LIQUIDATION */

    /// @notice A user cannot liquidate their own position.
    error SelfLiquidation();
    /// @notice debtToCover must be positive.
    error InvalidDebtToCover();
    /// @notice The user has no supply on the collateral reserve.
    error ReserveNotSupplied();
    /// @notice The user has no debt on the debt reserve.
    error ReserveNotBorrowed();
    /// @notice The user's health factor is at or above 1e18.
    error HealthFactorNotBelowThreshold(uint256 healthFactor);
    /// @notice The collateral reserve is not the user's active collateral.
    error ReserveNotEnabledAsCollateral();
    /// @notice Receiving shares requires a reserve that is not frozen and has it enabled.
    error CannotReceiveShares();
    /// @notice debtToCover is below what the liquidation must repay to leave no dust.
    error MustNotLeaveDust();
    /// @notice The liquidation would repay no debt share or seize no collateral share.
    error NothingToLiquidate();
    /// @notice A reserve of the liquidation was unpaused less than the grace period ago.
    error LiquidationGracePeriodActive(address asset, uint256 until);

    /* DEFICIT */

    /// @notice The reserve has no deficit to settle or cover.
    error NoDeficit();
}
