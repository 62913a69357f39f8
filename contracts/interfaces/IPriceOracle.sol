// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPriceOracle
/// @notice USD prices with 8 decimals from Chainlink-style feeds, with staleness checks and an optional
///         second feed that acts as a circuit breaker.
interface IPriceOracle {
    /// @notice No feed is configured for the asset.
    error FeedNotSet(address asset);
    /// @notice The feed's last update is older than its `maxAge`.
    error StalePrice(address asset, uint256 updatedAt, uint256 maxAge);
    /// @notice The feed answered a non-positive price or an incomplete round.
    error InvalidPrice(address asset, int256 answer);
    /// @notice The primary and secondary feeds disagree by more than `maxDeviationBps`.
    error PriceDeviation(address asset, uint256 primaryPrice, uint256 secondaryPrice);
    /// @notice A feed address is zero, `maxAge` is zero or too large, or the feed has more than 36 decimals.
    error InvalidFeedConfig();

    /// @notice The primary feed of an asset was set.
    event FeedSet(address indexed asset, address indexed feed, uint256 maxAge, uint8 decimals);
    /// @notice The secondary feed of an asset was set (feed zero: removed).
    event SecondaryFeedSet(address indexed asset, address indexed feed, uint256 maxAge, uint256 maxDeviationBps);

    /// @notice Sets the primary feed of `asset`.
    /// @param asset The asset priced.
    /// @param feed A Chainlink `AggregatorV3Interface` quoting the asset in USD.
    /// @param maxAge Seconds after which the feed's answer is stale.
    function setFeed(address asset, address feed, uint256 maxAge) external;

    /// @notice Sets (or with `feed == 0` removes) the secondary feed of `asset`. When set, `getPrice`
    ///         reverts `PriceDeviation` if the two feeds differ by more than `maxDeviationBps` of the
    ///         primary price.
    function setSecondaryFeed(address asset, address feed, uint256 maxAge, uint256 maxDeviationBps) external;

    /// @notice The price of one whole `asset` in USD with 8 decimals (feeds of other decimals are
    ///         normalised, rounding down).
    /// @dev Reverts `FeedNotSet`, `StalePrice`, `InvalidPrice` or `PriceDeviation`.
    function getPrice(address asset) external view returns (uint256);

    /// @notice The configured primary feed of `asset` (zero if none).
    function getFeed(address asset) external view returns (address feed, uint256 maxAge, uint8 decimals);

    /// @notice The configured secondary feed of `asset` (zero if none).
    function getSecondaryFeed(address asset)
        external
        view
        returns (address feed, uint256 maxAge, uint256 maxDeviationBps);
}
