// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {AggregatorV3Interface} from "../interfaces/AggregatorV3Interface.sol";
import {IUniswapV3Pool} from "../interfaces/IUniswapV3Pool.sol";
import {IUniswapV3TwapFeed} from "../interfaces/IUniswapV3TwapFeed.sol";
import {TickPriceLib} from "../libraries/TickPriceLib.sol";

/// @title UniswapV3TwapFeed
/// @notice The time-weighted average price of a Uniswap V3 pool's base token in its quote token (taken as
///         $1), as an 8-decimal Chainlink-style feed; the rules are in `IUniswapV3TwapFeed`'s NatSpec.
contract UniswapV3TwapFeed is IUniswapV3TwapFeed {
    /// @inheritdoc IUniswapV3TwapFeed
    uint32 public constant MIN_TWAP_WINDOW = 5 minutes;
    uint8 internal constant PRICE_DECIMALS = 8;
    uint8 internal constant MAX_TOKEN_DECIMALS = 18;

    /// @inheritdoc IUniswapV3TwapFeed
    IUniswapV3Pool public immutable pool;
    /// @inheritdoc IUniswapV3TwapFeed
    address public immutable baseToken;
    /// @inheritdoc IUniswapV3TwapFeed
    address public immutable quoteToken;
    /// @inheritdoc IUniswapV3TwapFeed
    uint32 public immutable twapWindow;
    /// @inheritdoc IUniswapV3TwapFeed
    uint32 public immutable minBlockTime;

    /// @dev Whether the base token is the pool's token0 (the pool's price is token1 per token0).
    bool internal immutable _baseIsToken0;
    /// @dev The raw price (quote units per base unit) times `_scaleUp / _scaleDown` is the 8-decimal price:
    ///      10^(baseDecimals + 8 - quoteDecimals) split into a factor and a divisor, one of them 1.
    uint256 internal immutable _scaleUp;
    uint256 internal immutable _scaleDown;

    /// @param pool_ A Uniswap V3 pool of `base_` and `quote_`.
    /// @param base_ The token priced.
    /// @param quote_ The pool's other token, a USD stablecoin assumed worth exactly $1.
    /// @param twapWindow_ The averaging window in seconds, at least `MIN_TWAP_WINDOW`.
    /// @param minBlockTime_ The chain's shortest block interval in seconds (12 on Ethereum mainnet): the pool
    ///        must keep `ceil(twapWindow_ / minBlockTime_) + 1` observations (`observationCardinalityNext`).
    /// @dev Reverts, in this order: `InvalidBlockTime`, `WindowTooShort`, `TokensNotInPool`,
    ///      `UnsupportedTokenDecimals`, `CardinalityTooLow`, `WindowNotCovered`.
    constructor(IUniswapV3Pool pool_, address base_, address quote_, uint32 twapWindow_, uint32 minBlockTime_) {
        if (minBlockTime_ == 0) revert InvalidBlockTime();
        if (twapWindow_ < MIN_TWAP_WINDOW) revert WindowTooShort(twapWindow_, MIN_TWAP_WINDOW);

        address token0 = pool_.token0();
        address token1 = pool_.token1();
        bool baseIsToken0 = base_ == token0 && quote_ == token1;
        if (!baseIsToken0 && !(base_ == token1 && quote_ == token0)) {
            revert TokensNotInPool(address(pool_), base_, quote_);
        }
        uint8 baseDecimals = _checkedDecimals(base_);
        uint8 quoteDecimals = _checkedDecimals(quote_);

        (,,,, uint16 cardinalityNext,,) = pool_.slot0();
        uint256 required = (uint256(twapWindow_) + minBlockTime_ - 1) / minBlockTime_ + 1;
        if (cardinalityNext < required) revert CardinalityTooLow(address(pool_), cardinalityNext, required);

        pool = pool_;
        baseToken = base_;
        quoteToken = quote_;
        twapWindow = twapWindow_;
        minBlockTime = minBlockTime_;
        _baseIsToken0 = baseIsToken0;
        if (baseDecimals + PRICE_DECIMALS >= quoteDecimals) {
            (_scaleUp, _scaleDown) = (10 ** (baseDecimals + PRICE_DECIMALS - quoteDecimals), 1);
        } else {
            (_scaleUp, _scaleDown) = (1, 10 ** (quoteDecimals - baseDecimals - PRICE_DECIMALS));
        }

        (bool covered,) = _meanTick(pool_, twapWindow_, 0);
        if (!covered) revert WindowNotCovered(address(pool_), twapWindow_);
    }

    /* AGGREGATOR */

    /// @inheritdoc AggregatorV3Interface
    function decimals() external pure returns (uint8) {
        return PRICE_DECIMALS;
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev "<base> / USD (Uniswap V3 TWAP, <quote> = $1)", from the tokens' `symbol()`.
    function description() external view returns (string memory) {
        return string.concat(
            IERC20Metadata(baseToken).symbol(),
            " / USD (Uniswap V3 TWAP, ",
            IERC20Metadata(quoteToken).symbol(),
            " = $1)"
        );
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev The round `roundId` is the window ending at timestamp `roundId`; reverts `RoundNotAvailable` for a
    ///      round ending in the future or reaching before the pool's kept history.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId > block.timestamp || roundId < twapWindow) revert RoundNotAvailable(roundId);
        uint256 secondsAgo = block.timestamp - roundId;
        if (secondsAgo + twapWindow > type(uint32).max) revert RoundNotAvailable(roundId);
        (bool covered, int24 tick) = _meanTick(pool, twapWindow, uint32(secondsAgo));
        if (!covered) revert RoundNotAvailable(roundId);
        return (roundId, SafeCast.toInt256(_priceAtTick(tick)), roundId - twapWindow, roundId, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    /// @dev The window ending now (rule 5): `updatedAt = block.timestamp`. An incomplete round (answer 0,
    ///      `startedAt` and `updatedAt` 0) when the pool's history no longer covers the window.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = uint80(block.timestamp);
        (bool covered, int24 tick) = _meanTick(pool, twapWindow, 0);
        if (!covered) return (roundId, 0, 0, 0, roundId);
        return (roundId, SafeCast.toInt256(_priceAtTick(tick)), block.timestamp - twapWindow, block.timestamp, roundId);
    }

    /* VIEWS */

    /// @inheritdoc IUniswapV3TwapFeed
    function priceAtTick(int24 tick) external view returns (uint256) {
        return _priceAtTick(tick);
    }

    /// @inheritdoc IUniswapV3TwapFeed
    function meanTick() external view returns (int24 tick) {
        bool covered;
        (covered, tick) = _meanTick(pool, twapWindow, 0);
        if (!covered) revert WindowNotCovered(address(pool), twapWindow);
    }

    /* INTERNAL */

    /// @dev The 8-decimal price of the base at `tick`, rounded down (one floor from the tick's exact
    ///      square-root price).
    function _priceAtTick(int24 tick) internal view returns (uint256) {
        return TickPriceLib.quoteDown(TickPriceLib.sqrtPriceX96AtTick(tick), _baseIsToken0, _scaleUp, _scaleDown);
    }

    /// @dev The mean tick of `pool_` over the `window` seconds ending `secondsAgo` seconds ago, and whether the
    ///      pool's history covers it (false only when `observe` reverts with Uniswap's `OLD`; any other
    ///      failure, an out-of-gas included, reverts with the pool's revert data).
    function _meanTick(IUniswapV3Pool pool_, uint32 window, uint32 secondsAgo)
        internal
        view
        returns (bool covered, int24 tick)
    {
        uint32[] memory secondsAgos = new uint32[](2);
        secondsAgos[0] = secondsAgo + window;
        secondsAgos[1] = secondsAgo;
        try pool_.observe(secondsAgos) returns (int56[] memory tickCumulatives, uint160[] memory) {
            return (true, TickPriceLib.meanTickDown(tickCumulatives[1] - tickCumulatives[0], window));
        } catch (bytes memory reason) {
            if (keccak256(reason) != keccak256(abi.encodeWithSignature("Error(string)", "OLD"))) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
            return (false, 0);
        }
    }

    /// @dev The token's decimals, refused above 18.
    function _checkedDecimals(address token) internal view returns (uint8 tokenDecimals) {
        tokenDecimals = IERC20Metadata(token).decimals();
        if (tokenDecimals > MAX_TOKEN_DECIMALS) revert UnsupportedTokenDecimals(token, tokenDecimals);
    }
}
