// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title DataTypes
/// @notice Structs shared by the pool, its interface, its libraries and the lens.
library DataTypes {
    /// @notice Governance configuration of one reserve. Packs into one storage slot.
    /// @dev Rates are annual, in BPS; they are turned into a per-second accrual of the borrow index.
    struct ReserveConfig {
        uint16 collateralFactor; // BPS, < 1e4: the liquidation threshold
        uint16 maxLiquidationBonus; // BPS, >= 1e4 (10500 = seize 105% of the repaid value)
        uint16 liquidationFee; // BPS of the bonus part, <= 1e4
        bool receiveSharesEnabled;
        bool paused;
        bool frozen;
        uint32 baseRate; // BPS per year
        uint32 slopeBelowOptimal; // BPS per year added linearly up to the optimal utilisation
        uint32 slopeAboveOptimal; // BPS per year added linearly from optimal to 100% utilisation
        uint16 optimalUtilization; // BPS, 0 < u < 1e4
        uint16 maxLtv; // BPS, <= collateralFactor: the borrow factor (borrow, withdraw and disabling collateral)
    }

    /// @notice Storage of one reserve: its configuration, stored once, then its state, in four slots.
    /// @dev Fields read together share a slot: the borrow index with its accrual time and the reserve's
    ///      identity; cash with the drawn shares (the rate model's utilisation, and what borrow, repay and the
    ///      debt side of a liquidation write); the supply shares with the deficit (the share price's other
    ///      inputs, which a reserve only used as debt never reads). Writers of two fields of one slot compute
    ///      both values (with their checks) first and assign them one after the other, so that the compiler
    ///      writes the slot once.
    struct Reserve {
        ReserveConfig config;
        uint128 borrowIndex; // RAY
        uint40 lastUpdate; // timestamp of the last accrual
        uint8 id; // position in the reserves list and in the user bitmaps
        uint8 decimals;
        bool listed;
        uint40 liquidationGracePeriodUntil; // no liquidation touches the reserve before this timestamp
        uint128 cash; // underlying held for this reserve (book value, donations excluded)
        uint128 totalDrawnShares;
        uint128 totalSupplyShares;
        uint128 deficit; // asset units written off by liquidations and not yet settled
    }

    /// @notice A user's shares on one reserve: one storage slot.
    struct Position {
        uint128 supplyShares;
        uint128 drawnShares;
    }

    /// @notice The pool-wide values that share one storage slot: the fee receiver, which liquidations and deficit
    ///         settlement read, and the re-entrancy status, which every guarded call reads and writes. A
    ///         liquidation then pays one cold read for both.
    struct PoolState {
        address feeReceiver; // the insurance fund, credited the protocol fee as supply shares
        bool entered; // a guarded call is running (OpenZeppelin's `ReentrancyGuard` status)
    }

    /// @notice Pool-wide liquidation configuration.
    struct LiquidationConfig {
        uint64 targetHealthFactor; // WAD, >= 1e18
        uint64 healthFactorForMaxBonus; // WAD, < 1e18
        uint16 liquidationBonusFactor; // BPS, <= 1e4
    }

    /// @notice A reserve's state with interest accrued to the current block, for views.
    struct ReserveView {
        ReserveConfig config;
        uint8 id;
        uint8 decimals;
        uint256 borrowIndex; // RAY, accrued to now
        uint256 lastUpdate;
        uint256 cash;
        uint256 totalSupplyShares;
        uint256 totalDrawnShares;
        uint256 totalAddedAssets; // cash + drawn debt (rounded down) + deficit
        uint256 totalDebt; // drawn debt in assets, rounded down
        uint256 deficit;
        uint256 price; // 8 decimals
        uint256 liquidationGracePeriodUntil; // timestamp
    }

    /// @notice What a call to liquidate with the same arguments would do now.
    struct LiquidationPreview {
        uint256 healthFactor; // WAD, before the liquidation
        uint256 liquidationBonus; // BPS
        uint256 debtToRepay; // debt asset units the liquidator pays
        uint256 collateralToSeize; // collateral assets taken from the user (shares converted down)
        uint256 collateralToLiquidator; // collateral assets the liquidator receives
        uint256 protocolFee; // collateral assets credited to the fee receiver as shares
        bool deficit; // whether the liquidation writes the user's remaining debt off
    }

    /// @notice One reserve as a call reads it (`ReserveLogic.load`): each storage slot read once, interest
    ///         accrued to now in memory and the price read once; a zero field is not read yet. The collateral
    ///         side (the two factors, supply shares, total assets) is read only for a reserve used as collateral.
    struct ReserveSnapshot {
        address asset;
        uint256 collateralFactor; // BPS
        uint256 maxLtv; // BPS
        uint256 decimals;
        uint256 index; // RAY, accrued to now
        uint256 totalSupplyShares;
        uint256 totalAssets; // cash + drawn debt at `index` (rounded down) + deficit
        uint256 price; // 8 decimals
    }

    /// @notice A user's account as the health factor sees it.
    struct AccountData {
        uint256 totalCollateralValue; // value, $1 = 1e26
        uint256 weightedCollateralValue; // sum of collateralFactor (BPS) * value
        uint256 weightedBorrowValue; // sum of maxLtv (BPS) * value
        uint256 totalDebtValueRay; // value * RAY
        uint256 healthFactor; // WAD, type(uint256).max without debt: liquidation below 1e18
        uint256 activeCollateralCount;
        uint256 borrowCount;
    }
}
