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
