// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DataTypes} from "../libraries/DataTypes.sol";

/// @title ILendingPool
/// @notice One pool holding every reserve: supply shares, debt in drawn shares times a borrow index,
///         health factors from oracle prices, and liquidations that repay exactly what brings the
///         health factor back to a target, with a bonus that rises as the health factor falls.
/// @dev Units: BPS (1e4 = 100%), WAD health factors, RAY indexes, 8-decimal prices, value $1 = 1e26.
///      Errors are in `Errors`. Prices come from `IPriceOracle` and revert on stale or invalid answers.
interface ILendingPool {
    /* EVENTS */

    /// @notice A reserve was listed.
    event ReserveAdded(address indexed asset, uint256 id, uint8 decimals, DataTypes.ReserveConfig config);
    /// @notice A reserve's configuration changed.
    event ReserveConfigUpdated(address indexed asset, DataTypes.ReserveConfig config);
    /// @notice A reserve was paused or unpaused.
    event ReservePausedSet(address indexed asset, bool paused, address indexed by);
    /// @notice A reserve was frozen or unfrozen.
    event ReserveFrozenSet(address indexed asset, bool frozen);
    /// @notice The liquidation grace period after an unpause changed (seconds).
    event LiquidationGracePeriodUpdated(uint256 gracePeriod);
    /// @notice An unpause started a liquidation grace period on `asset`, which lasts until `until`.
    event LiquidationGracePeriodStarted(address indexed asset, uint256 until);
    /// @notice The pool-wide liquidation configuration changed.
    event LiquidationConfigUpdated(
        uint256 targetHealthFactor, uint256 healthFactorForMaxBonus, uint256 liquidationBonusFactor
    );
    /// @notice The guardian (may pause reserves) changed.
    event GuardianUpdated(address indexed previousGuardian, address indexed newGuardian);
    /// @notice The fee receiver (insurance fund) changed.
    event FeeReceiverUpdated(address indexed previousReceiver, address indexed newReceiver);
    /// @notice A reserve's borrow index accrued interest.
    event InterestAccrued(address indexed asset, uint256 borrowIndex);

    /// @notice Assets were supplied for `onBehalfOf`, who received `shares`.
    event Supply(address indexed asset, address indexed caller, address indexed onBehalfOf, uint256 assets, uint256 shares);
    /// @notice `user` withdrew `assets` to `to`, burning `shares`.
    event Withdraw(address indexed asset, address indexed user, address indexed to, uint256 assets, uint256 shares);
    /// @notice `user` borrowed `assets`, owing `shares` drawn shares.
    event Borrow(address indexed asset, address indexed user, uint256 assets, uint256 shares);
    /// @notice `payer` repaid `assets` of `onBehalfOf`'s debt, removing `shares` drawn shares.
    event Repay(address indexed asset, address indexed payer, address indexed onBehalfOf, uint256 assets, uint256 shares);
    /// @notice `user` enabled or disabled `asset` as collateral.
    event CollateralToggled(address indexed user, address indexed asset, bool enabled);
    /// @notice A liquidation: `debtRepaid` of `debtAsset` paid by `liquidator`, `collateralSeized` of
    ///         `collateralAsset` taken from `user` (assets; `protocolFee` of it to the fee receiver).
    event LiquidationCall(
        address indexed collateralAsset,
        address indexed debtAsset,
        address indexed user,
        address liquidator,
        uint256 debtRepaid,
        uint256 collateralSeized,
        uint256 protocolFee,
        uint256 liquidationBonus,
        uint256 healthFactorBefore,
        bool receiveShares
    );
    /// @notice `user`'s remaining `amount` of `asset` debt was written off into the reserve's deficit.
    event DeficitReported(address indexed user, address indexed asset, uint256 amount);
    /// @notice `amount` of `asset` deficit was paid: by the fee receiver's shares (`sharesBurned` > 0) when the
    ///         deficit is settled (by the liquidation that reports it, or `settleDeficit`), or in underlying by
    ///         `coveredBy` in `coverDeficit`.
    event DeficitCovered(address indexed asset, address indexed coveredBy, uint256 amount, uint256 sharesBurned);
    /// @notice `amount` of `asset` deficit was written off against all suppliers of the reserve.
    event DeficitSocialized(address indexed asset, uint256 amount);

    /* GOVERNANCE */

    /// @notice Lists `asset` with `config`. Owner only.
    /// @dev Reverts `ReserveAlreadyListed`, `TooManyReserves`, `TooManyDecimals` (> 18) or a config error
    ///      (see `updateReserveConfig`). The borrow index starts at 1e27.
    function addReserve(address asset, DataTypes.ReserveConfig calldata config) external;

