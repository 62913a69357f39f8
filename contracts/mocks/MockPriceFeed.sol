// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";

/// @title MockPriceFeed
/// @notice A Chainlink-compatible feed whose answer the owner sets (devnets and tests only).
/// @dev Emits Chainlink's `AnswerUpdated` and `NewRound`, so keepers can watch it like a real feed.
///      The latest round fits one storage slot.
contract MockPriceFeed is AggregatorV3Interface, Ownable {
    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Chainlink's event for a new round.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    uint8 public immutable override decimals;

    int128 internal _answer;
    uint64 internal _roundId;
    uint64 internal _updatedAt;

    /// @param decimals_ Decimals of the answers.
    /// @param initialAnswer The first answer, stamped with the deployment block's time.
    constructor(uint8 decimals_, int256 initialAnswer) Ownable(msg.sender) {
        decimals = decimals_;
        _setRound(initialAnswer, block.timestamp);
    }

    /// @notice Publishes a new answer now, as a new round.
    function setPrice(int256 answer) external onlyOwner {
        _setRound(answer, block.timestamp);
    }

    /// @notice Publishes a new round with an arbitrary `updatedAt` (0 makes an incomplete round), to test
    ///         staleness and incomplete-round handling.
    function setRoundData(int256 answer, uint256 updatedAt) external onlyOwner {
        _setRound(answer, updatedAt);
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external pure returns (string memory) {
        return "liqengine mock feed";
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 4;
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev Only the latest round is kept; any other round id returns it too.
    function getRoundData(uint80)
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return latestRoundData();
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData()
        public
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = _roundId;
        return (roundId, _answer, _updatedAt, _updatedAt, roundId);
    }

    /// @notice The latest answer (legacy Chainlink getter).
    function latestAnswer() external view returns (int256) {
        return _answer;
    }

    function _setRound(int256 answer, uint256 updatedAt) internal {
        uint64 roundId = _roundId + 1;
        _answer = SafeCast.toInt128(answer);
        _roundId = roundId;
        _updatedAt = SafeCast.toUint64(updatedAt);
        emit NewRound(roundId, msg.sender, updatedAt);
        emit AnswerUpdated(answer, roundId, updatedAt);
    }
}
