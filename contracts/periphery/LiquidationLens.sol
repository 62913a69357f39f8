// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ILendingPool} from "../interfaces/ILendingPool.sol";

/// @title LiquidationLens
/// @notice Batched health-factor reads for keepers: one `eth_call` scores hundreds of accounts, with each
///         reserve's price read once per call.
contract LiquidationLens {
    uint256 internal constant HEALTH_FACTOR_LIQUIDATION_THRESHOLD = 1e18;

    /// @notice The pool this lens reads.
    ILendingPool public immutable pool;

    /// @param pool_ The lending pool.
    constructor(address pool_) {
        pool = ILendingPool(pool_);
    }

    /// @notice Health factors (WAD; max uint for accounts without debt) of `users`, in order.
    function getHealthFactors(address[] calldata users) external view returns (uint256[] memory) {
        return pool.getHealthFactors(users);
    }

    /// @notice Every position of `users`: each user's bitmap (bit 2*id borrowing, bit 2*id+1 collateral)
    ///         and supply and drawn shares per reserve id (in `pool.getReservesList()` order).
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

    /// @notice The subset of `users` whose health factor is below 1e18, with those health factors.
    function getLiquidatable(address[] calldata users)
        external
        view
        returns (address[] memory liquidatable, uint256[] memory healthFactors)
    {
        uint256[] memory all = pool.getHealthFactors(users);
        uint256 count;
        for (uint256 i; i < all.length; ++i) {
            if (all[i] < HEALTH_FACTOR_LIQUIDATION_THRESHOLD) ++count;
        }
        liquidatable = new address[](count);
        healthFactors = new uint256[](count);
        uint256 j;
        for (uint256 i; i < all.length; ++i) {
            if (all[i] < HEALTH_FACTOR_LIQUIDATION_THRESHOLD) {
                liquidatable[j] = users[i];
                healthFactors[j] = all[i];
                ++j;
            }
        }
    }
}
