// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {ILendingPool} from "./interfaces/ILendingPool.sol";
import {IPriceOracle} from "./interfaces/IPriceOracle.sol";
import {DataTypes} from "./libraries/DataTypes.sol";
import {Errors} from "./libraries/Errors.sol";
import {MathLib, WAD, RAY} from "./libraries/MathLib.sol";
import {SharesMathLib} from "./libraries/SharesMathLib.sol";
import {LiquidationLogic} from "./libraries/LiquidationLogic.sol";
import {ReserveLogic} from "./libraries/ReserveLogic.sol";
import {UserConfigLib} from "./libraries/UserConfigLib.sol";
import {ConfigValidation} from "./libraries/ConfigValidation.sol";
import {AccountLogic} from "./libraries/AccountLogic.sol";

/// @title LendingPool
/// @notice One pool holding every reserve, with Aave-V4-style liquidations: repay what restores the
///         target health factor, a Dutch-auction bonus on the health factor, dust cleared whole, and
///         deficits recorded instead of zombie accounts. See `ILendingPool` and protocol.md.
/// @dev Tokens must be plain ERC20s: fee-on-transfer tokens revert `InboundTransferShortfall` (the pool
///      checks after every inbound transfer that its balance still covers its books), and rebasing tokens
///      are not supported. Donations to the pool are ignored: cash is kept on the books.
contract LendingPool is ILendingPool, Ownable2Step {
    using MathLib for uint256;
    using SharesMathLib for uint256;
    using SafeERC20 for IERC20;
    using UserConfigLib for uint256;
    using ReserveLogic for DataTypes.Reserve;
    using ReserveLogic for DataTypes.ReserveSnapshot;

    /// @notice A remaining debt or collateral worth less than this ($1,000, value units) is dust.
    uint256 public constant DUST_LIQUIDATION_THRESHOLD = LiquidationLogic.DUST_LIQUIDATION_THRESHOLD;
    /// @notice Accounts below this health factor (WAD) may be liquidated.
    uint256 public constant HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD;
    /// @notice The user bitmap holds two bits per reserve.
    uint256 public constant MAX_RESERVES = UserConfigLib.MAX_RESERVES;
    /// @notice The longest liquidation grace period after an unpause the owner may set (seconds).
    uint256 public constant MAX_LIQUIDATION_GRACE_PERIOD = 7 days;

    /// @notice The price oracle.
    IPriceOracle public immutable oracle;
    /// @dev The fee receiver (receives the protocol fee as supply shares, which pay deficits first) and the
    ///      re-entrancy status, in one slot.
    DataTypes.PoolState internal _state;
    /// @notice May pause reserves (only the owner unpauses).
    address public guardian;
    /// @notice Seconds after an unpause during which no liquidation touches the reserve (Aave V3.1's
    ///         `liquidationGracePeriod`), so that borrowers can repay what accrued while they could not.
    uint256 public liquidationGracePeriod;

    DataTypes.LiquidationConfig internal _liquidationConfig;
    mapping(address asset => DataTypes.Reserve) internal _reserves;
    /// @dev The asset of each reserve id, ids `0 .. _reservesCount - 1` in listing order. A mapping, not an array:
    ///      an account pass looks an id up without reading the list's length (a cold slot) for a bounds check.
    mapping(uint256 id => address asset) internal _reservesList;
    uint256 internal _reservesCount;
    mapping(address user => mapping(address asset => DataTypes.Position)) internal _positions;
    /// @dev Per user, two bits per reserve id (`UserConfigLib`): borrowing, and using as collateral.
    mapping(address user => uint256) internal _userConfig;

    /// @param oracle_ The price oracle.
    /// @param feeReceiver_ The insurance fund, credited the protocol fee.
    /// @param owner_ Governance.
    /// @dev The liquidation configuration starts at target HF 1.05, max bonus at HF 0.7, bonus factor 20%.
    constructor(address oracle_, address feeReceiver_, address owner_) Ownable(owner_) {
        if (oracle_ == address(0) || feeReceiver_ == address(0)) revert Errors.ZeroAddress();
        oracle = IPriceOracle(oracle_);
        _state.feeReceiver = feeReceiver_;
        emit FeeReceiverUpdated(address(0), feeReceiver_);
        _setLiquidationConfig(1.05e18, 0.7e18, 20_00);
    }

    /// @dev OpenZeppelin's `ReentrancyGuard`, with its status in `_state.entered` beside the fee receiver. The
    ///      status returns to its value on entry, so the write is refunded as OpenZeppelin's is.
    modifier nonReentrant() {
        if (_state.entered) revert Errors.ReentrancyGuardReentrantCall();
        _state.entered = true;
        _;
        _state.entered = false;
    }

    /* GOVERNANCE */

    /// @inheritdoc ILendingPool
    function addReserve(address asset, DataTypes.ReserveConfig calldata config) external onlyOwner {
        if (asset == address(0)) revert Errors.ZeroAddress();
        DataTypes.Reserve storage reserve = _reserves[asset];
        if (reserve.listed) revert Errors.ReserveAlreadyListed(asset);
        uint256 id = _reservesCount;
        if (id >= MAX_RESERVES) revert Errors.TooManyReserves();
        uint8 decimals = IERC20Metadata(asset).decimals();
        if (decimals > 18) revert Errors.TooManyDecimals(decimals);
        ConfigValidation.validateReserveConfig(config);

        reserve.init(config, id, decimals);
        _reservesList[id] = asset;
        _reservesCount = id + 1;
        emit ReserveAdded(asset, id, decimals, config);
    }

    /// @inheritdoc ILendingPool
    function updateReserveConfig(address asset, DataTypes.ReserveConfig calldata config) external onlyOwner {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        ConfigValidation.validateReserveConfig(config);
        emit ReserveConfigUpdated(asset, reserve.updateConfig(asset, config));
    }

    /// @inheritdoc ILendingPool
    function setLiquidationConfig(
        uint256 targetHealthFactor,
        uint256 healthFactorForMaxBonus,
        uint256 liquidationBonusFactor
    ) external onlyOwner {
        _setLiquidationConfig(targetHealthFactor, healthFactorForMaxBonus, liquidationBonusFactor);
    }

    /// @inheritdoc ILendingPool
    function setReservePaused(address asset, bool paused) external {
        bool isOwner = msg.sender == owner();
        if (!isOwner && msg.sender != guardian) revert Errors.OnlyOwnerOrGuardian(msg.sender);
        if (!paused && !isOwner) revert Errors.OnlyOwnerCanUnpause(msg.sender);
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        bool unpausing = reserve.config.paused && !paused;
        reserve.config.paused = paused;
        emit ReservePausedSet(asset, paused, msg.sender);
        if (unpausing && liquidationGracePeriod > 0) {
            uint256 until = block.timestamp + liquidationGracePeriod;
            reserve.liquidationGracePeriodUntil = uint40(until);
            emit LiquidationGracePeriodStarted(asset, until);
        }
    }

    /// @inheritdoc ILendingPool
    function setReserveFrozen(address asset, bool frozen) external onlyOwner {
        _listedReserve(asset).config.frozen = frozen;
        emit ReserveFrozenSet(asset, frozen);
    }

    /// @inheritdoc ILendingPool
    function setLiquidationGracePeriod(uint256 gracePeriod) external onlyOwner {
        if (gracePeriod > MAX_LIQUIDATION_GRACE_PERIOD) revert Errors.InvalidLiquidationGracePeriod(gracePeriod);
        liquidationGracePeriod = gracePeriod;
        emit LiquidationGracePeriodUpdated(gracePeriod);
    }

    /// @inheritdoc ILendingPool
    function setGuardian(address newGuardian) external onlyOwner {
        emit GuardianUpdated(guardian, newGuardian);
        guardian = newGuardian;
    }

    /// @inheritdoc ILendingPool
    function setFeeReceiver(address newFeeReceiver) external onlyOwner nonReentrant {
        if (newFeeReceiver == address(0)) revert Errors.ZeroAddress();
        emit FeeReceiverUpdated(_state.feeReceiver, newFeeReceiver);
        _state.feeReceiver = newFeeReceiver;
    }

    /// @notice Receives the protocol fee as supply shares; its shares pay deficits first.
    function feeReceiver() external view returns (address) {
        return _state.feeReceiver;
    }

    /* SUPPLY AND WITHDRAW */

    /// @inheritdoc ILendingPool
    function supply(address asset, uint256 amount, address onBehalfOf)
        external
        nonReentrant
        returns (uint256 shares)
    {
        if (onBehalfOf == address(0)) revert Errors.ZeroAddress();
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        // A paused reserve still takes supplies (collateral top-ups); a frozen one takes none.
        DataTypes.ReserveConfig storage config = reserve.config;
        if (config.frozen) revert Errors.ReserveFrozen(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        uint256 totalAssets = reserve.totalAssets(reserve.accrue(asset));

        shares = amount.toSharesDown(totalAssets, reserve.totalSupplyShares);
        if (shares == 0) revert Errors.InvalidAmount();
        DataTypes.Position storage position = _positions[onBehalfOf][asset];
        bool firstSupply = position.supplyShares == 0;
        position.supplyShares = SafeCast.toUint128(position.supplyShares + shares);
        reserve.totalSupplyShares = SafeCast.toUint128(reserve.totalSupplyShares + shares);
        reserve.cash = SafeCast.toUint128(reserve.cash + amount);
        emit Supply(asset, msg.sender, onBehalfOf, amount, shares);

        // Only the user's own first supply enables collateral: a gift cannot keep an account's deficit from
        // being recognised by standing in as collateral.
        if (
            firstSupply && onBehalfOf == msg.sender && config.collateralFactor > 0
                && !_userConfig[onBehalfOf].isCollateral(reserve.id)
        ) {
            _setUsingAsCollateral(onBehalfOf, asset, reserve.id, true);
        }

        _pullExactly(asset, amount);
    }

    /// @inheritdoc ILendingPool
    function withdraw(address asset, uint256 amount, address to) external nonReentrant returns (uint256 withdrawn) {
        if (to == address(0)) revert Errors.ZeroAddress();
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        if (reserve.config.paused) revert Errors.ReservePaused(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        uint256 totalAssets = reserve.totalAssets(reserve.accrue(asset));

        DataTypes.Position storage position = _positions[msg.sender][asset];
        uint256 userShares = position.supplyShares;
        uint256 totalShares = reserve.totalSupplyShares;
        uint256 shares;
        if (amount == type(uint256).max) {
            shares = userShares;
            withdrawn = shares.toAssetsDown(totalAssets, totalShares);
        } else {
            shares = amount.toSharesUp(totalAssets, totalShares);
            if (shares > userShares) {
                revert Errors.InsufficientSupply(amount, userShares.toAssetsDown(totalAssets, totalShares));
            }
            withdrawn = amount;
        }
        if (withdrawn == 0) revert Errors.InvalidAmount();
        if (withdrawn > reserve.cash) revert Errors.InsufficientLiquidity(withdrawn, reserve.cash);

        position.supplyShares = uint128(userShares - shares);
        reserve.totalSupplyShares = uint128(totalShares - shares);
        reserve.cash -= uint128(withdrawn);
        emit Withdraw(asset, msg.sender, to, withdrawn, shares);

        uint256 userConfig = _userConfig[msg.sender];
        if (userConfig.isCollateral(reserve.id)) {
            if (userShares == shares) _setUsingAsCollateral(msg.sender, asset, reserve.id, false);
            if (userConfig.isBorrowingAny()) _requireBorrowHealthy(msg.sender);
        }

        IERC20(asset).safeTransfer(to, withdrawn);
    }

    /* BORROW AND REPAY */

    /// @inheritdoc ILendingPool
    function borrow(address asset, uint256 amount) external nonReentrant returns (uint256 shares) {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        DataTypes.ReserveConfig storage config = reserve.config;
        if (config.paused) revert Errors.ReservePaused(asset);
        if (config.frozen) revert Errors.ReserveFrozen(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        uint256 index = reserve.accrue(asset);
        if (amount > reserve.cash) revert Errors.InsufficientLiquidity(amount, reserve.cash);

        shares = amount.mulDivUp(RAY, index);
        DataTypes.Position storage position = _positions[msg.sender][asset];
        position.drawnShares = SafeCast.toUint128(position.drawnShares + shares);
        uint128 totalDrawnShares = SafeCast.toUint128(reserve.totalDrawnShares + shares);
        reserve.cash -= uint128(amount);
        reserve.totalDrawnShares = totalDrawnShares;
        _userConfig[msg.sender] = _userConfig[msg.sender].setBorrowing(reserve.id, true);
        emit Borrow(asset, msg.sender, amount, shares);

        _requireBorrowHealthy(msg.sender);
        IERC20(asset).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ILendingPool
    function repay(address asset, uint256 amount, address onBehalfOf) external nonReentrant returns (uint256 repaid) {
        // Repay works on a paused reserve: interest keeps accruing there, and borrowers must be able to stop it.
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        uint256 index = reserve.accrue(asset);

        DataTypes.Position storage position = _positions[onBehalfOf][asset];
        uint256 drawnShares = position.drawnShares;
        if (drawnShares == 0) revert Errors.NoDebt();
        uint256 debt = drawnShares.rayMulUp(index);
        uint256 shares;
        if (amount >= debt) {
            shares = drawnShares;
            repaid = debt;
        } else {
            shares = amount.mulDivDown(RAY, index);
            if (shares == 0) revert Errors.InvalidAmount();
            repaid = amount;
        }

        position.drawnShares = uint128(drawnShares - shares);
        uint128 cash = SafeCast.toUint128(reserve.cash + repaid);
        reserve.totalDrawnShares -= uint128(shares);
        reserve.cash = cash;
        if (shares == drawnShares) _userConfig[onBehalfOf] = _userConfig[onBehalfOf].setBorrowing(reserve.id, false);
        emit Repay(asset, msg.sender, onBehalfOf, repaid, shares);

        _pullExactly(asset, repaid);
    }

    /// @inheritdoc ILendingPool
    function setUsingAsCollateral(address asset, bool enabled) external nonReentrant {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        // Enabling adds collateral, which a paused reserve allows; disabling does not.
        if (!enabled && reserve.config.paused) revert Errors.ReservePaused(asset);
        uint256 userConfig = _userConfig[msg.sender];
        if (userConfig.isCollateral(reserve.id) == enabled) return;

        if (enabled) {
            if (reserve.config.frozen) revert Errors.ReserveFrozen(asset);
            if (_positions[msg.sender][asset].supplyShares == 0) revert Errors.ReserveNotSupplied();
        }
        _setUsingAsCollateral(msg.sender, asset, reserve.id, enabled);
        if (!enabled && userConfig.isBorrowingAny()) _requireBorrowHealthy(msg.sender);
    }

    /* LIQUIDATION */

    /// @dev Everything a liquidation decides before touching storage.
    struct LiquidationPlan {
        uint256 healthFactor; // WAD, before the liquidation
        uint256 liquidationBonus; // BPS
        uint256 collateralIndex; // RAY, accrued to now
        uint256 debtIndex; // RAY, accrued to now
        LiquidationLogic.Amounts amounts; // shares
        uint256 collateralSeized; // assets
        uint256 collateralToLiquidator; // assets
        uint256 protocolFee; // assets
        address feeReceiver; // credited the fee shares
        bool deficit;
        // What the writers store, from values read in this transaction (nothing writes them in between):
        uint256 supplySharesAfter; // the user's collateral shares once seized
        uint256 drawnSharesAfter; // the user's debt shares once repaid
        uint256 collateralCashAfter; // the collateral reserve's cash once the liquidator is paid (not with shares)
        uint256 collateralSharesAfter; // its total supply shares once the liquidator's are burned (not with shares)
    }

    /// @inheritdoc ILendingPool
    function liquidate(
        address collateralAsset,
        address debtAsset,
        address user,
        uint256 debtToCover,
        bool receiveShares
    ) external nonReentrant returns (uint256 debtRepaid, uint256 collateralSeized) {
        DataTypes.Reserve storage collateralReserve = _reserves[collateralAsset];
        DataTypes.Reserve storage debtReserve = _reserves[debtAsset];
        // Validate, price and compute: a view shared with `previewLiquidation`.
        LiquidationPlan memory plan = _planLiquidation(
            collateralAsset, collateralReserve, debtAsset, debtReserve, user, debtToCover, receiveShares, msg.sender
        );

        // Accrue: store the indexes the plan was computed with.
        collateralReserve.storeIndex(collateralAsset, plan.collateralIndex);
        debtReserve.storeIndex(debtAsset, plan.debtIndex);

        mapping(address asset => DataTypes.Position) storage positions = _positions[user];
        _liquidateCollateral(collateralAsset, collateralReserve, user, positions[collateralAsset], plan, receiveShares);
        _liquidateDebt(debtReserve, user, positions[debtAsset], plan);
        // No debt without collateral: write the rest off.
        if (plan.deficit) _reportDeficit(user);

        emit LiquidationCall(
            collateralAsset,
            debtAsset,
            user,
            msg.sender,
            plan.amounts.debtToRepay,
            plan.collateralSeized,
            plan.protocolFee,
            plan.liquidationBonus,
            plan.healthFactor,
            receiveShares
        );

        // Interactions: collateral out, debt in.
        if (!receiveShares && plan.collateralToLiquidator > 0) {
            IERC20(collateralAsset).safeTransfer(msg.sender, plan.collateralToLiquidator);
        }
        _pullExactly(debtAsset, plan.amounts.debtToRepay);
        return (plan.amounts.debtToRepay, plan.collateralSeized);
    }

    /// @inheritdoc ILendingPool
    function previewLiquidation(address collateralAsset, address debtAsset, address user, uint256 debtToCover)
        external
        view
        returns (DataTypes.LiquidationPreview memory preview)
    {
        DataTypes.Reserve storage collateralReserve = _reserves[collateralAsset];
        LiquidationPlan memory plan = _planLiquidation(
            collateralAsset, collateralReserve, debtAsset, _reserves[debtAsset], user, debtToCover, false, msg.sender
        );
        preview = DataTypes.LiquidationPreview({
            healthFactor: plan.healthFactor,
            liquidationBonus: plan.liquidationBonus,
            debtToRepay: plan.amounts.debtToRepay,
            collateralToSeize: plan.collateralSeized,
            collateralToLiquidator: plan.collateralToLiquidator,
            protocolFee: plan.protocolFee,
            deficit: plan.deficit
        });
    }

    /// @dev Validation in the order of protocol.md section 8, then the amounts (`LiquidationLogic`). Reads
    ///      interest accrued to now without storing it, so `liquidate` and `previewLiquidation` agree. The caller
    ///      locates the two reserves (`_reserves[asset]`, listed or not), which `liquidate` then writes.
    function _planLiquidation(
        address collateralAsset,
        DataTypes.Reserve storage collateralReserve,
        address debtAsset,
        DataTypes.Reserve storage debtReserve,
        address user,
        uint256 debtToCover,
        bool receiveShares,
        address liquidator
    ) internal view returns (LiquidationPlan memory plan) {
        if (!collateralReserve.listed) revert Errors.ReserveNotListed(collateralAsset);
        if (!debtReserve.listed) revert Errors.ReserveNotListed(debtAsset);
        if (user == liquidator) revert Errors.SelfLiquidation();
        if (debtToCover == 0) revert Errors.InvalidDebtToCover();
        DataTypes.ReserveConfig storage collateralConfig = collateralReserve.config;
        if (collateralConfig.paused) revert Errors.ReservePaused(collateralAsset);
        if (debtReserve.config.paused) revert Errors.ReservePaused(debtAsset);
        uint256 graceUntil = collateralReserve.liquidationGracePeriodUntil;
        if (block.timestamp < graceUntil) revert Errors.LiquidationGracePeriodActive(collateralAsset, graceUntil);
        graceUntil = debtReserve.liquidationGracePeriodUntil;
        if (block.timestamp < graceUntil) revert Errors.LiquidationGracePeriodActive(debtAsset, graceUntil);
        mapping(address asset => DataTypes.Position) storage positions = _positions[user];
        uint256 supplyShares = positions[collateralAsset].supplyShares;
        uint256 drawnShares = positions[debtAsset].drawnShares;
        if (supplyShares == 0) revert Errors.ReserveNotSupplied();
        if (drawnShares == 0) revert Errors.ReserveNotBorrowed();

        // The debt reserve is in the user's bitmap (borrowed); the collateral reserve may not be enabled.
        uint256 userConfig = _userConfig[user];
        uint256 collateralId = collateralReserve.id;
        uint256 debtId = debtReserve.id;
        DataTypes.ReserveSnapshot[] memory cache =
            new DataTypes.ReserveSnapshot[]((collateralId > debtId ? collateralId : debtId) + 1);
        DataTypes.ReserveSnapshot memory collateral = cache[collateralId];
        DataTypes.ReserveSnapshot memory debt = cache[debtId];
        collateral.asset = collateralAsset;
        debt.asset = debtAsset;
        DataTypes.AccountData memory account =
            AccountLogic.accountData(_reserves, _reservesList, positions, oracle, userConfig, cache);
        plan.healthFactor = account.healthFactor;
        if (account.healthFactor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD) {
            revert Errors.HealthFactorNotBelowThreshold(account.healthFactor);
        }
        if (!userConfig.isCollateral(collateralId) || collateralConfig.collateralFactor == 0) {
            revert Errors.ReserveNotEnabledAsCollateral();
        }
        if (receiveShares && (collateralConfig.frozen || !collateralConfig.receiveSharesEnabled)) {
            revert Errors.CannotReceiveShares();
        }

        DataTypes.LiquidationConfig storage liquidationConfig = _liquidationConfig;
        plan.liquidationBonus = LiquidationLogic.calculateLiquidationBonus(
            collateralConfig.maxLiquidationBonus,
            account.healthFactor,
            liquidationConfig.healthFactorForMaxBonus,
            liquidationConfig.liquidationBonusFactor
        );
        // The account pass loaded both snapshots: the debt reserve is borrowed, and the collateral reserve is
        // supplied and enabled with a collateral factor (checked above), so its collateral side too.
        plan.collateralIndex = collateral.index;
        plan.debtIndex = debt.index;

        plan.feeReceiver = _state.feeReceiver;
        LiquidationLogic.calculateAmounts(
            LiquidationLogic.Params({
                healthFactor: account.healthFactor,
                totalDebtValueRay: account.totalDebtValueRay,
                targetHealthFactor: liquidationConfig.targetHealthFactor,
                liquidationBonus: plan.liquidationBonus,
                // The insurance fund pays itself no fee: its own liquidation follows the same rules as any
                // other, and leaves it no collateral once all of it is seized.
                liquidationFee: user == plan.feeReceiver ? 0 : collateralConfig.liquidationFee,
                debtToCover: debtToCover,
                drawnShares: drawnShares,
                supplyShares: supplyShares,
                debt: debt,
                collateral: collateral
            }),
            plan.amounts
        );
        if (plan.amounts.debtSharesToRepay == 0 || plan.amounts.collateralSharesToSeize == 0) {
            revert Errors.NothingToLiquidate();
        }
        uint256 totalAssets = collateral.totalAssets;
        uint256 totalShares = collateral.totalSupplyShares;
        plan.collateralSeized = plan.amounts.collateralSharesToSeize.toAssetsDown(totalAssets, totalShares);
        plan.collateralToLiquidator = plan.amounts.liquidatorShares.toAssetsDown(totalAssets, totalShares);
        plan.protocolFee = plan.amounts.feeShares.toAssetsDown(totalAssets, totalShares);
        plan.supplySharesAfter = supplyShares - plan.amounts.collateralSharesToSeize;
        plan.drawnSharesAfter = drawnShares - plan.amounts.debtSharesToRepay;
        plan.deficit = LiquidationLogic.isDeficit(
            plan.supplySharesAfter, account.activeCollateralCount, plan.drawnSharesAfter, account.borrowCount
        );
        // The underlying is paid out of the reserve's cash, unless the liquidator takes the shares.
        if (!receiveShares) {
            uint256 cash = collateralReserve.cash;
            if (plan.collateralToLiquidator > cash) {
                revert Errors.InsufficientLiquidity(plan.collateralToLiquidator, cash);
            }
            plan.collateralCashAfter = cash - plan.collateralToLiquidator;
            plan.collateralSharesAfter = totalShares - plan.amounts.liquidatorShares;
        }
    }

    /// @dev The collateral side: the user's seized shares go to the fee receiver (the protocol fee) and to the
    ///      liquidator, as shares or as the underlying paid out of the reserve's cash. The user's new count is the
    ///      plan's (this position as read in this transaction, less the seized shares: a uint128 still).
    function _liquidateCollateral(
        address collateralAsset,
        DataTypes.Reserve storage reserve,
        address user,
        DataTypes.Position storage position,
        LiquidationPlan memory plan,
        bool receiveShares
    ) internal {
        LiquidationLogic.Amounts memory amounts = plan.amounts;
        position.supplyShares = uint128(plan.supplySharesAfter);
        DataTypes.Position storage fund = _positions[plan.feeReceiver][collateralAsset];
        fund.supplyShares = SafeCast.toUint128(fund.supplyShares + amounts.feeShares);
        if (receiveShares) {
            DataTypes.Position storage liquidatorPosition = _positions[msg.sender][collateralAsset];
            liquidatorPosition.supplyShares =
                SafeCast.toUint128(liquidatorPosition.supplyShares + amounts.liquidatorShares);
        } else {
            reserve.cash = uint128(plan.collateralCashAfter);
            reserve.totalSupplyShares = uint128(plan.collateralSharesAfter);
        }
        if (plan.supplySharesAfter == 0) _setUsingAsCollateral(user, collateralAsset, reserve.id, false);
    }

    /// @dev The debt side: the repaid drawn shares leave the user's position and the reserve, and the
    ///      repayment joins the reserve's cash. The user's new count is the plan's, as on the collateral side.
    function _liquidateDebt(
        DataTypes.Reserve storage reserve,
        address user,
        DataTypes.Position storage position,
        LiquidationPlan memory plan
    ) internal {
        LiquidationLogic.Amounts memory amounts = plan.amounts;
        position.drawnShares = uint128(plan.drawnSharesAfter);
        uint128 totalDrawnShares = reserve.totalDrawnShares - uint128(amounts.debtSharesToRepay);
        uint128 cash = SafeCast.toUint128(reserve.cash + amounts.debtToRepay);
        reserve.cash = cash;
        reserve.totalDrawnShares = totalDrawnShares;
        if (plan.drawnSharesAfter == 0) _userConfig[user] = _userConfig[user].setBorrowing(reserve.id, false);
    }

    /// @dev Writes off every remaining debt of `user` into the reserves' deficits, each settled at once unless its
    ///      reserve is paused (`ReserveLogic.reportDeficit`).
    function _reportDeficit(address user) internal {
        uint256 userConfig = _userConfig[user];
        address fund = _state.feeReceiver;
        for (uint256 id; userConfig.isBorrowingAny(); ++id) {
            if (!userConfig.isBorrowing(id)) continue;
            userConfig = userConfig.setBorrowing(id, false);
            address asset = _reservesList[id];
            _reserves[asset].reportDeficit(asset, user, _positions[user][asset], fund, _positions[fund][asset]);
        }
        _userConfig[user] = userConfig;
    }

    /* DEFICIT */

    /// @inheritdoc ILendingPool
    function settleDeficit(address asset) external nonReentrant {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        if (reserve.config.paused) revert Errors.ReservePaused(asset);
        uint256 index = reserve.accrue(asset);
        if (reserve.deficit == 0) revert Errors.NoDeficit();
        address fund = _state.feeReceiver;
        reserve.settleDeficit(asset, index, fund, _positions[fund][asset]);
    }

    /// @inheritdoc ILendingPool
    function coverDeficit(address asset, uint256 amount) external nonReentrant returns (uint256 covered) {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        if (reserve.config.paused) revert Errors.ReservePaused(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        reserve.accrue(asset);
        uint256 outstanding = reserve.deficit;
        if (outstanding == 0) revert Errors.NoDeficit();
        covered = amount.min(outstanding);
        reserve.deficit = uint128(outstanding - covered);
        reserve.cash = SafeCast.toUint128(reserve.cash + covered);
        emit DeficitCovered(asset, msg.sender, covered, 0);

        _pullExactly(asset, covered);
    }

    /* VIEWS */

    /// @inheritdoc ILendingPool
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
        )
    {
        uint256 userConfig = _userConfig[user];
        DataTypes.AccountData memory data = AccountLogic.accountData(
            _reserves, _reservesList, _positions[user], oracle, userConfig, new DataTypes.ReserveSnapshot[](0)
        );
        totalCollateralValue = data.totalCollateralValue;
        totalDebtValue = data.totalDebtValueRay.divUp(RAY);
        healthFactor = data.healthFactor;
        if (totalCollateralValue > 0) avgCollateralFactor = data.weightedCollateralValue * 1e14 / totalCollateralValue;
        activeCollateralCount = data.activeCollateralCount;
        borrowCount = data.borrowCount;
    }

    /// @inheritdoc ILendingPool
    function getHealthFactors(address[] calldata users) external view returns (uint256[] memory healthFactors) {
        DataTypes.ReserveSnapshot[] memory cache = new DataTypes.ReserveSnapshot[](_reservesCount);
        healthFactors = new uint256[](users.length);
        for (uint256 i; i < users.length; ++i) {
            healthFactors[i] = AccountLogic.accountData(
                _reserves, _reservesList, _positions[users[i]], oracle, _userConfig[users[i]], cache
            ).healthFactor;
        }
    }

    /// @inheritdoc ILendingPool
    function getLiquidationBonus(address collateralAsset, uint256 healthFactor) external view returns (uint256) {
        DataTypes.LiquidationConfig storage liquidationConfig = _liquidationConfig;
        return LiquidationLogic.calculateLiquidationBonus(
            _listedReserve(collateralAsset).config.maxLiquidationBonus,
            healthFactor,
            liquidationConfig.healthFactorForMaxBonus,
            liquidationConfig.liquidationBonusFactor
        );
    }

    /// @inheritdoc ILendingPool
    function getUserPosition(address user, address asset)
        external
        view
        returns (uint256 supplied, uint256 debt, bool usingAsCollateral)
    {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        (uint256 index, uint256 totalAssets) = reserve.accruedState();
        DataTypes.Position memory position = _positions[user][asset];
        supplied = uint256(position.supplyShares).toAssetsDown(totalAssets, reserve.totalSupplyShares);
        debt = uint256(position.drawnShares).rayMulUp(index);
        usingAsCollateral = _userConfig[user].isCollateral(reserve.id);
    }

    /// @inheritdoc ILendingPool
    function getUserShares(address user, address asset)
        external
        view
        returns (uint256 supplyShares, uint256 drawnShares)
    {
        DataTypes.Position memory position = _positions[user][asset];
        return (position.supplyShares, position.drawnShares);
    }

    /// @inheritdoc ILendingPool
    function getUserConfig(address user) external view returns (uint256) {
        return _userConfig[user];
    }

    /// @inheritdoc ILendingPool
    function getReserveData(address asset) external view returns (DataTypes.ReserveView memory data) {
        data = _listedReserve(asset).toView();
        try oracle.getPrice(asset) returns (uint256 price) {
            data.price = price;
        } catch {}
    }

    /// @inheritdoc ILendingPool
    function getReservesList() external view returns (address[] memory) {
        address[] memory assets = new address[](_reservesCount);
        for (uint256 id; id < assets.length; ++id) {
            assets[id] = _reservesList[id];
        }
        return assets;
    }

    /// @inheritdoc ILendingPool
    function getLiquidationConfig()
        external
        view
        returns (uint256 targetHealthFactor, uint256 healthFactorForMaxBonus, uint256 liquidationBonusFactor)
    {
        DataTypes.LiquidationConfig memory c = _liquidationConfig;
        return (c.targetHealthFactor, c.healthFactorForMaxBonus, c.liquidationBonusFactor);
    }

    /// @inheritdoc ILendingPool
    function deficit(address asset) external view returns (uint256) {
        return _reserves[asset].deficit;
    }

    /* HEALTH FACTOR */

    /// @dev Reverts if the user's borrow health factor (collateral weighted by `maxLtv`) is below 1e18.
    function _requireBorrowHealthy(address user) internal view {
        uint256 userConfig = _userConfig[user];
        DataTypes.AccountData memory account = AccountLogic.accountData(
            _reserves, _reservesList, _positions[user], oracle, userConfig, new DataTypes.ReserveSnapshot[](0)
        );
        // The borrow health factor: collateral weighted by `maxLtv` instead of `collateralFactor`.
        uint256 healthFactor = AccountLogic.healthFactor(account.weightedBorrowValue, account.totalDebtValueRay);
        if (healthFactor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD) revert Errors.HealthFactorBelowThreshold(healthFactor);
    }

    /* CHECKS */

    function _listedReserve(address asset) internal view returns (DataTypes.Reserve storage reserve) {
        reserve = _reserves[asset];
        if (!reserve.listed) revert Errors.ReserveNotListed(asset);
    }

    /// @dev Takes `amount` of `asset` from the caller, which the books already credit, and reverts unless all of it
    ///      arrived, whatever else the pool holds (fee-on-transfer tokens are not supported).
    function _pullExactly(address asset, uint256 amount) internal {
        uint256 balanceBefore = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = IERC20(asset).balanceOf(address(this)) - balanceBefore;
        if (received < amount) revert Errors.InboundTransferShortfall(asset, received, amount);
    }

    function _setUsingAsCollateral(address user, address asset, uint256 id, bool enabled) internal {
        _userConfig[user] = _userConfig[user].setCollateral(id, enabled);
        emit CollateralToggled(user, asset, enabled);
    }

    function _setLiquidationConfig(
        uint256 targetHealthFactor,
        uint256 healthFactorForMaxBonus,
        uint256 liquidationBonusFactor
    ) internal {
        ConfigValidation.validateLiquidationConfig(targetHealthFactor, healthFactorForMaxBonus, liquidationBonusFactor);
        _liquidationConfig = DataTypes.LiquidationConfig({
            targetHealthFactor: uint64(targetHealthFactor),
            healthFactorForMaxBonus: uint64(healthFactorForMaxBonus),
            liquidationBonusFactor: uint16(liquidationBonusFactor)
        });
        emit LiquidationConfigUpdated(targetHealthFactor, healthFactorForMaxBonus, liquidationBonusFactor);
    }
}
