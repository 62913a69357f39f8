"""Flash liquidation: the routes from a collateral to a debt asset through the deployment's Uniswap V3
pools, their quotes, and the `FlashLiquidator` order that liquidates with no capital.

Quotes come from the deployed `QuoterV2` (`quoteExactOutput`) through `eth_call`, in one JSON-RPC batch
at the block the liquidations are simulated at, rather than from swap maths re-written in Python: the
quoter runs the pool's own code (every tick crossed, the fee, the liquidity in range), so the amount it
quotes is, to the wei, what the `FlashLiquidator`'s exact-output swap pays at that block
(tests/contracts/periphery/test_flash_liquidator.py holds that), and it costs one batch per block.

Liquidations sent in one block along the same route sell into the same pools one after another, so
each is quoted *cumulatively*: the k-th liquidation's cost is quote(d1 + ... + dk) - quote(d1 + ... +
d(k-1)), what it pays after the ones ranked before it (lower nonces, mined first). A liquidation whose
route shares a pool with an earlier one's *different* route cannot be quoted that way (the quoter
prices one path at a time), so it waits for the next block, where it is quoted on the pools as the
earlier one left them. Its `minProfit` is
that expectation less `max_slippage_bps` of what it sells, so a pool that moved against the keeper
between the simulation and inclusion makes the call revert (`ProfitBelowMinimum`) instead of selling at
a loss."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_abi.packed import encode_packed
from web3 import Web3
from web3.types import BlockIdentifier

from keeper.calls import function
from keeper.config import MODES, Settings
from keeper.deployment import Deployment
from keeper.maths import MAX_UINT256
from keeper.rpc_batch import RawCall, RpcCounter, call_many

if TYPE_CHECKING:
    from keeper.chain import ChainContext

log = logging.getLogger(__name__)

QUOTE_EXACT_OUTPUT = function("QuoterV2", "quoteExactOutput")
SLOT0 = function("UniswapV3Pool", "slot0")
FLASH_LIQUIDATE = function("FlashLiquidator", "liquidate")
ZERO_ADDRESS = "0x" + "00" * 20
FEE_UNITS = 1_000_000  # Uniswap fee tiers are in hundredths of a BPS (500 = 0.05%)

#: How the keeper pays for a liquidation: with debt tokens it holds, through a flash swap, or whichever
#: pays more (flash when it does not hold the debt token).
INVENTORY, FLASH, AUTO = MODES


@dataclass(frozen=True)
class Route:
    """How seized collateral is sold for the debt asset: one pool (`via` None), or two through `via`.
    `fee` is the tier of the pool that pays out the debt asset; `via_fee` that of the collateral/via
    pool."""

    collateral: str
    debt: str
    fee: int
    via: str | None = None
    via_fee: int = 0

    def hops(self) -> tuple[tuple[frozenset[str], int], ...]:
        """The pools in the order the exact-output path (and QuoterV2's lists) walks them: the one
        paying out the debt first."""
        if self.via is None:
            return ((frozenset((self.collateral, self.debt)), self.fee),)
        return (
            (frozenset((self.via, self.debt)), self.fee),
            (frozenset((self.collateral, self.via)), self.via_fee),
        )

    def path(self) -> bytes:
        """The exact-output path QuoterV2 takes: the debt asset first, the collateral last."""
        if self.via is None:
            return encode_packed(["address", "uint24", "address"], [self.debt, self.fee, self.collateral])
        return encode_packed(
            ["address", "uint24", "address", "uint24", "address"],
            [self.debt, self.fee, self.via, self.via_fee, self.collateral],
        )

    def pools(self) -> frozenset[tuple[frozenset[str], int]]:
        """The pools the route sells through, each as (its two tokens, its fee tier)."""
        if self.via is None:
            return frozenset({(frozenset((self.collateral, self.debt)), self.fee)})
        return frozenset(
            {
                (frozenset((self.collateral, self.via)), self.via_fee),
                (frozenset((self.via, self.debt)), self.fee),
            }
        )

    @property
    def fee_ppm(self) -> int:
        """The pool fees paid along the route, in millionths of the amount sold (compounded)."""
        if self.via is None:
            return self.fee
        return FEE_UNITS - (FEE_UNITS - self.fee) * (FEE_UNITS - self.via_fee) // FEE_UNITS

    def describe(self, symbols: Mapping[str, str]) -> str:
        hops = [symbols.get(self.collateral, self.collateral)]
        if self.via is not None:
            hops.append(f"({self.via_fee / 1e4:g}%) {symbols.get(self.via, self.via)}")
        hops.append(f"({self.fee / 1e4:g}%) {symbols.get(self.debt, self.debt)}")
        return " -> ".join(hops)


class Routes:
    """Every route between two listed assets through the deployment's pools: each direct pool (every
    fee tier), and two hops through any asset that has a pool with both."""

    def __init__(self, deployment: Deployment):
        address = {a.symbol: a.address for a in deployment.assets}
        self._pools: dict[frozenset[str], list[int]] = {}
        self.addresses: dict[tuple[frozenset[str], int], str] = {}  # (tokens, fee) -> the pool
        if deployment.uniswap is not None:
            for pool in deployment.uniswap.pools:
                pair = frozenset((address[pool.token0], address[pool.token1]))
                self._pools.setdefault(pair, []).append(pool.fee)
                self.addresses[(pair, pool.fee)] = pool.address
        self._assets = sorted({a for pair in self._pools for a in pair})

    def __bool__(self) -> bool:
        return bool(self._pools)

    def fees(self, a: str, b: str) -> list[int]:
        return self._pools.get(frozenset((a, b)), [])

    def between(self, collateral: str, debt: str) -> list[Route]:
        routes = [Route(collateral, debt, fee) for fee in self.fees(collateral, debt)]
        for via in self._assets:
            if via in (collateral, debt):
                continue
            for via_fee in self.fees(collateral, via):
                for fee in self.fees(via, debt):
                    routes.append(Route(collateral, debt, fee, via, via_fee))
        return routes


@dataclass(frozen=True)
class FlashQuote:
    """A flash liquidation as quoted: sell `amount_in` collateral along `route` for the debt to repay,
    keep `profit` (collateral units: what the pool pays the liquidator minus `amount_in`), and ask the
    contract for at least `min_profit`."""

    route: Route
    debt_to_repay: int
    amount_in: int
    profit: int
    min_profit: int
    impact_bps: int = 0  # how far the sale moves the pools' prices (the most of its hops), when measured


@dataclass(frozen=True)
class FlashRequest:
    """One liquidation to quote: its key (e.g. the intent), the pair, the debt it repays and the
    collateral the pool pays the liquidator."""

    key: str
    collateral: str
    debt: str
    debt_to_repay: int
    collateral_to_liquidator: int


class Quoter:
    """Quotes flash liquidations with the deployment's QuoterV2, one JSON-RPC batch per call."""

    def __init__(
        self,
        w3: Web3,
        quoter: str,
        routes: Routes,
        rpc: RpcCounter,
        max_slippage_bps: int,
        measure_impact: bool = False,
    ):
        """`measure_impact`: also read each pool's price (slot0) in the quote batches, so that every
        quote carries how far its sale moves the pools (`impact_bps`), for throttling."""
        self.w3 = w3
        self.quoter = Web3.to_checksum_address(quoter)
        self.routes = routes
        self.rpc = rpc
        self.max_slippage_bps = max_slippage_bps
        self.measure_impact = measure_impact

    @classmethod
    def of(cls, ctx: ChainContext, rpc: RpcCounter, settings: Settings) -> Quoter | None:
        """The quoter of a validated deployment's Uniswap section (None without one), with the
        slippage allowance and, when throttling, the impact measurement the settings ask for."""
        uniswap = ctx.deployment.uniswap
        if uniswap is None:
            return None
        return cls(
            ctx.w3,
            uniswap.quoter,
            Routes(ctx.deployment),
            rpc,
            settings.max_slippage_bps,
            measure_impact=settings.max_price_impact_bps is not None,
        )

    def _amounts_in(
        self, asks: Sequence[tuple[Route, int]], block: BlockIdentifier
    ) -> list[tuple[int, int] | None]:
        """What each (route, debt out) costs in collateral at `block`, and how far it moves the pools'
        prices (BPS; 0 unless measured); None where the quote reverts (no pool, not enough
        liquidity). One batch: the quotes, then the prices of the pools they sell into."""
        calls = [QUOTE_EXACT_OUTPUT.call(self.quoter, route.path(), amount) for route, amount in asks]
        if not calls:
            return []
        pools = (
            sorted({hop for route, _ in asks for hop in route.hops()}, key=str) if self.measure_impact else []
        )
        reads = [SLOT0.call(self.routes.addresses[hop]) for hop in pools]
        self.rpc.add()
        results = call_many(self.w3, [*calls, *reads], None, block)
        prices = {hop: r.value[0] for hop, r in zip(pools, results[len(calls) :], strict=True) if r.ok}
        out: list[tuple[int, int] | None] = []
        for (route, _), result in zip(asks, results[: len(calls)], strict=True):
            if not result.ok:
                out.append(None)
                continue
            amount_in, after = result.value[0], result.value[1]
            moves = [
                _move_bps(prices[hop], sqrt_after)
                for hop, sqrt_after in zip(route.hops(), after, strict=False)
                if hop in prices
            ]
            out.append((amount_in, max(moves, default=0)))
        return out

    def best_routes(
        self, requests: Sequence[FlashRequest], block: BlockIdentifier
    ) -> dict[str, tuple[FlashQuote, ...]]:
        """Every route of each request quoted alone at `block` (one batch), most profitable first; a
        request no route can fill is left out."""
        asks = [(req, route) for req in requests for route in self.routes.between(req.collateral, req.debt)]
        costs = self._amounts_in([(route, req.debt_to_repay) for req, route in asks], block)
        quotes: dict[str, list[FlashQuote]] = {}
        for (req, route), cost in zip(asks, costs, strict=True):
            if cost is not None:
                quotes.setdefault(req.key, []).append(self._quote(req, route, *cost))
        return {key: tuple(sorted(found, key=lambda q: -q.profit)) for key, found in quotes.items()}

    def in_sequence(
        self, ordered: Sequence[tuple[FlashRequest, Route]], block: BlockIdentifier
    ) -> dict[str, FlashQuote]:
        """Quotes of liquidations sent in this order in one block: each pays what is left after the
        ones before it on the same route sold into the pools (one batch of cumulative quotes). A
        liquidation whose cumulative quote reverts is left out."""
        totals: dict[Route, int] = {}
        asks: list[tuple[Route, int]] = []
        for req, route in ordered:
            totals[route] = totals.get(route, 0) + req.debt_to_repay
            asks.append((route, totals[route]))
        cumulative = self._amounts_in(asks, block)
        spent: dict[Route, int] = {}
        quotes: dict[str, FlashQuote] = {}
        for (req, route), total in zip(ordered, cumulative, strict=True):
            if total is None:
                continue
            total_in, impact = total
            before = spent.get(route, 0)
            spent[route] = total_in
            quotes[req.key] = self._quote(req, route, total_in - before, impact)
        return quotes

    def _quote(self, req: FlashRequest, route: Route, amount_in: int, impact_bps: int = 0) -> FlashQuote:
        profit = req.collateral_to_liquidator - amount_in
        allowance = -(-amount_in * self.max_slippage_bps // 10_000)
        return FlashQuote(route, req.debt_to_repay, amount_in, profit, max(0, profit - allowance), impact_bps)


def _move_bps(sqrt_before: int, sqrt_after: int) -> int:
    """How far a pool's price moves from `sqrt_before` to `sqrt_after` (Q64.96 square roots), in BPS of
    the price before, rounded up."""
    if sqrt_before == 0:
        return 0
    before, after = sqrt_before * sqrt_before, sqrt_after * sqrt_after
    return -(-abs(after - before) * 10_000 // before)


def flash_call(
    flash_liquidator: str, user: str, quote: FlashQuote, deadline: int, debt_to_cover: int = MAX_UINT256
) -> RawCall:
    """`FlashLiquidator.liquidate(order)`: `debt_to_cover` (max: to the target), along the quote's route,
    asking for at least its `min_profit`, in block `deadline` at the latest (soon after the one it was
    quoted at: a later one would sell into a market its quote did not see, and reverts cheaply
    instead)."""
    route = quote.route
    order = (
        route.collateral,
        route.debt,
        user,
        debt_to_cover,
        route.fee,
        route.via or ZERO_ADDRESS,
        route.via_fee,
        quote.min_profit,
        deadline,
    )
    return FLASH_LIQUIDATE.call(flash_liquidator, order)
