// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";

/// @title PriceOracle
/// @notice Maps each asset to a Chainlink feed (and optionally a second one) and returns 8-decimal prices.
/// @dev The rules, including what a stale secondary feed does, are in `IPriceOracle`'s NatSpec.
contract PriceOracle is IPriceOracle, Ownable2Step {
    uint256 internal constant PRICE_DECIMALS = 8;
    uint256 internal constant MAX_FEED_DECIMALS = 36;
    /// @dev `maxDeviationBps` must stay below 100%: a bound of 100% or more lets any secondary price pass.
    uint256 internal constant MAX_DEVIATION_BPS_LIMIT = 1e4;

    /// @dev One feed of one asset; fits one storage slot.
    struct Feed {
        AggregatorV3Interface aggregator;
        uint32 maxAge;
        uint16 maxDeviationBps; // secondary feeds only
        bool hasSecondary; // primary feeds only: spares reading the secondary's slot when there is none
    }

    mapping(address asset => Feed) internal _primary;
    mapping(address asset => Feed) internal _secondary;

    /// @param owner The account allowed to set feeds.
    constructor(address owner) Ownable(owner) {}

    /* CONFIGURATION */

    /// @inheritdoc IPriceOracle
    function setFeed(address asset, address feed, uint256 maxAge) external onlyOwner {
        uint8 decimals = _validateFeed(feed, maxAge);
        _primary[asset] = Feed({
            aggregator: AggregatorV3Interface(feed),
            maxAge: uint32(maxAge),
            maxDeviationBps: 0,
            hasSecondary: address(_secondary[asset].aggregator) != address(0)
        });
        emit FeedSet(asset, feed, maxAge, decimals);
    }

    /// @inheritdoc IPriceOracle
    function setSecondaryFeed(address asset, address feed, uint256 maxAge, uint256 maxDeviationBps)
        external
        onlyOwner
    {
        if (feed == address(0)) {
            delete _secondary[asset];
        } else {
            if (maxDeviationBps >= MAX_DEVIATION_BPS_LIMIT) revert InvalidFeedConfig();
            _validateFeed(feed, maxAge);
            _secondary[asset] = Feed({
                aggregator: AggregatorV3Interface(feed),
                maxAge: uint32(maxAge),
                maxDeviationBps: uint16(maxDeviationBps),
                hasSecondary: false
            });
        }
        _primary[asset].hasSecondary = feed != address(0);
        emit SecondaryFeedSet(asset, feed, maxAge, maxDeviationBps);
    }

    /* PRICES */

    /// @inheritdoc IPriceOracle
    function getPrice(address asset) external view returns (uint256 price) {
        Feed storage primary = _primary[asset];
        // The feed's fields, read before the calls below (after which the compiler would read the slot again).
        AggregatorV3Interface aggregator = primary.aggregator;
        uint256 maxAge = primary.maxAge;
        bool hasSecondary = primary.hasSecondary;
        if (address(aggregator) == address(0)) revert FeedNotSet(asset);

        (int256 answer, uint256 updatedAt) = _latestRound(aggregator);
        if (answer <= 0 || updatedAt == 0) revert InvalidPrice(asset, answer);
        if (!_isFresh(updatedAt, maxAge)) revert StalePrice(asset, updatedAt, maxAge);
        price = _toPriceDecimals(asset, aggregator, answer);

        if (!hasSecondary) return price;
        Feed storage secondary = _secondary[asset];
        (int256 otherAnswer, uint256 otherUpdatedAt) = _latestRound(secondary.aggregator);
        if (!_isFresh(otherUpdatedAt, secondary.maxAge)) return price; // a stale circuit breaker is skipped
        if (otherAnswer <= 0) revert InvalidPrice(asset, otherAnswer);
        uint256 otherPrice = _toPriceDecimals(asset, secondary.aggregator, otherAnswer);
        if (_exceedsDeviation(price, otherPrice, secondary.maxDeviationBps)) {
            revert PriceDeviation(asset, price, otherPrice);
        }
    }

    /// @inheritdoc IPriceOracle
    function isSecondaryFeedActive(address asset) external view returns (bool) {
        if (!_primary[asset].hasSecondary) return false;
        Feed storage secondary = _secondary[asset];
        (, uint256 updatedAt) = _latestRound(secondary.aggregator);
        return _isFresh(updatedAt, secondary.maxAge);
    }

    /* VIEWS */

    /// @inheritdoc IPriceOracle
    function getFeed(address asset) external view returns (address feed, uint256 maxAge, uint8 decimals) {
        Feed memory primary = _primary[asset];
        if (address(primary.aggregator) != address(0)) decimals = primary.aggregator.decimals();
        return (address(primary.aggregator), primary.maxAge, decimals);
    }

    /// @inheritdoc IPriceOracle
    function getSecondaryFeed(address asset)
        external
        view
        returns (address feed, uint256 maxAge, uint256 maxDeviationBps)
    {
        Feed memory secondary = _secondary[asset];
        return (address(secondary.aggregator), secondary.maxAge, secondary.maxDeviationBps);
    }

    /* INTERNAL */

    /// @dev The answer and update time of the feed's latest round. A reverting feed reverts with its data.
    function _latestRound(AggregatorV3Interface aggregator) internal view returns (int256 answer, uint256 updatedAt) {
        (, answer,, updatedAt,) = aggregator.latestRoundData();
    }

    /// @dev Whether a round updated at `updatedAt` is complete, not from the future and at most `maxAge` old.
    function _isFresh(uint256 updatedAt, uint256 maxAge) internal view returns (bool) {
        return updatedAt != 0 && updatedAt <= block.timestamp && block.timestamp - updatedAt <= maxAge;
    }

    /// @dev A positive `answer` of `aggregator` scaled to 8 decimals (down), by the decimals the feed reports now.
    function _toPriceDecimals(address asset, AggregatorV3Interface aggregator, int256 answer)
        internal
        view
        returns (uint256 price)
    {
        uint256 decimals = aggregator.decimals();
        if (decimals > MAX_FEED_DECIMALS) revert UnsupportedFeedDecimals(asset, decimals);
        price = uint256(answer);
        if (decimals > PRICE_DECIMALS) price /= 10 ** (decimals - PRICE_DECIMALS);
        else if (decimals < PRICE_DECIMALS) price *= 10 ** (PRICE_DECIMALS - decimals);
        if (price == 0) revert InvalidPrice(asset, answer);
    }

    /// @dev Whether `|a - b| * 1e4 / min(a, b) > maxDeviationBps`, compared exactly (no rounding): the bound is
    ///      relative to the smaller price, so the order of `a` and `b` does not matter.
    function _exceedsDeviation(uint256 a, uint256 b, uint256 maxDeviationBps) internal pure returns (bool) {
        (uint256 low, uint256 high) = a < b ? (a, b) : (b, a);
        return (high - low) * 1e4 > low * maxDeviationBps;
    }

    /// @dev Checks a feed's configuration and returns its decimals.
    function _validateFeed(address feed, uint256 maxAge) internal view returns (uint8 decimals) {
        if (feed == address(0) || maxAge == 0 || maxAge > type(uint32).max) revert InvalidFeedConfig();
        decimals = AggregatorV3Interface(feed).decimals();
        if (decimals > MAX_FEED_DECIMALS) revert InvalidFeedConfig();
    }
}
