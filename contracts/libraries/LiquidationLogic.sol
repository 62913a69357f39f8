// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DataTypes} from "./DataTypes.sol";
import {Errors} from "./Errors.sol";
import {MathLib, WAD, RAY, BPS} from "./MathLib.sol";
import {SharesMathLib} from "./SharesMathLib.sol";
import {ValueLib} from "./ValueLib.sol";

/// @title LiquidationLogic
/// @notice The liquidation math of protocol.md sections 4-6, as pure functions with one job each.
///         The pool only gathers the inputs and applies the results.
/// @dev Units: BPS (1e4 = 100%), WAD health factors, RAY indexes, 8-decimal prices, $1 = 1e26 of value.
library LiquidationLogic {
    using MathLib for uint256;
    using SharesMathLib for uint256;

    /// @notice A remaining debt or collateral worth less than this ($1,000, value units) is dust.
    uint256 internal constant DUST_LIQUIDATION_THRESHOLD = 1000e26;

    /// @notice Everything the amount computation needs, gathered by the pool. The two reserves come as the
    ///         snapshots the health-factor pass read (interest accrued to now, prices read once).
    struct Params {
        uint256 healthFactor; // WAD, before the liquidation
        uint256 totalDebtValueRay; // value * RAY, all of the user's debt
        uint256 targetHealthFactor; // WAD
        uint256 liquidationBonus; // BPS
        uint256 liquidationFee; // BPS, of the collateral reserve
        uint256 debtToCover; // debt asset units; type(uint256).max = as much as allowed
        uint256 drawnShares; // D, the user's on the debt reserve
        uint256 supplyShares; // S, the user's on the collateral reserve
        DataTypes.ReserveSnapshot debt; // index I (RAY), price, decimals
        DataTypes.ReserveSnapshot collateral; // collateral factor, price, decimals, total assets and shares
    }

    /// @notice What a liquidation moves.
    struct Amounts {
        uint256 debtSharesToRepay; // ds
        uint256 debtToRepay; // rayMulUp(ds, I): what the liquidator pays
        uint256 collateralSharesToSeize; // cs: taken from the user
        uint256 feeShares; // credited to the fee receiver
        uint256 liquidatorShares; // cs - feeShares
    }

    /// @notice The liquidation bonus (BPS) for a health factor: a Dutch auction from the minimum
    ///         bonus just below HF 1 up to `maxLiquidationBonus` at `healthFactorForMaxBonus`.
    /// @dev minLB = floor((maxLB - 1e4) * bonusFactor / 1e4) + 1e4;
    ///      LB = minLB + floor((maxLB - minLB) * (1e18 - HF) / (1e18 - hfForMaxBonus)).
    ///      A health factor at or above 1e18 (not liquidatable) gives the minimum bonus.
    /// @param maxLiquidationBonus BPS, >= 1e4.
    /// @param healthFactor WAD.
    /// @param healthFactorForMaxBonus WAD, < 1e18.
    /// @param liquidationBonusFactor BPS, <= 1e4.
    function calculateLiquidationBonus(
        uint256 maxLiquidationBonus,
        uint256 healthFactor,
        uint256 healthFactorForMaxBonus,
        uint256 liquidationBonusFactor
    ) internal pure returns (uint256) {
        if (healthFactor <= healthFactorForMaxBonus) return maxLiquidationBonus;
        // Unchecked: 1e4 <= maxLB < 2**16 and bonusFactor <= 1e4, so minBonus <= maxLB; in the last line
        // hfForMaxBonus < HF < 1e18. Every term is small and non-negative.
        unchecked {
            uint256 minBonus = (maxLiquidationBonus - BPS) * liquidationBonusFactor / BPS + BPS;
            if (healthFactor >= WAD) return minBonus;
            return minBonus
                + (maxLiquidationBonus - minBonus) * (WAD - healthFactor) / (WAD - healthFactorForMaxBonus);
        }
    }

    /// @notice Debt (asset units times RAY, rounded up) whose repayment brings the health factor to
    ///         the target, seizing `liquidationBonus` times its value from a collateral of factor
    ///         `collateralFactor`. Solves (W - x*LB*CF) / (D - x) = THF.
    /// @dev LP = floor(LB * 1e14 * CF / 1e4) = LB * CF * 1e10 exactly (WAD);
    ///      T = ceil(totalDebtValueRay * 10**debtDecimals * (THF - HF) / ((THF - LP) * debtPrice * 1e18)).
    ///      Zero when HF >= THF. Config validation keeps LP < 1e18 <= THF.
    function calculateDebtToTargetRay(
        uint256 totalDebtValueRay,
        uint256 debtDecimals,
        uint256 debtPrice,
        uint256 targetHealthFactor,
        uint256 healthFactor,
        uint256 liquidationBonus,
        uint256 collateralFactor
    ) internal pure returns (uint256) {
        if (healthFactor >= targetHealthFactor) return 0;
        // Unchecked: LB and CF are uint16 BPS, debtDecimals <= 18, HF < THF < 2**64, and config validation keeps
        // LP < 1e18 <= THF. The product with the price stays checked.
        uint256 numerator;
        uint256 penaltyGap;
        unchecked {
            numerator = 10 ** debtDecimals * (targetHealthFactor - healthFactor);
            penaltyGap = targetHealthFactor - liquidationBonus * collateralFactor * 1e10;
        }
        return totalDebtValueRay.mulDivUp(numerator, penaltyGap * debtPrice * WAD);
    }

    /// @notice Debt shares to repay: min(ceil(T / I), floor(debtToCover * RAY / I), D), then the
    ///         debt-dust rule: if that would leave debt worth less than $1,000, repay all of it.
    /// @param debtToTargetRay T from `calculateDebtToTargetRay`.
    /// @param debtToCover The liquidator's cap (asset units); type(uint256).max means no cap.
    function calculateDebtSharesToRepay(
        uint256 debtToTargetRay,
        uint256 debtToCover,
        uint256 drawnShares,
        uint256 borrowIndex,
        uint256 debtDecimals,
        uint256 debtPrice
    ) internal pure returns (uint256 debtShares) {
        debtShares = debtToTargetRay.divUp(borrowIndex);
        if (debtToCover != type(uint256).max) {
            debtShares = debtShares.min(debtToCover.mulDivDown(RAY, borrowIndex));
        }
        debtShares = debtShares.min(drawnShares);
        if (
            debtShares < drawnShares
                && ValueLib.toValue((drawnShares - debtShares) * borrowIndex, debtDecimals, debtPrice)
                    < DUST_LIQUIDATION_THRESHOLD * RAY
        ) {
            debtShares = drawnShares;
        }
    }

    /// @notice Collateral assets (rounded down) worth `debtShares * borrowIndex` of debt plus the bonus:
    ///         floor(ds * I * dP * cUnit * LB / (dUnit * cP * 1e4 * RAY)).
    function calculateCollateralForDebt(
        uint256 debtShares,
        uint256 borrowIndex,
        uint256 debtPrice,
        uint256 debtDecimals,
        uint256 collateralPrice,
        uint256 collateralDecimals,
        uint256 liquidationBonus
    ) internal pure returns (uint256) {
        (uint256 collateralUnit, uint256 debtUnit) = _units(collateralDecimals, debtDecimals);
        return (debtShares * borrowIndex).mulDivDown(
            debtPrice * collateralUnit * liquidationBonus, collateralPrice * debtUnit * (BPS * RAY)
        );
    }

    /// @notice Debt (asset units times RAY, rounded up) that `collateralAssets` pays for at the bonus:
    ///         ceil(collateralAssets * cP * dUnit * 1e4 * RAY / (dP * cUnit * LB)).
    function calculateDebtForCollateralRay(
        uint256 collateralAssets,
        uint256 debtPrice,
        uint256 debtDecimals,
        uint256 collateralPrice,
        uint256 collateralDecimals,
        uint256 liquidationBonus
    ) internal pure returns (uint256) {
        (uint256 collateralUnit, uint256 debtUnit) = _units(collateralDecimals, debtDecimals);
        return collateralAssets.mulDivUp(
            collateralPrice * debtUnit * (BPS * RAY), debtPrice * collateralUnit * liquidationBonus
        );
    }

    /// @notice The protocol fee on the bonus part of the seized shares, rounded up for the protocol:
    ///         feeShares = ceil(cs * fee * (LB - 1e4) / (LB * 1e4)); the liquidator gets the rest. Where rounding up
    ///         would take all the seized shares, the fee is floor(cs * (LB - 1e4) / LB), the bonus part rounded
    ///         down, so the liquidator always receives at least the non-bonus part of what is seized.
    function splitProtocolFee(uint256 collateralShares, uint256 liquidationFee, uint256 liquidationBonus)
        internal
        pure
        returns (uint256 feeShares, uint256 liquidatorShares)
    {
        // Unchecked: fee <= 1e4 <= LB < 2**16, and fee * (LB - 1e4) < LB * 1e4, so feeShares <= cs.
        unchecked {
            feeShares = collateralShares.mulDivUp(liquidationFee * (liquidationBonus - BPS), liquidationBonus * BPS);
            // Rounded up, the fee could take every seized share (a single one), and a clean-up liquidation would
            // then pay the liquidator nothing: the fee is then the bonus part rounded down.
            if (feeShares == collateralShares) {
                feeShares = collateralShares * (liquidationBonus - BPS) / liquidationBonus;
            }
            liquidatorShares = collateralShares - feeShares;
        }
    }

    /// @notice Whether the liquidation leaves the user with debt and no active collateral, so that all
    ///         remaining debt must be written off as deficit.
    /// @param supplySharesAfter The user's shares left on the collateral reserve.
    /// @param activeCollateralCount The user's active collaterals before the liquidation.
    /// @param drawnSharesAfter The user's debt shares left on the debt reserve.
    /// @param borrowCount The number of reserves the user borrowed from before the liquidation.
    function isDeficit(
        uint256 supplySharesAfter,
        uint256 activeCollateralCount,
        uint256 drawnSharesAfter,
        uint256 borrowCount
    ) internal pure returns (bool) {
        return supplySharesAfter == 0 && activeCollateralCount == 1 && (drawnSharesAfter > 0 || borrowCount > 1);
    }

    /// @notice The amounts of a liquidation, protocol.md section 5 steps 1 to 6, written into `a`.
    /// @dev Reverts `MustNotLeaveDust` when `debtToCover` is below what must be repaid. `a` is the caller's struct
    ///      (its plan's), filled in place so that no second struct is allocated.
    function calculateAmounts(Params memory p, Amounts memory a) internal pure {
        DataTypes.ReserveSnapshot memory debt = p.debt;
        DataTypes.ReserveSnapshot memory collateral = p.collateral;
        // 1-2. Debt to target, capped by the liquidator's intent and the reserve debt; debt dust.
        uint256 debtToTargetRay = calculateDebtToTargetRay(
            p.totalDebtValueRay,
            debt.decimals,
            debt.price,
            p.targetHealthFactor,
            p.healthFactor,
            p.liquidationBonus,
            collateral.collateralFactor
        );
        uint256 ds = calculateDebtSharesToRepay(
            debtToTargetRay, p.debtToCover, p.drawnShares, debt.index, debt.decimals, debt.price
        );

        // 3. Collateral for that debt.
        uint256 cs = calculateCollateralForDebt(
            ds, debt.index, debt.price, debt.decimals, collateral.price, collateral.decimals, p.liquidationBonus
        ).toSharesDown(collateral.totalAssets, collateral.totalSupplyShares);

        // 4. Collateral cap and collateral dust: seize everything and recompute the debt it pays for.
        if (cs > p.supplyShares || (ds < p.drawnShares && _leavesCollateralDust(p, cs))) {
            cs = p.supplyShares;
            uint256 debtRay = calculateDebtForCollateralRay(
                cs.toAssetsUp(collateral.totalAssets, collateral.totalSupplyShares),
                debt.price,
                debt.decimals,
                collateral.price,
                collateral.decimals,
                p.liquidationBonus
            );
            ds = debtRay.divUp(debt.index);
            if (ds > p.drawnShares) {
                ds = p.drawnShares;
                cs = calculateCollateralForDebt(
                    ds,
                    debt.index,
                    debt.price,
                    debt.decimals,
                    collateral.price,
                    collateral.decimals,
                    p.liquidationBonus
                ).toSharesDown(collateral.totalAssets, collateral.totalSupplyShares).min(p.supplyShares);
            }
        }

        // 5. The liquidator must be willing to pay what this takes.
        uint256 debtToRepay = ds.rayMulUp(debt.index);
        if (p.debtToCover < debtToRepay) revert Errors.MustNotLeaveDust();

        // 6. Protocol fee on the bonus part.
        (uint256 feeShares, uint256 liquidatorShares) = splitProtocolFee(cs, p.liquidationFee, p.liquidationBonus);

        a.debtSharesToRepay = ds;
        a.debtToRepay = debtToRepay;
        a.collateralSharesToSeize = cs;
        a.feeShares = feeShares;
        a.liquidatorShares = liquidatorShares;
    }

    /// @dev 10**collateralDecimals and 10**debtDecimals (both at most 18, checked when a reserve is listed).
    function _units(uint256 collateralDecimals, uint256 debtDecimals) private pure returns (uint256, uint256) {
        unchecked {
            return (10 ** collateralDecimals, 10 ** debtDecimals);
        }
    }

    /// @dev Whether seizing `cs` of the user's collateral shares leaves a remainder worth less than $1,000.
    function _leavesCollateralDust(Params memory p, uint256 cs) private pure returns (bool) {
        if (cs >= p.supplyShares) return false;
        DataTypes.ReserveSnapshot memory collateral = p.collateral;
        uint256 remaining = (p.supplyShares - cs).toAssetsDown(collateral.totalAssets, collateral.totalSupplyShares);
        return ValueLib.toValue(remaining, collateral.decimals, collateral.price) < DUST_LIQUIDATION_THRESHOLD;
    }
}
