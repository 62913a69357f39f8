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
    /// @dev Bit offsets of the `Feed` fields in its storage word (Solidity's packing, low bits first).
    uint256 private constant MAX_AGE_SHIFT = 160;
    uint256 private constant DECIMALS_SHIFT = 192;
    uint256 private constant MAX_DEVIATION_SHIFT = 200;
    uint256 private constant HAS_SECONDARY = 1 << 216;

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
        uint256 primary = _feedWord(_primary[asset]);
        if (address(uint160(primary)) == address(0)) revert FeedNotSet(asset);
        price = _read(asset, primary);
        if (primary & HAS_SECONDARY != 0) {
            uint256 secondary = _feedWord(_secondary[asset]);
            uint256 other = _read(asset, secondary);
            uint256 diff = price > other ? price - other : other - price;
            if (diff * 1e4 > price * uint16(secondary >> MAX_DEVIATION_SHIFT)) {
                revert PriceDeviation(asset, price, other);
            }
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

    /// @dev The storage word of a `Feed`, read with one SLOAD: reading its fields one by one costs a warm SLOAD
    ///      (100 gas) per field under viaIR. Decoded with the `*_SHIFT` constants (the struct's layout).
    function _feedWord(Feed storage f) private view returns (uint256 word) {
        assembly ("memory-safe") {
            word := sload(f.slot)
        }
    }

    /// @dev Reads a feed (the word of its `Feed`), checks freshness and sign, and normalises to 8 decimals.
    ///      `latestRoundData` is called and decoded in assembly (~250 gas less than the ABI decoder), with the
    ///      checks the decoder makes: a failed call bubbles its revert data, short return data and a round id
    ///      that does not fit `uint80` revert without data.
    function _read(address asset, uint256 word) internal view returns (uint256) {
        int256 answer;
        uint256 updatedAt;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(224, 0xfeaf968c)) // latestRoundData()
            if iszero(staticcall(gas(), and(word, 0xffffffffffffffffffffffffffffffffffffffff), ptr, 4, ptr, 160)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            if or(
                lt(returndatasize(), 160),
                or(gt(mload(ptr), 0xffffffffffffffffffff), gt(mload(add(ptr, 128)), 0xffffffffffffffffffff))
            ) { revert(0, 0) }
            answer := mload(add(ptr, 32))
            updatedAt := mload(add(ptr, 96))
        }
        if (answer <= 0 || updatedAt == 0) revert InvalidPrice(asset, answer);
        uint256 maxAge = uint32(word >> MAX_AGE_SHIFT);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > maxAge) {
            revert StalePrice(asset, updatedAt, maxAge);
        }
        uint256 price = uint256(answer);
        uint256 decimals = uint8(word >> DECIMALS_SHIFT);
        if (decimals > PRICE_DECIMALS) price /= 10 ** (decimals - PRICE_DECIMALS);
        else if (decimals < PRICE_DECIMALS) price *= 10 ** (PRICE_DECIMALS - decimals);
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