    /// @notice Replaces the configuration of a listed reserve. Owner only. Interest is accrued first
    ///         under the old rate model. The `paused` and `frozen` fields are ignored: the reserve keeps its
    ///         flags (`setReservePaused`, `setReserveFrozen`), so a routine update never lifts a pause.
    /// @dev Enforces collateralFactor < 1e4, maxLtv <= collateralFactor, maxLiquidationBonus >= 1e4,
    ///      liquidationFee <= 1e4, ceil(maxLiquidationBonus * collateralFactor / 1e4) < 1e4,
    ///      0 < optimalUtilization < 1e4; and reverts `CollateralFactorInUse` for lowering the collateral
    ///      factor to 0 while anyone supplies the reserve (Aave V3's rule: offboard a collateral by lowering
    ///      `maxLtv` to 0, which stops new borrowing against it while liquidations keep using the collateral
    ///      factor).
    function updateReserveConfig(address asset, DataTypes.ReserveConfig calldata config) external;

    /// @notice Sets the pool-wide liquidation configuration. Owner only.
    /// @param targetHealthFactor WAD, >= 1e18: the health factor a liquidation restores.
    /// @param healthFactorForMaxBonus WAD, < 1e18: at or below it the bonus is the reserve's maximum.
    /// @param liquidationBonusFactor BPS, <= 1e4: the minimum bonus as a share of the maximum bonus part.
    function setLiquidationConfig(
        uint256 targetHealthFactor,
        uint256 healthFactorForMaxBonus,
        uint256 liquidationBonusFactor
    ) external;

    /// @notice Pauses (owner or guardian) or unpauses (owner only) a reserve. A paused reserve blocks
    ///         withdraw, borrow, disabling collateral, liquidations and deficit settlement; it still takes
    ///         repayments, supplies and enabling collateral, so that borrowers can stop the interest that keeps
    ///         accruing. An unpause starts the liquidation grace period (`liquidationGracePeriod`).
    function setReservePaused(address asset, bool paused) external;

    /// @notice Freezes or unfreezes a reserve (owner only): a frozen reserve takes no new supply, borrow,
    ///         collateral enabling or received shares; everything else works.
    function setReserveFrozen(address asset, bool frozen) external;

    /// @notice Sets the liquidation grace period (seconds, at most `MAX_LIQUIDATION_GRACE_PERIOD`) that every
    ///         later unpause starts: until it ends, liquidations whose collateral or debt is that reserve
    ///         revert `LiquidationGracePeriodActive`. Owner only; 0 (the default) disables it.
    function setLiquidationGracePeriod(uint256 gracePeriod) external;

    /// @notice Sets the guardian, who may pause reserves. Owner only.
    function setGuardian(address guardian) external;

    /// @notice Sets the fee receiver (insurance fund) that is credited the protocol fee as supply shares.
    ///         Owner only. Fee shares earned before the change stay with the previous receiver.
    /// @dev Reverts `ReentrancyGuardReentrantCall` inside a guarded pool call, so that a liquidation always credits
    ///      its fee to the receiver it started with.
    function setFeeReceiver(address feeReceiver) external;

    /* USER OPERATIONS */

    /// @notice Supplies `amount` of `asset`; `onBehalfOf` receives supply shares (rounded down). A user's own
    ///         first supply to a reserve with a collateral factor enables it as collateral; a supply on
    ///         someone else's behalf never enables collateral (a gift cannot stop a deficit being recognised).
    /// @dev Reverts on a frozen reserve, on an amount worth zero shares, and with `InboundTransferShortfall`
    ///      unless the pool's balance rose by `amount` (fee-on-transfer tokens are not supported, whatever
    ///      else the pool holds). Works on a paused reserve.
    /// @return shares The supply shares minted.
    function supply(address asset, uint256 amount, address onBehalfOf) external returns (uint256 shares);

    /// @notice Withdraws `amount` of `asset` (type(uint256).max: everything) to `to`, burning shares rounded
    ///         up. If the reserve is active collateral and the caller has debt, the borrow health factor
    ///         (collateral weighted by `maxLtv`) must stay at or above 1e18.
    /// @return withdrawn The assets sent.
    function withdraw(address asset, uint256 amount, address to) external returns (uint256 withdrawn);

    /// @notice Borrows `amount` of `asset` to the caller, who owes drawn shares rounded up. The borrow health
    ///         factor (collateral weighted by `maxLtv`, not by the collateral factor that liquidations use)
    ///         must be at or above 1e18 afterwards, so interest alone cannot make a maximum borrow liquidatable
    ///         at once.
    /// @return shares The drawn shares added.
    function borrow(address asset, uint256 amount) external returns (uint256 shares);

    /// @notice Repays up to `amount` (type(uint256).max: all) of `onBehalfOf`'s `asset` debt. Shares removed
    ///         round down; an amount at or above the debt repays all of it and charges exactly the debt.
    ///         Works on a paused reserve.
    /// @return repaid The assets taken from the caller.
    function repay(address asset, uint256 amount, address onBehalfOf) external returns (uint256 repaid);

    /// @notice Enables or disables the caller's supply of `asset` as collateral. Disabling requires the
    ///         borrow health factor to stay at or above 1e18 and a reserve that is not paused; enabling
    ///         requires a supply and a reserve that is not frozen. Setting the current state again does nothing.
    function setUsingAsCollateral(address asset, bool enabled) external;

