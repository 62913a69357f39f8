// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";

/// @dev The pool's oracle getter (`LendingPool.oracle`), which `ILendingPool` does not declare.
interface IPoolOracle {
    /// @notice The price oracle the pool reads.
    function oracle() external view returns (IPriceOracle);
}

/// @title LiquidationLens
/// @notice Batched health-factor reads for keepers: one `eth_call` scores hundreds of accounts, with each
///         reserve's price read once per call.
/// @dev An account whose health factor cannot be read (a price read of a reserve it uses reverts: stale,
///      invalid, deviating, or a feed that reverts) does not make the batch fail. The lens probes each
///      reserve's price first, reads the accounts that use a reserve whose price reverts one by one, and the
///      others as one pool batch (one by one if that batch reverts for another reason). An account whose own
///      read reverts is unreadable:
///      - `getHealthFactorsChecked` returns `ok[i] == false` and `UNREADABLE_HEALTH_FACTOR`;
///      - `getHealthFactors` returns `UNREADABLE_HEALTH_FACTOR` in its place;
///      - `getLiquidatable` leaves it out; `getLiquidatableChecked` lists it in `unreadable`.
///      `UNREADABLE_HEALTH_FACTOR` is `type(uint256).max - 1`: not below 1e18, so a consumer that only
///      compares with 1e18 never takes an unreadable account for a liquidatable one, and not the
///      `type(uint256).max` of an account without debt. A call given too little gas for its pool calls
///      reverts `InsufficientGas` rather than report accounts as unreadable.
contract LiquidationLens {
    uint256 internal constant HEALTH_FACTOR_LIQUIDATION_THRESHOLD = 1e18;

    /// @notice A pool call failed by running out of gas: the call needs more gas, the accounts are not at fault.
    error InsufficientGas();

    /// @notice What the health-factor views return for an account whose health factor cannot be read.
    uint256 public constant UNREADABLE_HEALTH_FACTOR = type(uint256).max - 1;

    /// @notice The pool this lens reads.
    ILendingPool public immutable pool;
    /// @notice The pool's price oracle, probed to find the reserves whose price read reverts.
    IPriceOracle public immutable oracle;

    /// @param pool_ The lending pool.
    constructor(address pool_) {
        pool = ILendingPool(pool_);
        oracle = IPoolOracle(pool_).oracle();
    }

    /// @notice Health factors (WAD; max uint for accounts without debt) of `users`, in order;
    ///         `UNREADABLE_HEALTH_FACTOR` for an account whose health factor cannot be read.
    function getHealthFactors(address[] calldata users) external view returns (uint256[] memory healthFactors) {
        (healthFactors,) = _healthFactors(users);
    }

    /// @notice Health factors of `users`, in order, and whether each could be read.
    /// @return healthFactors WAD; max uint for accounts without debt; `UNREADABLE_HEALTH_FACTOR` where `ok` is false.
    /// @return ok False for an account whose health factor read reverts (e.g. a stale price of a reserve it uses).
    function getHealthFactorsChecked(address[] calldata users)
        external
        view
        returns (uint256[] memory healthFactors, bool[] memory ok)
    {
        return _healthFactors(users);
    }

    /// @notice Every position of `users`: each user's bitmap (bit 2*id borrowing, bit 2*id+1 collateral)
    ///         and supply and drawn shares per reserve id (in `pool.getReservesList()` order). Reads no price.
    function getPositions(address[] calldata users)
        external
        view
        returns (uint256[] memory configs, uint256[][] memory supplyShares, uint256[][] memory drawnShares)
    {
        address[] memory reserves = pool.getReservesList();
        configs = new uint256[](users.length);
        supplyShares = new uint256[][](users.length);
        drawnShares = new uint256[][](users.length);
        for (uint256 i; i < users.length; ++i) {
            supplyShares[i] = new uint256[](reserves.length);
            drawnShares[i] = new uint256[](reserves.length);
            for (uint256 id; id < reserves.length; ++id) {
                (supplyShares[i][id], drawnShares[i][id]) = pool.getUserShares(users[i], reserves[id]);
            }
            configs[i] = pool.getUserConfig(users[i]);
        }
    }

    /// @notice The subset of `users` whose health factor is below 1e18, with those health factors, in input
    ///         order. An account whose health factor cannot be read is not in it.
    function getLiquidatable(address[] calldata users)
        external
        view
        returns (address[] memory liquidatable, uint256[] memory healthFactors)
    {
        (uint256[] memory all, bool[] memory ok) = _healthFactors(users);
        (liquidatable, healthFactors) = _belowThreshold(users, all, ok);
    }

    /// @notice As `getLiquidatable`, plus the accounts whose health factor cannot be read, in input order.
    function getLiquidatableChecked(address[] calldata users)
        external
        view
        returns (address[] memory liquidatable, uint256[] memory healthFactors, address[] memory unreadable)
    {
        (uint256[] memory all, bool[] memory ok) = _healthFactors(users);
        (liquidatable, healthFactors) = _belowThreshold(users, all, ok);
        unreadable = _select(users, ok, false);
    }

    /// @dev The pool's health factors of `users`. The lens first probes each reserve's price. When every price
    ///      answers, the whole batch is one pool call. Otherwise, and if that call reverts for another reason,
    ///      `_healthFactorsAroundFailures` reads them.
    function _healthFactors(address[] calldata users)
        internal
        view
        returns (uint256[] memory healthFactors, bool[] memory ok)
    {
        uint256 unpricedBits = _unpricedReserveBits();
        if (unpricedBits == 0) {
            bool success;
            (success, healthFactors) = _tryPoolBatch(users);
            if (success) {
                ok = new bool[](users.length);
                for (uint256 i; i < users.length; ++i) {
                    ok[i] = true;
                }
                return (healthFactors, ok);
            }
        }
        return _healthFactorsAroundFailures(users, unpricedBits);
    }

    /// @dev The accounts that use (borrow or have the collateral flag on) a reserve among `unpricedBits` are
    ///      read one by one; the others as one pool batch (each price read once), or one by one if that batch
    ///      reverts too. An account whose own read reverts gets `ok[i] == false` and `UNREADABLE_HEALTH_FACTOR`.
    function _healthFactorsAroundFailures(address[] calldata users, uint256 unpricedBits)
        internal
        view
        returns (uint256[] memory healthFactors, bool[] memory ok)
    {
        bool[] memory suspect = new bool[](users.length);
        if (unpricedBits != 0) {
            for (uint256 i; i < users.length; ++i) {
                suspect[i] = pool.getUserConfig(users[i]) & unpricedBits != 0;
            }
        }
        (bool success, uint256[] memory batch) = _tryPoolBatch(_select(users, suspect, false));
        healthFactors = new uint256[](users.length);
        ok = new bool[](users.length);
        uint256 j;
        for (uint256 i; i < users.length; ++i) {
            if (success && !suspect[i]) {
                (healthFactors[i], ok[i]) = (batch[j++], true);
            } else {
                (healthFactors[i], ok[i]) = _tryPoolOne(users[i]);
            }
        }
    }

    /// @dev `pool.getHealthFactors(users)`, or `success == false` if it reverts (not for lack of gas).
    function _tryPoolBatch(address[] memory users)
        internal
        view
        returns (bool success, uint256[] memory healthFactors)
    {
        uint256 gasBefore = gasleft();
        try pool.getHealthFactors(users) returns (uint256[] memory all) {
            return (true, all);
        } catch {
            _revertIfOutOfGas(gasBefore);
        }
    }

    /// @dev One account's health factor, or `UNREADABLE_HEALTH_FACTOR` and `ok == false` if its read reverts.
    function _tryPoolOne(address user) internal view returns (uint256 healthFactor, bool ok) {
        address[] memory one = new address[](1);
        one[0] = user;
        uint256[] memory single;
        (ok, single) = _tryPoolBatch(one);
        healthFactor = ok ? single[0] : UNREADABLE_HEALTH_FACTOR;
    }

    /// @dev The user-bitmap bits (borrowing and collateral) of every reserve whose `oracle.getPrice` reverts.
    function _unpricedReserveBits() internal view returns (uint256 bits) {
        address[] memory reserves = pool.getReservesList();
        for (uint256 id; id < reserves.length; ++id) {
            if (!_isPriced(reserves[id])) bits |= 3 << (2 * id);
        }
    }

    /// @dev Whether `oracle.getPrice(asset)` answers a price now (the pool's views treat a zero as no price).
    function _isPriced(address asset) internal view returns (bool) {
        uint256 gasBefore = gasleft();
        try oracle.getPrice(asset) returns (uint256 price) {
            return price > 0;
        } catch {
            _revertIfOutOfGas(gasBefore);
            return false;
        }
    }

    /// @dev The entries of `users` whose `flags` entry equals `flag`, in order.
    function _select(address[] calldata users, bool[] memory flags, bool flag)
        internal
        pure
        returns (address[] memory selected)
    {
        uint256 count;
        for (uint256 i; i < users.length; ++i) {
            if (flags[i] == flag) ++count;
        }
        selected = new address[](count);
        uint256 j;
        for (uint256 i; i < users.length; ++i) {
            if (flags[i] == flag) selected[j++] = users[i];
        }
    }

    /// @dev Reverts `InsufficientGas` if a call that just failed had used nearly all the gas it was given
    ///      (a call receives at most 63/64 of `gasBefore`): it ran out of gas, which says nothing of the account.
    function _revertIfOutOfGas(uint256 gasBefore) internal view {
        if (gasleft() < gasBefore / 63) revert InsufficientGas();
    }

    /// @dev The readable accounts among `users` whose health factor is below 1e18, with those health factors.
    function _belowThreshold(address[] calldata users, uint256[] memory all, bool[] memory ok)
        internal
        pure
        returns (address[] memory liquidatable, uint256[] memory healthFactors)
    {
        uint256 count;
        for (uint256 i; i < all.length; ++i) {
            if (ok[i] && all[i] < HEALTH_FACTOR_LIQUIDATION_THRESHOLD) ++count;
        }
        liquidatable = new address[](count);
        healthFactors = new uint256[](count);
        uint256 j;
        for (uint256 i; i < all.length; ++i) {
            if (ok[i] && all[i] < HEALTH_FACTOR_LIQUIDATION_THRESHOLD) {
                liquidatable[j] = users[i];
                healthFactors[j] = all[i];
                ++j;
            }
        }
    }
}
