// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title MockAggregatorProxy
/// @notice A feed that forwards every read to an aggregator the owner can replace, as Chainlink's
///         `EACAggregatorProxy` does with `confirmAggregator` (devnets and tests only). The new aggregator may
///         report other decimals, so the proxy's `decimals()` can change after an oracle has stored the feed.
contract MockAggregatorProxy is AggregatorV3Interface, Ownable {
    /// @notice The aggregator every read is forwarded to was replaced.
    event AggregatorConfirmed(address indexed previous, address indexed latest);

    /// @notice The aggregator reads are forwarded to.
    AggregatorV3Interface public aggregator;

    /// @param aggregator_ The first aggregator.
    constructor(address aggregator_) Ownable(msg.sender) {
        aggregator = AggregatorV3Interface(aggregator_);
        emit AggregatorConfirmed(address(0), aggregator_);
    }

    /// @notice Forwards every read to `aggregator_` from now on.
    function confirmAggregator(address aggregator_) external onlyOwner {
        emit AggregatorConfirmed(address(aggregator), aggregator_);
        aggregator = AggregatorV3Interface(aggregator_);
    }

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return aggregator.decimals();
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return aggregator.description();
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external view returns (uint256) {
        return aggregator.version();
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        return aggregator.getRoundData(roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return aggregator.latestRoundData();
    }
}
