// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title IPriceOracle
/// @notice USD prices with 8 decimals from Chainlink-style feeds, with staleness checks and an optional
///         second feed that acts as a circuit breaker (protocol.md section 7).
/// @dev Rules of `getPrice(asset)`:
///      1. The primary feed's latest round must be complete with a positive answer (`InvalidPrice`) and at
///         most `maxAge` seconds old, not from the future (`StalePrice`).
///      2. Every answer is scaled from the `decimals()` the feed reports in the same call, not from the
///         decimals it had when it was set: a Chainlink proxy re-pointed to an aggregator of other decimals
///         keeps giving correct 8-decimal prices. A feed that now reports more than 36 decimals reverts
///         `UnsupportedFeedDecimals`.
///      3. The secondary feed, when one is set, is consulted only while it is fresh (a complete round at most
///         its own `maxAge` old, not from the future). While consulted, a non-positive answer reverts
///         `InvalidPrice` and a disagreement beyond `maxDeviationBps` reverts `PriceDeviation`. Deviation is
///         symmetric, measured against the smaller price without rounding:
///         `|primary - secondary| * 1e4 / min(primary, secondary) > maxDeviationBps` refuses the price, so
///         swapping the two feeds never changes the decision.
///      4. A stale secondary feed is skipped: the primary alone prices the asset, and
///         `isSecondaryFeedActive(asset)` turns false (a view, since `getPrice` is a view and cannot emit).
///
///      Why a stale secondary does not block (rule 4). The secondary is a cross-check of a primary that is
///      itself fresh and valid; a stale secondary carries no current evidence against it. Blocking would
///      turn the secondary's heartbeat into a kill switch for every liquidation, borrow and withdrawal of
///      the asset: a secondary that stops updating (deprecated, misconfigured `maxAge`, quiet market) would
///      stop liquidations exactly while bad debt can build up, and nobody could lift that without the
///      owner. This matters more once issue 17 adds a Uniswap V3 TWAP as secondary: the natural freshness
///      of a TWAP is its pool's last observation, which ages in a quiet pool although the TWAP is accurate.
///      What is given up: while the secondary is stale, a wrong primary is not caught. A fresh secondary
///      that answers zero or less (the evidence a primary stuck at a floor would give) still reverts.
///      Monitoring should alert on `isSecondaryFeedActive` turning false. For a TWAP secondary, note also
///      that a TWAP lags the spot price in a fast market: its `maxDeviationBps` must absorb that lag, or the
///      breaker stops liquidations during the crashes they exist for.
interface IPriceOracle {
    /// @notice No feed is configured for the asset.
    error FeedNotSet(address asset);
    /// @notice The feed's last update is older than its `maxAge`.
    error StalePrice(address asset, uint256 updatedAt, uint256 maxAge);
    /// @notice The feed answered a non-positive price or an incomplete round.
    error InvalidPrice(address asset, int256 answer);
    /// @notice The primary and secondary feeds disagree by more than `maxDeviationBps` of the smaller price.
    error PriceDeviation(address asset, uint256 primaryPrice, uint256 secondaryPrice);
    /// @notice A feed address is zero, `maxAge` is zero or too large, the feed has more than 36 decimals, or
    ///         a secondary feed's `maxDeviationBps` is 1e4 (100%) or more.
    error InvalidFeedConfig();
    /// @notice A feed now reports more decimals (`decimals`) than the oracle can scale (36).
    error UnsupportedFeedDecimals(address asset, uint256 decimals);

    /// @notice The primary feed of an asset was set.
    /// @param decimals The feed's decimals when it was set (prices are scaled by its decimals at read time).
    event FeedSet(address indexed asset, address indexed feed, uint256 maxAge, uint8 decimals);
    /// @notice The secondary feed of an asset was set (feed zero: removed).
    event SecondaryFeedSet(address indexed asset, address indexed feed, uint256 maxAge, uint256 maxDeviationBps);

    /// @notice Sets the primary feed of `asset`.
    /// @param asset The asset priced.
    /// @param feed A Chainlink `AggregatorV3Interface` quoting the asset in USD, with at most 36 decimals.
    /// @param maxAge Seconds after which the feed's answer is stale (1 to 2^32 - 1).
    function setFeed(address asset, address feed, uint256 maxAge) external;

    /// @notice Sets (or with `feed == 0` removes) the secondary feed of `asset`, the circuit breaker of the
    ///         contract's rule 3: while it is fresh, `getPrice` reverts `PriceDeviation` if the two feeds
    ///         differ by more than `maxDeviationBps` of the smaller price; while it is stale it is skipped.
    /// @param asset The asset priced.
    /// @param feed A second Chainlink-style feed for the same asset, with at most 36 decimals.
    /// @param maxAge Seconds after which the secondary's answer is stale and no longer consulted.
    /// @param maxDeviationBps The largest accepted disagreement, BPS of the smaller price; below 1e4 (100%).
    function setSecondaryFeed(address asset, address feed, uint256 maxAge, uint256 maxDeviationBps) external;

    /// @notice The price of one whole `asset` in USD with 8 decimals (feeds of other decimals are
    ///         normalised, rounding down), by the rules in the contract's NatSpec.
    /// @dev Reverts `FeedNotSet`, `StalePrice`, `InvalidPrice`, `UnsupportedFeedDecimals` or `PriceDeviation`.
    function getPrice(address asset) external view returns (uint256);

    /// @notice Whether `getPrice(asset)` currently checks the primary price against a secondary feed: true
    ///         while one is set and its latest round is complete and at most its `maxAge` old.
    function isSecondaryFeedActive(address asset) external view returns (bool);

    /// @notice The configured primary feed of `asset` (zero if none).
    /// @return feed The feed address.
    /// @return maxAge Seconds after which its answer is stale.
    /// @return decimals The decimals the feed reports now, by which `getPrice` scales it (0 if none).
    function getFeed(address asset) external view returns (address feed, uint256 maxAge, uint8 decimals);

    /// @notice The configured secondary feed of `asset` (zero if none).
    function getSecondaryFeed(address asset)
        external
        view
        returns (address feed, uint256 maxAge, uint256 maxDeviationBps);
}