    /* LIQUIDATION */

    /// @notice Liquidates `user`, whose health factor is below 1e18: repays debt on `debtAsset` and seizes
    ///         `collateralAsset` with the health-factor-scaled bonus. The amount is what brings the health
    ///         factor to the target, capped by `debtToCover` and the reserve debt, rounded up to the whole
    ///         debt (or collateral) when the remainder would be dust. If the user's only collateral is
    ///         exhausted, every remaining debt becomes deficit and is settled in the same call (the fee
    ///         receiver's shares first, then all suppliers), unless that debt reserve is paused. A call that
    ///         would repay no debt share or seize no collateral share reverts `NothingToLiquidate`. The fee
    ///         receiver's own liquidation pays no protocol fee. Liquidations of a reserve wait out its grace
    ///         period after an unpause (`LiquidationGracePeriodActive`).
    ///
    ///         Split liquidations: below the health factor at which a liquidation stops raising it
    ///         (HF < LB * CF: the target is out of reach), each call lowers the health factor and so raises the
    ///         bonus of the next one, and many small calls seize more in total than one maximal call
    ///         (`tests/contracts/liquidation/test_split_liquidation.py` measures it). The protocol accepts this:
    ///         the bonus never passes `maxLiquidationBonus`, which any call at or below
    ///         `healthFactorForMaxBonus` pays anyway, and refusing partial calls there would contradict the
    ///         allowed end states of protocol.md section 5 and shut out liquidators with little capital.
    /// @param debtToCover The most the caller will pay, in debt asset units; type(uint256).max: as much as
    ///        allowed.
    /// @param receiveShares Receive the collateral as supply shares instead of the underlying. Received
    ///        shares (like the fee receiver's fee shares) are not enabled as collateral automatically.
    /// @return debtRepaid Debt asset units paid by the caller.
    /// @return collateralSeized Collateral assets taken from the user (shares converted down), fee included.
    function liquidate(
        address collateralAsset,
        address debtAsset,
        address user,
        uint256 debtToCover,
        bool receiveShares
    ) external returns (uint256 debtRepaid, uint256 collateralSeized);

    /// @notice What `liquidate(collateralAsset, debtAsset, user, debtToCover, false)` from the caller would
    ///         do in this block; reverts exactly as it would.
    function previewLiquidation(address collateralAsset, address debtAsset, address user, uint256 debtToCover)
        external
        view
        returns (DataTypes.LiquidationPreview memory);

    /* DEFICIT */

    /// @notice Settles the deficit of `asset`: the fee receiver's supply shares pay first (burned up to the
    ///         deficit), the rest is written off against all suppliers. Anyone may call.
    function settleDeficit(address asset) external;

    /// @notice Pays up to `amount` of `asset`'s deficit in the underlying from the caller.
    /// @return covered The amount paid (at most the deficit).
    function coverDeficit(address asset, uint256 amount) external returns (uint256 covered);

    /* VIEWS */

    /// @notice A user's collateral value, debt value (rounded up), health factor (WAD, max uint without
    ///         debt), average collateral factor (WAD), active collaterals and borrowed reserves.
    function getUserAccountData(address user)
        external
        view
        returns (
            uint256 totalCollateralValue,
            uint256 totalDebtValue,
            uint256 healthFactor,
            uint256 avgCollateralFactor,
            uint256 activeCollateralCount,
            uint256 borrowCount
        );

    /// @notice Health factors (WAD) of many users, with prices read once per reserve.
    function getHealthFactors(address[] calldata users) external view returns (uint256[] memory);

    /// @notice The bonus (BPS) a liquidation seizing `collateralAsset` pays at `healthFactor`.
    function getLiquidationBonus(address collateralAsset, uint256 healthFactor) external view returns (uint256);

    /// @notice A user's supplied assets (rounded down), debt (rounded up) and collateral flag on `asset`.
    function getUserPosition(address user, address asset)
        external
        view
        returns (uint256 supplied, uint256 debt, bool usingAsCollateral);

    /// @notice A user's raw supply and drawn shares on `asset` (for the fee receiver, its fee shares included).
    function getUserShares(address user, address asset) external view returns (uint256 supplyShares, uint256 drawnShares);

    /// @notice A user's bitmap: bit 2*id is set while borrowing reserve id, bit 2*id+1 while using it as collateral.
    function getUserConfig(address user) external view returns (uint256);

    /// @notice A reserve's configuration and state with interest accrued to now, and its price.
    function getReserveData(address asset) external view returns (DataTypes.ReserveView memory);

    /// @notice Every listed asset, in id order.
    function getReservesList() external view returns (address[] memory);

    /// @notice The pool-wide liquidation configuration.
    function getLiquidationConfig()
        external
        view
        returns (uint256 targetHealthFactor, uint256 healthFactorForMaxBonus, uint256 liquidationBonusFactor);

    /// @notice Unsettled deficit of `asset` (asset units).
    function deficit(address asset) external view returns (uint256);
}
