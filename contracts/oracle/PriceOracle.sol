// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {IPriceOracle} from "../interfaces/IPriceOracle.sol";

/// @title PriceOracle
/// @notice Maps each asset to a Chainlink feed (and optionally a second one) and returns 8-decimal prices.
contract PriceOracle is IPriceOracle, Ownable2Step {
    uint256 internal constant PRICE_DECIMALS = 8;
    uint256 internal constant MAX_FEED_DECIMALS = 36;

    /// @dev One storage slot per feed.
    struct Feed {
        address feed;
        uint32 maxAge;
        uint8 decimals;
        uint16 maxDeviationBps; // secondary feeds only
        bool hasSecondary; // primary feeds only: saves reading the secondary slot when there is none
    }

    mapping(address asset => Feed) internal _primary;
    mapping(address asset => Feed) internal _secondary;

    /// @param owner The account allowed to set feeds.
    constructor(address owner) Ownable(owner) {}

    /// @inheritdoc IPriceOracle
    function setFeed(address asset, address feed, uint256 maxAge) external onlyOwner {
        uint8 decimals = _validateFeed(feed, maxAge);
        _primary[asset] = Feed({
            feed: feed,
            maxAge: uint32(maxAge),
            decimals: decimals,
            maxDeviationBps: 0,
            hasSecondary: _secondary[asset].feed != address(0)
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
            if (maxDeviationBps > type(uint16).max) revert InvalidFeedConfig();
            uint8 decimals = _validateFeed(feed, maxAge);
            _secondary[asset] = Feed({
                feed: feed,
                maxAge: uint32(maxAge),
                decimals: decimals,
                maxDeviationBps: uint16(maxDeviationBps),
                hasSecondary: false
            });
        }
        _primary[asset].hasSecondary = feed != address(0);
        emit SecondaryFeedSet(asset, feed, maxAge, maxDeviationBps);
    }

    /// @inheritdoc IPriceOracle
    function getPrice(address asset) external view returns (uint256 price) {
        Feed storage primary = _primary[asset];
        if (primary.feed == address(0)) revert FeedNotSet(asset);
        price = _read(asset, primary);
        if (primary.hasSecondary) {
            Feed storage secondary = _secondary[asset];
            uint256 other = _read(asset, secondary);
            uint256 diff = price > other ? price - other : other - price;
            if (diff * 1e4 > price * secondary.maxDeviationBps) revert PriceDeviation(asset, price, other);
        }
    }

    /// @inheritdoc IPriceOracle
    function getFeed(address asset) external view returns (address feed, uint256 maxAge, uint8 decimals) {
        Feed memory f = _primary[asset];
        return (f.feed, f.maxAge, f.decimals);
    }

    /// @inheritdoc IPriceOracle
    function getSecondaryFeed(address asset)
        external
        view
        returns (address feed, uint256 maxAge, uint256 maxDeviationBps)
    {
        Feed memory f = _secondary[asset];
        return (f.feed, f.maxAge, f.maxDeviationBps);
    }

    /// @dev Reads a feed, checks freshness and sign, and normalises to 8 decimals.
    function _read(address asset, Feed storage f) internal view returns (uint256) {
        (, int256 answer,, uint256 updatedAt,) = AggregatorV3Interface(f.feed).latestRoundData();
        if (answer <= 0 || updatedAt == 0) revert InvalidPrice(asset, answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > f.maxAge) {
            revert StalePrice(asset, updatedAt, f.maxAge);
        }
        uint256 price = uint256(answer);
        if (f.decimals > PRICE_DECIMALS) price /= 10 ** (f.decimals - PRICE_DECIMALS);
        else if (f.decimals < PRICE_DECIMALS) price *= 10 ** (PRICE_DECIMALS - f.decimals);
        if (price == 0) revert InvalidPrice(asset, answer);
        return price;
    }

    /// @dev Checks a feed's configuration and returns its decimals.
    function _validateFeed(address feed, uint256 maxAge) internal view returns (uint8 decimals) {
        if (feed == address(0) || maxAge == 0 || maxAge > type(uint32).max) revert InvalidFeedConfig();
        decimals = AggregatorV3Interface(feed).decimals();
        if (decimals > MAX_FEED_DECIMALS) revert InvalidFeedConfig();
    }
}
