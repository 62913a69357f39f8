// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ILendingPool} from "./interfaces/ILendingPool.sol";
import {IPriceOracle} from "./interfaces/IPriceOracle.sol";
import {DataTypes} from "./libraries/DataTypes.sol";
import {Errors} from "./libraries/Errors.sol";
import {MathLib, WAD, RAY, BPS} from "./libraries/MathLib.sol";
import {SharesMathLib} from "./libraries/SharesMathLib.sol";
import {ValueLib} from "./libraries/ValueLib.sol";
import {InterestRateLib} from "./libraries/InterestRateLib.sol";
import {LiquidationLogic} from "./libraries/LiquidationLogic.sol";

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
    using SafeCast for uint256;

    /// @notice A remaining debt or collateral worth less than this ($1,000, value units) is dust.
    uint256 public constant DUST_LIQUIDATION_THRESHOLD = LiquidationLogic.DUST_LIQUIDATION_THRESHOLD;
    /// @notice Accounts below this health factor (WAD) may be liquidated.
    uint256 public constant HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD;
    /// @notice The user bitmap holds two bits per reserve.
    uint256 public constant MAX_RESERVES = 128;

    /// @dev The re-entrancy lock bit of `_feeReceiverAndLock`.
    uint256 internal constant LOCKED = 1 << 160;
    /// @dev Bits 2*id of a user bitmap: borrowing reserve id.
    uint256 internal constant BORROWING_MASK = 0x5555555555555555555555555555555555555555555555555555555555555555;

    /// @notice The price oracle.
    IPriceOracle public immutable oracle;
    /// @dev The fee receiver (bits 0-159) and the re-entrancy lock (`LOCKED`) in one slot. Every guarded call
    ///      reads the lock, so liquidations and `settleDeficit` then read the fee receiver warm: one cold
    ///      SLOAD (2,000 gas) less than two separate slots. Kept as one word so that locking and unlocking are
    ///      single writes, as in OpenZeppelin's `ReentrancyGuard`. The word is never zero (the fee receiver
    ///      is never the zero address), so locking is a non-zero-to-non-zero write, refunded on unlock.
    uint256 internal _feeReceiverAndLock;
    /// @notice May pause reserves.
    address public guardian;

    DataTypes.LiquidationConfig internal _liquidationConfig;
    mapping(address asset => DataTypes.Reserve) internal _reserves;
    address[] internal _reservesList;
    mapping(address user => mapping(address asset => DataTypes.Position)) internal _positions;
    mapping(address user => uint256) internal _userConfig;

    /// @param oracle_ The price oracle.
    /// @param feeReceiver_ The insurance fund, credited the protocol fee.
    /// @param owner_ Governance.
    /// @dev The liquidation configuration starts at target HF 1.05, max bonus at HF 0.7, bonus factor 20%.
    constructor(address oracle_, address feeReceiver_, address owner_) Ownable(owner_) {
        if (oracle_ == address(0) || feeReceiver_ == address(0)) revert Errors.ZeroAddress();
        oracle = IPriceOracle(oracle_);
        _feeReceiverAndLock = uint160(feeReceiver_);
        emit FeeReceiverUpdated(address(0), feeReceiver_);
        _setLiquidationConfig(1.05e18, 0.7e18, 20_00);
    }

    /// @dev OpenZeppelin's `ReentrancyGuard` (same `ReentrancyGuardReentrantCall` error) on the lock bit of
    ///      `_feeReceiverAndLock`. Unlocking restores the word read on entry: `setFeeReceiver` refuses to run
    ///      while the lock is held, so the fee receiver cannot have changed in between.
    modifier nonReentrant() {
        uint256 unlocked = _feeReceiverAndLock;
        if (unlocked & LOCKED != 0) revert Errors.ReentrancyGuardReentrantCall();
        _feeReceiverAndLock = unlocked | LOCKED;
        _;
        _feeReceiverAndLock = unlocked;
    }

    /* GOVERNANCE */

    /// @inheritdoc ILendingPool
    function addReserve(address asset, DataTypes.ReserveConfig calldata config) external onlyOwner {
        if (asset == address(0)) revert Errors.ZeroAddress();
        DataTypes.Reserve storage reserve = _reserves[asset];
        if (reserve.listed) revert Errors.ReserveAlreadyListed(asset);
        uint256 id = _reservesList.length;
        if (id >= MAX_RESERVES) revert Errors.TooManyReserves();
        uint8 decimals = IERC20Metadata(asset).decimals();
        if (decimals > 18) revert Errors.TooManyDecimals(decimals);
        _validateReserveConfig(config);

        _storeConfig(reserve, config);
        reserve.borrowIndex = uint128(RAY);
        reserve.lastUpdate = uint40(block.timestamp);
        reserve.id = uint8(id);
        reserve.decimals = decimals;
        reserve.listed = true;
        _reservesList.push(asset);
        emit ReserveAdded(asset, id, decimals, config);
    }

    /// @inheritdoc ILendingPool
    function updateReserveConfig(address asset, DataTypes.ReserveConfig calldata config) external onlyOwner {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _validateReserveConfig(config);
        _accrue(asset, reserve);
        _storeConfig(reserve, config);
        emit ReserveConfigUpdated(asset, config);
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
        if (msg.sender != owner() && msg.sender != guardian) revert Errors.OnlyOwnerOrGuardian(msg.sender);
        _listedReserve(asset).paused = paused;
        emit ReservePausedSet(asset, paused, msg.sender);
    }

    /// @inheritdoc ILendingPool
    function setGuardian(address newGuardian) external onlyOwner {
        emit GuardianUpdated(guardian, newGuardian);
        guardian = newGuardian;
    }

    /// @inheritdoc ILendingPool
    function setFeeReceiver(address newFeeReceiver) external onlyOwner {
        if (newFeeReceiver == address(0)) revert Errors.ZeroAddress();
        uint256 word = _feeReceiverAndLock;
        if (word & LOCKED != 0) revert Errors.ReentrancyGuardReentrantCall();
        address previous = address(uint160(word));
        // Fee shares accrued so far belong to the previous receiver.
        uint256 count = _reservesList.length;
        for (uint256 id; id < count; ++id) {
            address asset = _reservesList[id];
            _creditedPosition(previous, asset, _reserves[asset]);
        }
        emit FeeReceiverUpdated(previous, newFeeReceiver);
        _feeReceiverAndLock = uint160(newFeeReceiver);
    }

    /// @notice Receives the protocol fee as supply shares; its shares pay deficits first.
    function feeReceiver() public view returns (address) {
        return address(uint160(_feeReceiverAndLock));
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
        _requireNotPaused(asset, reserve);
        if (reserve.frozen) revert Errors.ReserveFrozen(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        (, uint256 totalAssets) = _accrueWithAssets(asset, reserve);

        shares = amount.toSharesDown(totalAssets, reserve.totalSupplyShares);
        if (shares == 0) revert Errors.InvalidAmount();
        DataTypes.Position storage position = _positions[onBehalfOf][asset];
        bool firstSupply = position.supplyShares == 0 && _accruedFeeSharesOf(onBehalfOf, reserve) == 0;
        position.supplyShares = (position.supplyShares + shares).toUint128();
        reserve.totalSupplyShares = (reserve.totalSupplyShares + shares).toUint128();
        uint256 cash = reserve.cash + amount;
        reserve.cash = cash.toUint128();
        emit Supply(asset, msg.sender, onBehalfOf, amount, shares);

        uint256 collateralBit = _collateralBit(reserve.id);
        if (firstSupply && reserve.collateralFactor > 0 && _userConfig[onBehalfOf] & collateralBit == 0) {
            _userConfig[onBehalfOf] |= collateralBit;
            emit CollateralToggled(onBehalfOf, asset, true);
        }

        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        _requireCashBacked(asset, cash);
    }

    /// @inheritdoc ILendingPool
    function withdraw(address asset, uint256 amount, address to) external nonReentrant returns (uint256 withdrawn) {
        if (to == address(0)) revert Errors.ZeroAddress();
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _requireNotPaused(asset, reserve);
        if (amount == 0) revert Errors.InvalidAmount();
        (, uint256 totalAssets) = _accrueWithAssets(asset, reserve);

        DataTypes.Position storage position = _creditedPosition(msg.sender, asset, reserve);
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

        uint256 config = _userConfig[msg.sender];
        uint256 collateralBit = _collateralBit(reserve.id);
        if (config & collateralBit != 0) {
            if (userShares == shares) {
                _userConfig[msg.sender] = config & ~collateralBit;
                emit CollateralToggled(msg.sender, asset, false);
            }
            if (config & BORROWING_MASK != 0 && reserve.collateralFactor > 0) _requireHealthy(msg.sender);
        }

        IERC20(asset).safeTransfer(to, withdrawn);
    }

    /* BORROW AND REPAY */

    /// @inheritdoc ILendingPool
    function borrow(address asset, uint256 amount) external nonReentrant returns (uint256 shares) {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _requireNotPaused(asset, reserve);
        if (reserve.frozen) revert Errors.ReserveFrozen(asset);
        if (amount == 0) revert Errors.InvalidAmount();
        uint256 index = _accrue(asset, reserve);
        if (amount > reserve.cash) revert Errors.InsufficientLiquidity(amount, reserve.cash);

        shares = amount.mulDivUp(RAY, index);
        DataTypes.Position storage position = _positions[msg.sender][asset];
        position.drawnShares = (position.drawnShares + shares).toUint128();
        reserve.totalDrawnShares = (reserve.totalDrawnShares + shares).toUint128();
        reserve.cash -= uint128(amount);
        _userConfig[msg.sender] |= _borrowingBit(reserve.id);
        emit Borrow(asset, msg.sender, amount, shares);

        _requireHealthy(msg.sender);
        IERC20(asset).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ILendingPool
    function repay(address asset, uint256 amount, address onBehalfOf) external nonReentrant returns (uint256 repaid) {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _requireNotPaused(asset, reserve);
        if (amount == 0) revert Errors.InvalidAmount();
        uint256 index = _accrue(asset, reserve);

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
        reserve.totalDrawnShares -= uint128(shares);
        uint256 cash = reserve.cash + repaid;
        reserve.cash = cash.toUint128();
        if (shares == drawnShares) _userConfig[onBehalfOf] &= ~_borrowingBit(reserve.id);
        emit Repay(asset, msg.sender, onBehalfOf, repaid, shares);

        IERC20(asset).safeTransferFrom(msg.sender, address(this), repaid);
        _requireCashBacked(asset, cash);
    }

    /// @inheritdoc ILendingPool
    function setUsingAsCollateral(address asset, bool enabled) external nonReentrant {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _requireNotPaused(asset, reserve);
        uint256 config = _userConfig[msg.sender];
        uint256 collateralBit = _collateralBit(reserve.id);
        if ((config & collateralBit != 0) == enabled) return;

        if (enabled) {
            if (reserve.frozen) revert Errors.ReserveFrozen(asset);
            if (_supplySharesOf(msg.sender, asset, reserve) == 0) revert Errors.ReserveNotSupplied();
            _userConfig[msg.sender] = config | collateralBit;
        } else {
            _userConfig[msg.sender] = config & ~collateralBit;
        }
        emit CollateralToggled(msg.sender, asset, enabled);
        if (!enabled && config & BORROWING_MASK != 0) _requireHealthy(msg.sender);
    }

    /* LIQUIDATION */

    /// @dev Everything a liquidation decides before touching storage.
    struct LiquidationPlan {
        uint256 healthFactor; // WAD, before the liquidation
        bool userIsFeeReceiver; // then its accrued fee shares count as its collateral, and the new ones go to it
        uint256 liquidationBonus;
        uint256 collateralIndex;
        uint256 debtIndex;
        LiquidationLogic.Amounts amounts;
        uint256 collateralSeized; // assets
        uint256 collateralToLiquidator; // assets
        uint256 protocolFee; // assets
        bool deficit;
    }

    /// @inheritdoc ILendingPool
    function liquidate(
        address collateralAsset,
        address debtAsset,
        address user,
        uint256 debtToCover,
        bool receiveShares
    ) external returns (uint256 debtRepaid, uint256 collateralSeized) {
        // `nonReentrant`, written out so that the plan gets the fee receiver from the word the lock read.
        uint256 unlocked = _feeReceiverAndLock;
        if (unlocked & LOCKED != 0) revert Errors.ReentrancyGuardReentrantCall();
        _feeReceiverAndLock = unlocked | LOCKED;
        (debtRepaid, collateralSeized) =
            _liquidate(collateralAsset, debtAsset, user, debtToCover, receiveShares, address(uint160(unlocked)));
        _feeReceiverAndLock = unlocked;
    }

    /// @dev `liquidate` under the lock; `fund` is the fee receiver.
    function _liquidate(
        address collateralAsset,
        address debtAsset,
        address user,
        uint256 debtToCover,
        bool receiveShares,
        address fund
    ) private returns (uint256, uint256) {
        // Validate, price and compute (a view shared with previewLiquidation).
        LiquidationPlan memory plan =
            _planLiquidation(collateralAsset, debtAsset, user, debtToCover, receiveShares, msg.sender, fund);
        LiquidationLogic.Amounts memory amounts = plan.amounts;
        DataTypes.Reserve storage collateralReserve = _reserves[collateralAsset];
        DataTypes.Reserve storage debtReserve = _reserves[debtAsset];

        // Accrue: store the indexes the plan was computed with. The fee shares are owed to the fee receiver in the
        // same write of the collateral reserve (`_storeAccrual`), unless the user is the fee receiver, whose
        // position then takes them at once below (they count for its collateral flag).
        _storeAccrual(
            collateralAsset, collateralReserve, plan.collateralIndex, plan.userIsFeeReceiver ? 0 : amounts.feeShares
        );
        _storeAccruedIndex(debtAsset, debtReserve, plan.debtIndex);

        // Collateral side: the user's shares go to the fee receiver and to (or through) the liquidator. Each slot is
        // read and written once as a whole (`_loadPair`/`_storePair`): Solidity would re-read a slot per field and
        // write `cash` and `totalSupplyShares` separately. Every new half fits 128 bits: it is a stored value minus
        // at most itself, or checked by `toUint128`. The subtractions are unchecked: the plan caps the seized shares
        // by the user's (its position plus, for the fee receiver, the accrued fee shares just credited) and the
        // repaid shares by its drawn shares, which the reserve totals include; feeShares <= seized shares.
        uint256 supplySharesLeft;
        if (plan.userIsFeeReceiver) {
            DataTypes.Position storage fundPosition = _creditedPosition(user, collateralAsset, collateralReserve);
            unchecked {
                supplySharesLeft = fundPosition.supplyShares - amounts.collateralSharesToSeize + amounts.feeShares;
            }
            fundPosition.supplyShares = supplySharesLeft.toUint128();
        } else {
            uint256 collateralPositionSlot = _positionSlot(user, collateralAsset);
            (uint256 supplyShares, uint256 drawnShares) = _loadPair(collateralPositionSlot);
            unchecked {
                supplySharesLeft = supplyShares - amounts.collateralSharesToSeize;
            }
            _storePair(collateralPositionSlot, supplySharesLeft, drawnShares);
        }
        if (receiveShares) {
            DataTypes.Position storage liquidatorPosition = _positions[msg.sender][collateralAsset];
            liquidatorPosition.supplyShares = (liquidatorPosition.supplyShares + amounts.liquidatorShares).toUint128();
        } else {
            uint256 balancesSlot = _reserveSlot(collateralReserve) + 2;
            (uint256 cash, uint256 totalShares) = _loadPair(balancesSlot);
            if (plan.collateralToLiquidator > cash) revert Errors.InsufficientLiquidity(plan.collateralToLiquidator, cash);
            unchecked {
                _storePair(balancesSlot, cash - plan.collateralToLiquidator, totalShares - amounts.liquidatorShares);
            }
        }
        if (supplySharesLeft == 0) {
            _userConfig[user] &= ~_collateralBit(collateralReserve.id);
            emit CollateralToggled(user, collateralAsset, false);
        }

        // Debt side (the same slot-wise writes).
        uint256 debtCash;
        {
            uint256 debtPositionSlot = _positionSlot(user, debtAsset);
            (uint256 supplyShares, uint256 drawnShares) = _loadPair(debtPositionSlot);
            uint256 drawnSharesLeft;
            unchecked {
                drawnSharesLeft = drawnShares - amounts.debtSharesToRepay;
            }
            _storePair(debtPositionSlot, supplyShares, drawnSharesLeft);
            uint256 debtSlot = _reserveSlot(debtReserve);
            (uint256 totalDrawnShares, uint256 reserveDeficit) = _loadPair(debtSlot + 3);
            uint256 totalSupplyShares;
            unchecked {
                _storePair(debtSlot + 3, totalDrawnShares - amounts.debtSharesToRepay, reserveDeficit);
                (debtCash, totalSupplyShares) = _loadPair(debtSlot + 2);
                // uint128 cash plus a repayment of uint128 shares times an index: cannot overflow 256 bits.
                debtCash += amounts.debtToRepay;
            }
            _storePair(debtSlot + 2, debtCash.toUint128(), totalSupplyShares);
            if (drawnSharesLeft == 0) _userConfig[user] &= ~_borrowingBit(debtReserve.id);
        }

        // No debt without collateral: write the rest off.
        if (plan.deficit) _reportDeficit(user);

        _emitLiquidationCall(collateralAsset, debtAsset, user, plan, receiveShares);

        // Interactions: collateral out, debt in.
        if (!receiveShares && plan.collateralToLiquidator > 0) {
            IERC20(collateralAsset).safeTransfer(msg.sender, plan.collateralToLiquidator);
        }
        if (amounts.debtToRepay > 0) {
            IERC20(debtAsset).safeTransferFrom(msg.sender, address(this), amounts.debtToRepay);
            _requireCashBacked(debtAsset, debtCash);
        }
        return (amounts.debtToRepay, plan.collateralSeized);
    }

    /// @inheritdoc ILendingPool
    function previewLiquidation(address collateralAsset, address debtAsset, address user, uint256 debtToCover)
        external
        view
        returns (DataTypes.LiquidationPreview memory preview)
    {
        LiquidationPlan memory plan =
            _planLiquidation(collateralAsset, debtAsset, user, debtToCover, false, msg.sender, feeReceiver());
        if (plan.collateralToLiquidator > _reserves[collateralAsset].cash) {
            revert Errors.InsufficientLiquidity(plan.collateralToLiquidator, _reserves[collateralAsset].cash);
        }
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

    /// @dev Validation in the order of protocol.md section 8, then the amounts. Reads interest accrued to
    ///      now without storing it, so `liquidate` and `previewLiquidation` compute the same numbers.
    function _planLiquidation(
        address collateralAsset,
        address debtAsset,
        address user,
        uint256 debtToCover,
        bool receiveShares,
        address liquidator,
        address fund
    ) internal view returns (LiquidationPlan memory plan) {
        DataTypes.Reserve storage collateralReserve = _reserves[collateralAsset];
        DataTypes.Reserve storage debtReserve = _reserves[debtAsset];
        if (!collateralReserve.listed) revert Errors.ReserveNotListed(collateralAsset);
        if (!debtReserve.listed) revert Errors.ReserveNotListed(debtAsset);
        if (user == liquidator) revert Errors.SelfLiquidation();
        if (debtToCover == 0) revert Errors.InvalidDebtToCover();
        if (collateralReserve.paused) revert Errors.ReservePaused(collateralAsset);
        if (debtReserve.paused) revert Errors.ReservePaused(debtAsset);
        plan.userIsFeeReceiver = user == fund;
        uint256 supplyShares = _positions[user][collateralAsset].supplyShares;
        if (plan.userIsFeeReceiver) supplyShares += collateralReserve.accruedFeeShares;
        uint256 drawnShares = _positions[user][debtAsset].drawnShares;
        if (supplyShares == 0) revert Errors.ReserveNotSupplied();
        if (drawnShares == 0) revert Errors.ReserveNotBorrowed();

        // The debt reserve is in the user's bitmap (borrowed); the collateral reserve may not be enabled.
        uint256 userConfig = _userConfig[user];
        uint256 cacheSize = _cacheSize(userConfig);
        if (cacheSize <= collateralReserve.id) cacheSize = uint256(collateralReserve.id) + 1;
        ReserveSnapshot[] memory cache = _newCache(cacheSize);
        ReserveSnapshot memory collateral = cache[collateralReserve.id];
        ReserveSnapshot memory debt = cache[debtReserve.id];
        collateral.asset = collateralAsset;
        debt.asset = debtAsset;
        DataTypes.AccountData memory account = _accountData(user, userConfig, plan.userIsFeeReceiver, cache);
        plan.healthFactor = account.healthFactor;
        if (account.healthFactor >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD) {
            revert Errors.HealthFactorNotBelowThreshold(account.healthFactor);
        }
        if (userConfig & _collateralBit(collateralReserve.id) == 0 || collateralReserve.collateralFactor == 0) {
            revert Errors.ReserveNotEnabledAsCollateral();
        }
        if (receiveShares && (collateralReserve.frozen || !collateralReserve.receiveSharesEnabled)) {
            revert Errors.CannotReceiveShares();
        }

        DataTypes.LiquidationConfig storage liquidationConfig = _liquidationConfig;
        plan.liquidationBonus = LiquidationLogic.calculateLiquidationBonus(
            collateralReserve.maxLiquidationBonus,
            account.healthFactor,
            liquidationConfig.healthFactorForMaxBonus,
            liquidationConfig.liquidationBonusFactor
        );
        uint256 collateralTotalAssets;
        (plan.collateralIndex, collateralTotalAssets) = _snapshotState(collateral, collateralReserve);
        plan.debtIndex = _snapshotIndex(debt, debtReserve);
        uint256 collateralTotalShares = collateralReserve.totalSupplyShares;

        plan.amounts = LiquidationLogic.calculateAmounts(
            LiquidationLogic.Params({
                healthFactor: account.healthFactor,
                totalDebtValueRay: account.totalDebtValueRay,
                targetHealthFactor: liquidationConfig.targetHealthFactor,
                liquidationBonus: plan.liquidationBonus,
                collateralFactor: collateralReserve.collateralFactor,
                liquidationFee: collateralReserve.liquidationFee,
                debtToCover: debtToCover,
                drawnShares: drawnShares,
                borrowIndex: plan.debtIndex,
                debtPrice: debt.price,
                debtDecimals: debtReserve.decimals,
                supplyShares: supplyShares,
                collateralPrice: collateral.price,
                collateralDecimals: collateralReserve.decimals,
                collateralTotalAssets: collateralTotalAssets,
                collateralTotalShares: collateralTotalShares
            })
        );
        plan.collateralSeized =
            plan.amounts.collateralSharesToSeize.toAssetsDown(collateralTotalAssets, collateralTotalShares);
        plan.collateralToLiquidator =
            plan.amounts.liquidatorShares.toAssetsDown(collateralTotalAssets, collateralTotalShares);
        plan.protocolFee = plan.amounts.feeShares.toAssetsDown(collateralTotalAssets, collateralTotalShares);
        // Unchecked: the amounts never exceed the user's shares (`calculateAmounts` caps both).
        unchecked {
            plan.deficit = LiquidationLogic.isDeficit(
                supplyShares - plan.amounts.collateralSharesToSeize,
                account.activeCollateralCount,
                drawnShares - plan.amounts.debtSharesToRepay,
                account.borrowCount
            );
        }
    }

    /// @dev Emits `LiquidationCall` (a function of its own to keep `liquidate`'s stack small). Encoded by hand, the
    ///      ABI encoding of `emit` is the same seven static words (~75 gas more under viaIR): the addresses come
    ///      from validated calldata and `receiveShares` is a clean bool, so every word is already canonical.
    function _emitLiquidationCall(
        address collateralAsset,
        address debtAsset,
        address user,
        LiquidationPlan memory plan,
        bool receiveShares
    ) internal {
        bytes32 topic0 = LiquidationCall.selector;
        uint256 debtRepaid = plan.amounts.debtToRepay;
        uint256 collateralSeized = plan.collateralSeized;
        uint256 protocolFee = plan.protocolFee;
        uint256 liquidationBonus = plan.liquidationBonus;
        uint256 healthFactorBefore = plan.healthFactor;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, caller()) // liquidator
            mstore(add(ptr, 0x20), debtRepaid)
            mstore(add(ptr, 0x40), collateralSeized)
            mstore(add(ptr, 0x60), protocolFee)
            mstore(add(ptr, 0x80), liquidationBonus)
            mstore(add(ptr, 0xa0), healthFactorBefore)
            mstore(add(ptr, 0xc0), receiveShares)
            log4(ptr, 0xe0, topic0, collateralAsset, debtAsset, user)
        }
    }

    /// @dev Writes off every remaining debt of `user` into the reserves' deficits.
    function _reportDeficit(address user) internal {
        uint256 config = _userConfig[user];
        uint256 borrowing = config & BORROWING_MASK;
        for (uint256 id; borrowing != 0; ++id) {
            if (borrowing & 1 != 0) {
                address asset = _reservesList[id];
                DataTypes.Reserve storage reserve = _reserves[asset];
                uint256 index = _accrue(asset, reserve);
                DataTypes.Position storage position = _positions[user][asset];
                uint256 shares = position.drawnShares;
                uint256 amount = shares.rayMulUp(index);
                position.drawnShares = 0;
                reserve.totalDrawnShares -= uint128(shares);
                reserve.deficit = (reserve.deficit + amount).toUint128();
                emit DeficitReported(user, asset, amount);
            }
            borrowing >>= 2;
        }
        _userConfig[user] = config & ~BORROWING_MASK;
    }

    /* DEFICIT */

    /// @inheritdoc ILendingPool
    function settleDeficit(address asset) external nonReentrant {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _requireNotPaused(asset, reserve);
        (, uint256 totalAssets) = _accrueWithAssets(asset, reserve);
        uint256 outstanding = reserve.deficit;
        if (outstanding == 0) revert Errors.NoDeficit();

        address fund = feeReceiver();
        DataTypes.Position storage fundPosition = _creditedPosition(fund, asset, reserve);
        uint256 fundShares = fundPosition.supplyShares;
        uint256 totalShares = reserve.totalSupplyShares;
        uint256 covered = outstanding.min(fundShares.toAssetsDown(totalAssets, totalShares));
        if (covered > 0) {
            uint256 burned = covered.toSharesUp(totalAssets, totalShares).min(fundShares);
            fundPosition.supplyShares = uint128(fundShares - burned);
            reserve.totalSupplyShares = uint128(totalShares - burned);
            emit DeficitCovered(asset, fund, covered, burned);
        }
        reserve.deficit = 0;
        uint256 socialized = outstanding - covered;
        if (socialized > 0) emit DeficitSocialized(asset, socialized);
    }

    /// @inheritdoc ILendingPool
    function coverDeficit(address asset, uint256 amount) external nonReentrant returns (uint256 covered) {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        _requireNotPaused(asset, reserve);
        if (amount == 0) revert Errors.InvalidAmount();
        _accrue(asset, reserve);
        uint256 outstanding = reserve.deficit;
        if (outstanding == 0) revert Errors.NoDeficit();
        covered = amount.min(outstanding);
        reserve.deficit = uint128(outstanding - covered);
        uint256 cash = reserve.cash + covered;
        reserve.cash = cash.toUint128();
        emit DeficitCovered(asset, msg.sender, covered, 0);

        IERC20(asset).safeTransferFrom(msg.sender, address(this), covered);
        _requireCashBacked(asset, cash);
    }

    /* PROTOCOL FEE SHARES */

    // A liquidation owes its protocol fee shares to the fee receiver in the collateral reserve's slot 1
    // (`_storeAccrual`). `_creditedPosition` moves them into the fee receiver's position before its own
    // operations use it, and every view adds them (`_supplySharesOf`).

    /// @dev The position of `user` on `asset`, with the fee shares accrued to it first credited if `user` is the
    ///      fee receiver: call before reading or changing the position in a state-changing function.
    function _creditedPosition(address user, address asset, DataTypes.Reserve storage reserve)
        internal
        returns (DataTypes.Position storage position)
    {
        position = _positions[user][asset];
        if (user != feeReceiver()) return position;
        uint256 accrued = reserve.accruedFeeShares;
        if (accrued == 0) return position;
        reserve.accruedFeeShares = 0;
        position.supplyShares = (position.supplyShares + accrued).toUint128();
    }

    /// @dev The fee shares of `asset` accrued to `user` and not yet in its position (zero unless it is the fee
    ///      receiver).
    function _accruedFeeSharesOf(address user, DataTypes.Reserve storage reserve) internal view returns (uint256) {
        return user == feeReceiver() ? reserve.accruedFeeShares : 0;
    }

    /// @dev `user`'s supply shares of `asset`, accrued fee shares included.
    function _supplySharesOf(address user, address asset, DataTypes.Reserve storage reserve)
        internal
        view
        returns (uint256)
    {
        return _positions[user][asset].supplyShares + _accruedFeeSharesOf(user, reserve);
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
        uint256 config = _userConfig[user];
        DataTypes.AccountData memory data =
            _accountData(user, config, user == feeReceiver(), _newCache(_cacheSize(config)));
        totalCollateralValue = data.totalCollateralValue;
        totalDebtValue = data.totalDebtValueRay.divUp(RAY);
        healthFactor = data.healthFactor;
        if (totalCollateralValue > 0) avgCollateralFactor = data.weightedCollateralValue * 1e14 / totalCollateralValue;
        activeCollateralCount = data.activeCollateralCount;
        borrowCount = data.borrowCount;
    }

    /// @inheritdoc ILendingPool
    function getHealthFactors(address[] calldata users) external view returns (uint256[] memory healthFactors) {
        ReserveSnapshot[] memory cache = _newCache(_reservesList.length);
        address fund = feeReceiver();
        healthFactors = new uint256[](users.length);
        for (uint256 i; i < users.length; ++i) {
            address user = users[i];
            healthFactors[i] = _accountData(user, _userConfig[user], user == fund, cache).healthFactor;
        }
    }

    /// @inheritdoc ILendingPool
    function getLiquidationBonus(address collateralAsset, uint256 healthFactor) external view returns (uint256) {
        DataTypes.LiquidationConfig memory liquidationConfig = _liquidationConfig;
        return LiquidationLogic.calculateLiquidationBonus(
            _listedReserve(collateralAsset).maxLiquidationBonus,
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
        (uint256 index, uint256 totalAssets) = _accruedState(reserve);
        supplied = _supplySharesOf(user, asset, reserve).toAssetsDown(totalAssets, reserve.totalSupplyShares);
        debt = uint256(_positions[user][asset].drawnShares).rayMulUp(index);
        usingAsCollateral = _userConfig[user] & _collateralBit(reserve.id) != 0;
    }

    /// @inheritdoc ILendingPool
    function getUserShares(address user, address asset) external view returns (uint256 supplyShares, uint256 drawnShares) {
        return (_supplySharesOf(user, asset, _reserves[asset]), _positions[user][asset].drawnShares);
    }

    /// @inheritdoc ILendingPool
    function getUserConfig(address user) external view returns (uint256) {
        return _userConfig[user];
    }

    /// @inheritdoc ILendingPool
    function getReserveData(address asset) external view returns (DataTypes.ReserveView memory data) {
        DataTypes.Reserve storage reserve = _listedReserve(asset);
        uint256 index = _currentIndex(reserve);
        data.config = _config(reserve);
        data.id = reserve.id;
        data.decimals = reserve.decimals;
        data.borrowIndex = index;
        data.lastUpdate = reserve.lastUpdate;
        data.cash = reserve.cash;
        data.totalSupplyShares = reserve.totalSupplyShares;
        data.totalDrawnShares = reserve.totalDrawnShares;
        data.totalDebt = uint256(reserve.totalDrawnShares).rayMulDown(index);
        data.deficit = reserve.deficit;
        data.totalAddedAssets = data.cash + data.totalDebt + data.deficit;
        try oracle.getPrice(asset) returns (uint256 price) {
            data.price = price;
        } catch {}
    }

    /// @inheritdoc ILendingPool
    function getReservesList() external view returns (address[] memory) {
        return _reservesList;
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

    /// @dev One reserve as a call has read it so far (a zero field: not read yet): the asset, its price, the
    ///      borrow index accrued to now and the total added assets at that index. A call keeps one per
    ///      reserve id (`_newCache`), so each price is read and each index computed once.
    struct ReserveSnapshot {
        address asset;
        uint256 price; // 8 decimals
        uint256 index; // RAY
        uint256 totalAssets;
    }

    /// @dev Empty snapshots for reserve ids below `size`.
    function _newCache(uint256 size) internal pure returns (ReserveSnapshot[] memory) {
        return new ReserveSnapshot[](size);
    }

    /// @dev The accrued index of the snapshot's reserve, computed once per snapshot.
    function _snapshotIndex(ReserveSnapshot memory snapshot, DataTypes.Reserve storage reserve)
        internal
        view
        returns (uint256 index)
    {
        index = snapshot.index;
        if (index == 0) index = snapshot.index = _currentIndex(reserve);
    }

    /// @dev The accrued index and total added assets of the snapshot's reserve, computed once per snapshot.
    function _snapshotState(ReserveSnapshot memory snapshot, DataTypes.Reserve storage reserve)
        internal
        view
        returns (uint256 index, uint256 totalAssets)
    {
        totalAssets = snapshot.totalAssets;
        if (totalAssets == 0) {
            (index, totalAssets) = _accruedState(reserve);
            snapshot.index = index;
            snapshot.totalAssets = totalAssets;
        } else {
            index = snapshot.index;
        }
    }

    /// @dev One more than the highest reserve id in a user bitmap: the cache size that covers the user.
    function _cacheSize(uint256 config) internal pure returns (uint256) {
        return config == 0 ? 0 : Math.log2(config) / 2 + 1;
    }

    /// @dev The user's collateral and debt at current prices and indexes, from its bitmap `config` (and, if it is
    ///      the fee receiver, its accrued fee shares). `cache` must cover every reserve id the user uses; it is
    ///      filled with the assets, prices and accrued state read.
    function _accountData(address user, uint256 config, bool isFeeReceiver, ReserveSnapshot[] memory cache)
        internal
        view
        returns (DataTypes.AccountData memory data)
    {
        // Unchecked: `id` < 128, the counters count reserves, and a uint128 position plus uint88 fee shares fits;
        // the value sums and every product with a price or an accrued index stay checked.
        for (uint256 id; config != 0; ) {
            if (config & 3 != 0) {
                ReserveSnapshot memory snapshot = cache[id];
                address asset = snapshot.asset;
                if (asset == address(0)) asset = snapshot.asset = _reservesList[id];
                DataTypes.Reserve storage reserve = _reserves[asset];
                DataTypes.Position storage position = _positions[user][asset];
                uint256 supplyShares = position.supplyShares;
                uint256 drawnShares = position.drawnShares;
                if (isFeeReceiver) {
                    unchecked {
                        supplyShares += reserve.accruedFeeShares;
                    }
                }
                uint256 collateralFactor = reserve.collateralFactor;
                bool isCollateral = config & 2 != 0 && supplyShares > 0 && collateralFactor > 0;
                bool isBorrowing = config & 1 != 0;
                if (isCollateral || isBorrowing) {
                    uint256 price = snapshot.price;
                    if (price == 0) price = snapshot.price = _getPrice(asset);
                    uint256 index;
                    if (isCollateral) {
                        uint256 totalAssets;
                        (index, totalAssets) = _snapshotState(snapshot, reserve);
                        uint256 value = ValueLib.toValue(
                            supplyShares.toAssetsDown(totalAssets, reserve.totalSupplyShares), reserve.decimals, price
                        );
                        data.totalCollateralValue += value;
                        data.weightedCollateralValue += MathLib.mul2(value, collateralFactor);
                        unchecked {
                            ++data.activeCollateralCount;
                        }
                    }
                    if (isBorrowing) {
                        if (index == 0) index = _snapshotIndex(snapshot, reserve);
                        data.totalDebtValueRay +=
                            ValueLib.toValue(MathLib.mul2(drawnShares, index), reserve.decimals, price);
                        unchecked {
                            ++data.borrowCount;
                        }
                    }
                }
            }
            config >>= 2;
            unchecked {
                ++id;
            }
        }
        data.healthFactor = data.totalDebtValueRay == 0
            ? type(uint256).max
            : data.weightedCollateralValue.mulDivDown(1e14 * RAY, data.totalDebtValueRay);
    }

    /// @dev `oracle.getPrice(asset)`, called in assembly in the scratch space: the same call, revert bubbling and
    ///      short-return check as the high-level call, without its memory allocation and ABI coder.
    function _getPrice(address asset) internal view returns (uint256 price) {
        IPriceOracle priceOracle = oracle;
        bytes4 selector = IPriceOracle.getPrice.selector;
        assembly ("memory-safe") {
            mstore(0, selector)
            mstore(4, asset)
            if iszero(staticcall(gas(), priceOracle, 0, 0x24, 0, 0x20)) {
                let ptr := mload(0x40)
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            if lt(returndatasize(), 0x20) { revert(0, 0) }
            price := mload(0)
        }
    }

    /// @dev Reverts if the user's health factor is below 1e18.
    function _requireHealthy(address user) internal view {
        uint256 config = _userConfig[user];
        uint256 healthFactor =
            _accountData(user, config, user == feeReceiver(), _newCache(_cacheSize(config))).healthFactor;
        if (healthFactor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD) revert Errors.HealthFactorBelowThreshold(healthFactor);
    }

    /* INTEREST */

    /// @dev The borrow index accrued to now, without storing it.
    function _currentIndex(DataTypes.Reserve storage reserve) internal view returns (uint256 index) {
        index = reserve.borrowIndex;
        uint256 lastUpdate = reserve.lastUpdate;
        // `<=` rather than `==`: some nodes run historical eth_calls with an earlier timestamp.
        if (block.timestamp <= lastUpdate) return index;
        uint256 elapsed;
        unchecked {
            elapsed = block.timestamp - lastUpdate;
        }
        uint256 rate = InterestRateLib.borrowRateRay(
            reserve, reserve.cash, uint256(reserve.totalDrawnShares).rayMulDown(index)
        );
        return InterestRateLib.accrueIndex(index, rate, elapsed);
    }

    /// @dev The borrow index accrued to now and the total added assets at that index, reading each
    ///      storage slot once.
    function _accruedState(DataTypes.Reserve storage reserve)
        internal
        view
        returns (uint256 index, uint256 totalAssets)
    {
        index = reserve.borrowIndex;
        uint256 lastUpdate = reserve.lastUpdate;
        uint256 elapsed;
        unchecked {
            elapsed = block.timestamp > lastUpdate ? block.timestamp - lastUpdate : 0;
        }
        uint256 cash = reserve.cash;
        uint256 drawnShares = reserve.totalDrawnShares;
        if (elapsed != 0) {
            uint256 rate = InterestRateLib.borrowRateRay(reserve, cash, drawnShares.rayMulDown(index));
            index = InterestRateLib.accrueIndex(index, rate, elapsed);
        }
        // Unchecked: uint128 cash and deficit, and uint128 shares times an index below 2**192 over RAY.
        unchecked {
            totalAssets = cash + drawnShares.rayMulDown(index) + reserve.deficit;
        }
    }

    /// @dev Accrues interest to now and stores it.
    function _accrue(address asset, DataTypes.Reserve storage reserve) internal returns (uint256 index) {
        index = _currentIndex(reserve);
        _storeAccruedIndex(asset, reserve, index);
    }

    /// @dev Accrues interest to now, stores it, and returns the total added assets too.
    function _accrueWithAssets(address asset, DataTypes.Reserve storage reserve)
        internal
        returns (uint256 index, uint256 totalAssets)
    {
        (index, totalAssets) = _accruedState(reserve);
        _storeAccruedIndex(asset, reserve, index);
    }

    /// @dev Stores an index computed by `_currentIndex` or `_accruedState` in this block.
    function _storeAccruedIndex(address asset, DataTypes.Reserve storage reserve, uint256 index) internal {
        _storeAccrual(asset, reserve, index, 0);
    }

    /// @dev Stores an index computed in this block and owes `feeShares` (a liquidation's protocol fee) to the fee
    ///      receiver. The fee shares are already supply shares (in `totalSupplyShares`, earning interest); they
    ///      wait in the reserve's `accruedFeeShares`, in the slot every accrual writes anyway, instead of costing
    ///      each liquidation a cold read and a write of the fee receiver's position (~5,000 gas). Should the
    ///      88-bit field overflow, everything owed is credited to that position at once.
    function _storeAccrual(address asset, DataTypes.Reserve storage reserve, uint256 index, uint256 feeShares)
        internal
    {
        uint256 storedIndex = reserve.borrowIndex;
        uint256 accruedFeeShares;
        // Unchecked: uint88 plus fee shares, which are at most a uint128 position's.
        unchecked {
            accruedFeeShares = reserve.accruedFeeShares + feeShares;
        }
        if (reserve.lastUpdate == block.timestamp && feeShares == 0) return;
        // Accrued already in this block, the index is the stored one.
        if (index != storedIndex) emit InterestAccrued(asset, index);
        if (accruedFeeShares > type(uint88).max) {
            DataTypes.Position storage fund = _positions[feeReceiver()][asset];
            fund.supplyShares = (fund.supplyShares + accruedFeeShares).toUint128();
            accruedFeeShares = 0;
        }
        _writeAccrualSlot(reserve, index.toUint128(), accruedFeeShares);
    }

    /// @dev Writes slot 1 of `reserve` with one SSTORE: Solidity would read, modify and write the slot once per
    ///      field (~350 gas more per accrual under viaIR). The layout is `DataTypes.Reserve`'s, low bits first:
    ///      `borrowIndex` (128 bits), `lastUpdate` (40, now), `accruedFeeShares` (88).
    function _writeAccrualSlot(DataTypes.Reserve storage reserve, uint128 index, uint256 accruedFeeShares) private {
        uint256 word = uint256(index) | (uint256(uint40(block.timestamp)) << 128) | (accruedFeeShares << 168);
        assembly ("memory-safe") {
            sstore(add(reserve.slot, 1), word)
        }
    }

    /* STORAGE WORDS */

    /// @dev The storage slot of `_positions[user][asset]`.
    function _positionSlot(address user, address asset) private view returns (uint256 slot) {
        DataTypes.Position storage position = _positions[user][asset];
        assembly ("memory-safe") {
            slot := position.slot
        }
    }

    /// @dev The first storage slot of `reserve` (see `DataTypes.Reserve` for the four slots).
    function _reserveSlot(DataTypes.Reserve storage reserve) private pure returns (uint256 slot) {
        assembly ("memory-safe") {
            slot := reserve.slot
        }
    }

    /// @dev The low and high 128-bit halves of a slot holding two `uint128` fields (`Position`, slots 2 and 3 of
    ///      `Reserve`), with one SLOAD.
    function _loadPair(uint256 slot) private view returns (uint256 low, uint256 high) {
        assembly ("memory-safe") {
            let word := sload(slot)
            low := and(word, 0xffffffffffffffffffffffffffffffff)
            high := shr(128, word)
        }
    }

    /// @dev Writes both halves of such a slot with one SSTORE; both must fit 128 bits.
    function _storePair(uint256 slot, uint256 low, uint256 high) private {
        assembly ("memory-safe") {
            sstore(slot, or(low, shl(128, high)))
        }
    }

    /* CHECKS */

    function _listedReserve(address asset) internal view returns (DataTypes.Reserve storage reserve) {
        reserve = _reserves[asset];
        if (!reserve.listed) revert Errors.ReserveNotListed(asset);
    }

    function _requireNotPaused(address asset, DataTypes.Reserve storage reserve) internal view {
        if (reserve.paused) revert Errors.ReservePaused(asset);
    }

    /// @dev After an inbound transfer the pool's balance must still cover the reserve's `cash` (as just stored;
    ///      `nonReentrant` keeps it unchanged through the transfer).
    function _requireCashBacked(address asset, uint256 cash) internal view {
        uint256 balance = IERC20(asset).balanceOf(address(this));
        if (balance < cash) revert Errors.InboundTransferShortfall(asset, balance, cash);
    }

    /// @dev Writes `config` into the reserve's configuration fields (slot 0, next to its identity).
    function _storeConfig(DataTypes.Reserve storage reserve, DataTypes.ReserveConfig calldata config) internal {
        reserve.collateralFactor = config.collateralFactor;
        reserve.maxLiquidationBonus = config.maxLiquidationBonus;
        reserve.liquidationFee = config.liquidationFee;
        reserve.receiveSharesEnabled = config.receiveSharesEnabled;
        reserve.paused = config.paused;
        reserve.frozen = config.frozen;
        reserve.baseRate = config.baseRate;
        reserve.slopeBelowOptimal = config.slopeBelowOptimal;
        reserve.slopeAboveOptimal = config.slopeAboveOptimal;
        reserve.optimalUtilization = config.optimalUtilization;
    }

    /// @dev The reserve's configuration as a `ReserveConfig`.
    function _config(DataTypes.Reserve storage reserve) internal view returns (DataTypes.ReserveConfig memory) {
        return DataTypes.ReserveConfig({
            collateralFactor: reserve.collateralFactor,
            maxLiquidationBonus: reserve.maxLiquidationBonus,
            liquidationFee: reserve.liquidationFee,
            receiveSharesEnabled: reserve.receiveSharesEnabled,
            paused: reserve.paused,
            frozen: reserve.frozen,
            baseRate: reserve.baseRate,
            slopeBelowOptimal: reserve.slopeBelowOptimal,
            slopeAboveOptimal: reserve.slopeAboveOptimal,
            optimalUtilization: reserve.optimalUtilization
        });
    }

    function _validateReserveConfig(DataTypes.ReserveConfig calldata config) internal pure {
        if (config.collateralFactor >= BPS) revert Errors.InvalidCollateralFactor(config.collateralFactor);
        if (config.maxLiquidationBonus < BPS) revert Errors.InvalidLiquidationBonus(config.maxLiquidationBonus);
        if (config.liquidationFee > BPS) revert Errors.InvalidLiquidationFee(config.liquidationFee);
        if (uint256(config.maxLiquidationBonus) * config.collateralFactor >= BPS * BPS - BPS + 1) {
            // ceil(maxLB * CF / 1e4) < 1e4  <=>  maxLB * CF <= 1e8 - 1e4
            revert Errors.BonusTimesCollateralFactorTooHigh(config.maxLiquidationBonus, config.collateralFactor);
        }
        if (config.optimalUtilization == 0 || config.optimalUtilization >= BPS) {
            revert Errors.InvalidOptimalUtilization(config.optimalUtilization);
        }
    }

    function _setLiquidationConfig(
        uint256 targetHealthFactor,
        uint256 healthFactorForMaxBonus,
        uint256 liquidationBonusFactor
    ) internal {
        if (targetHealthFactor < WAD || targetHealthFactor > type(uint64).max) {
            revert Errors.InvalidTargetHealthFactor(targetHealthFactor);
        }
        if (healthFactorForMaxBonus >= WAD) revert Errors.InvalidHealthFactorForMaxBonus(healthFactorForMaxBonus);
        if (liquidationBonusFactor > BPS) revert Errors.InvalidLiquidationBonusFactor(liquidationBonusFactor);
        _liquidationConfig = DataTypes.LiquidationConfig({
            targetHealthFactor: uint64(targetHealthFactor),
            healthFactorForMaxBonus: uint64(healthFactorForMaxBonus),
            liquidationBonusFactor: uint16(liquidationBonusFactor)
        });
        emit LiquidationConfigUpdated(targetHealthFactor, healthFactorForMaxBonus, liquidationBonusFactor);
    }

    function _borrowingBit(uint256 id) internal pure returns (uint256) {
        return 1 << (id << 1);
    }

    function _collateralBit(uint256 id) internal pure returns (uint256) {
        return 2 << (id << 1);
    }
}
