// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {IUniswapV3Pool, IUniswapV3SwapCallback} from "../interfaces/IUniswapV3Pool.sol";
import {DataTypes} from "../libraries/DataTypes.sol";

/// @title FlashLiquidator
/// @notice Liquidates a position with no capital: a Uniswap V3 flash swap sends the debt asset first, the
///         callback repays the debt through `LendingPool.liquidate`, pays the pool with part of the seized
///         collateral, and the rest stays here as the owner's profit.
/// @dev Exact-output swaps, as the periphery's multi-hop exact output does them: for a direct pool one swap
///      asks for exactly the debt to repay; for two hops (collateral -> via -> debt) the first swap asks the
///      via/debt pool for the debt, and its callback asks the collateral/via pool for the via tokens it owes,
///      whose callback liquidates and pays in collateral. A callback is accepted only from the pool this
///      contract is calling at that moment (`_expectedPool`, set before each swap, cleared after). Pools are
///      found by their CREATE2 address from the factory, as the periphery finds them. Nothing is left
///      approved: the pool is approved for exactly the debt to repay, and liquidate pulls exactly that.
contract FlashLiquidator is Ownable2Step, IUniswapV3SwapCallback {
    using SafeERC20 for IERC20;

    /// @notice The init code hash of the Uniswap V3 pool (v3-core 1.0.1), as the periphery's `PoolAddress`.
    bytes32 public constant POOL_INIT_CODE_HASH = 0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54;
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;

    /// @notice The lending pool whose positions this contract liquidates.
    ILendingPool public immutable lendingPool;
    /// @notice The Uniswap V3 factory whose pools it swaps through.
    address public immutable uniswapFactory;

    /// @dev Outside a swap: the `IDLE` marker, which no pool can be (nonzero, so that setting and
    ///      restoring it around a swap rewrites a nonzero slot rather than creating and clearing one).
    address private constant IDLE = address(1);

    /// @dev The pool whose callback is due; `IDLE` outside a swap this contract started.
    address private _expectedPool = IDLE;

    /// @notice One liquidation: what to liquidate and the route its collateral is sold through.
    struct Order {
        address collateralAsset;
        address debtAsset;
        address user;
        uint256 debtToCover; // as for `LendingPool.liquidate` (type(uint256).max: to the target)
        uint24 fee; // fee tier of the pool that pays out the debt asset
        address via; // zero for a direct pool; else the middle token of a two-hop route
        uint24 viaFee; // fee tier of the collateral/via pool
        uint256 minProfit; // collateral units the call must leave here, or it reverts
        uint256 deadline; // the last block number it may run in: quoted at one block, stale after it
    }

    /// @dev What a swap callback needs to finish its step.
    struct Step {
        address collateralAsset;
        address debtAsset;
        address user;
        uint256 debtToCover;
        uint256 debtToRepay; // what the swap pays out and liquidate pulls (the pool's preview)
        uint256 collateralToLiquidator; // what liquidate pays this contract (the same preview)
        uint256 minProfit; // the order's: checked where the collateral owed to the pools is known
        address tokenOwed; // what this callback pays its pool in
        address nextPool; // two hops, first callback: the collateral/via pool to take `tokenOwed` from
    }

    /// @notice A liquidation was paid for by selling `collateralSold` of the seized collateral, and left
    ///         `profit` collateral units here.
    /// @dev The liquidation's own amounts (debt repaid, collateral seized, protocol fee) are in the pool's
    ///      `LiquidationCall` of the same transaction: collateral received = seized - fee = sold + profit.
    event FlashLiquidation(
        address indexed user,
        address indexed collateralAsset,
        address indexed debtAsset,
        uint256 collateralSold,
        uint256 profit
    );
    /// @notice The owner moved `amount` of `token` out.
    event ProfitWithdrawn(address indexed token, address indexed to, uint256 amount);

    /// @notice A swap callback came from `caller`, which is not the pool this contract is calling.
    error UnexpectedCallback(address caller);
    /// @notice The liquidation left `profit` collateral units, less than the `minProfit` asked for.
    error ProfitBelowMinimum(uint256 profit, uint256 minProfit);
    /// @notice The seized collateral (`received`) does not cover what the swap costs (`owed`).
    error CollateralShortOfSwap(uint256 received, uint256 owed);
    /// @notice The pool paid out `received` instead of the exact `expected` (not enough liquidity).
    error IncompleteSwap(uint256 received, uint256 expected);
    /// @notice A zero address where a token, pool or recipient is needed.
    error ZeroAddress();
    /// @notice The order runs in block `blockNumber`, after its `deadline`: its quote is stale.
    error OrderExpired(uint256 blockNumber, uint256 deadline);

    /// @param lendingPool_ The lending pool.
    /// @param uniswapFactory_ The Uniswap V3 factory.
    /// @param owner_ The keeper's account: the only caller of `liquidate` and `withdraw`.
    constructor(ILendingPool lendingPool_, address uniswapFactory_, address owner_) Ownable(owner_) {
        if (address(lendingPool_) == address(0) || uniswapFactory_ == address(0)) revert ZeroAddress();
        lendingPool = lendingPool_;
        uniswapFactory = uniswapFactory_;
    }

    /// @notice Liquidates `order.user` with no capital and keeps the collateral left after the swap.
    /// @dev Fails first, and cheaply, where the liquidation can no longer go as quoted: an order mined after
    ///      its `deadline` block (the market has moved since its quote) reverts `OrderExpired`, and the pool's
    ///      preview reverts (`HealthFactorNotBelowThreshold` after a lost race) before any swap.
    ///      The profit (collateral units left here) is in the `FlashLiquidation` event.
    function liquidate(Order calldata order) external onlyOwner {
        if (block.number > order.deadline) revert OrderExpired(block.number, order.deadline);
        DataTypes.LiquidationPreview memory preview = lendingPool.previewLiquidation(
            order.collateralAsset, order.debtAsset, order.user, order.debtToCover
        );
        Step memory step = Step({
            collateralAsset: order.collateralAsset,
            debtAsset: order.debtAsset,
            user: order.user,
            debtToCover: order.debtToCover,
            debtToRepay: preview.debtToRepay,
            collateralToLiquidator: preview.collateralToLiquidator,
            minProfit: order.minProfit,
            tokenOwed: order.collateralAsset,
            nextPool: address(0)
        });
        address payer = order.collateralAsset;
        if (order.via != address(0)) {
            step.tokenOwed = order.via;
            step.nextPool = poolFor(order.collateralAsset, order.via, order.viaFee);
            payer = order.via;
        }
        _swapExactOutput(poolFor(payer, order.debtAsset, order.fee), payer, order.debtAsset, preview.debtToRepay, step);
    }

    /// @inheritdoc IUniswapV3SwapCallback
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata data) external {
        if (msg.sender != _expectedPool) revert UnexpectedCallback(msg.sender);
        Step memory step = abi.decode(data, (Step));
        uint256 owed = uint256(amount0Delta > 0 ? amount0Delta : amount1Delta);
        if (step.nextPool != address(0)) {
            // Two hops, first callback: take the via tokens owed from the collateral/via pool.
            (address via, address next) = (step.tokenOwed, step.nextPool);
            step.tokenOwed = step.collateralAsset;
            step.nextPool = address(0);
            _swapExactOutput(next, step.collateralAsset, via, owed, step);
            IERC20(via).safeTransfer(msg.sender, owed);
            return;
        }
        _liquidateAndPay(step, owed);
    }

    /// @notice Moves `amount` of `token` (profit) to `to`.
    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert ZeroAddress();
        IERC20(token).safeTransfer(to, amount);
        emit ProfitWithdrawn(token, to, amount);
    }

    /// @notice The Uniswap V3 pool of two tokens at a fee tier (its CREATE2 address; it may not exist).
    function poolFor(address tokenA, address tokenB, uint24 fee) public view returns (address) {
        (address token0, address token1) = tokenA < tokenB ? (tokenA, tokenB) : (tokenB, tokenA);
        bytes32 salt = keccak256(abi.encode(token0, token1, fee));
        bytes32 digest = keccak256(abi.encodePacked(hex"ff", uniswapFactory, salt, POOL_INIT_CODE_HASH));
        return address(uint160(uint256(digest)));
    }

    /// @dev Asks `pool` for exactly `amountOut` of `tokenOut` against `tokenIn`; the callback pays.
    function _swapExactOutput(address pool, address tokenIn, address tokenOut, uint256 amountOut, Step memory step)
        internal
    {
        bool zeroForOne = tokenIn < tokenOut;
        address outer = _expectedPool;
        _expectedPool = pool;
        (int256 amount0, int256 amount1) = IUniswapV3Pool(pool).swap(
            address(this),
            zeroForOne,
            -int256(amountOut),
            zeroForOne ? MIN_SQRT_RATIO_PLUS_ONE : MAX_SQRT_RATIO_MINUS_ONE,
            abi.encode(step)
        );
        _expectedPool = outer;
        uint256 received = uint256(-(zeroForOne ? amount1 : amount0));
        if (received != amountOut) revert IncompleteSwap(received, amountOut);
    }

    /// @dev With the debt asset in hand: liquidates, then pays the calling pool `owed` collateral. The pool pulls
    ///      exactly the previewed debt (the approval returns to zero) and pays exactly the previewed collateral:
    ///      the preview ran on the same state in the same transaction (plain ERC20s: the pool refuses
    ///      fee-on-transfer tokens).
    function _liquidateAndPay(Step memory step, uint256 owed) internal {
        IERC20(step.debtAsset).forceApprove(address(lendingPool), step.debtToRepay);
        lendingPool.liquidate(step.collateralAsset, step.debtAsset, step.user, step.debtToCover, false);
        uint256 received = step.collateralToLiquidator;
        if (received < owed) revert CollateralShortOfSwap(received, owed);
        uint256 profit = received - owed;
        if (profit < step.minProfit) revert ProfitBelowMinimum(profit, step.minProfit);
        IERC20(step.collateralAsset).safeTransfer(msg.sender, owed);
        emit FlashLiquidation(step.user, step.collateralAsset, step.debtAsset, owed, profit);
    }
}
