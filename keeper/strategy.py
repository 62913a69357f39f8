"""Ranking and profit: for each liquidatable account, the best (collateral, debt) pair by
`previewLiquidation`, scored as the collateral's value to the liquidator minus the debt repaid minus
worst-case gas; then the profit gate and the switch that clears dust and deficits anyway.

How a liquidation is paid for is the `mode` (keeper/flash.py): `inventory` repays with debt tokens the
keeper holds and values what it receives at the oracle; `flash` sells the seized collateral through
Uniswap V3 in the same transaction, and its revenue is the collateral left after the swap the quoter
prices at the simulation block (pool fee and price impact included); `auto` takes the flash route when
the keeper does not hold the debt token or the flash route pays more."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from web3 import Web3
from web3.types import BlockIdentifier

from keeper import maths
from keeper.bidding import bid_cost_usd
from keeper.calls import function
from keeper.config import Settings
from keeper.contracts import Contracts
from keeper.flash import AUTO, FLASH, INVENTORY, FlashQuote, FlashRequest, Quoter, Route
from keeper.model import PoolModel, Reserve
from keeper.rpc_batch import RpcCounter, call_many

if TYPE_CHECKING:
    from keeper.chain import ChainContext

log = logging.getLogger(__name__)

MAX_UINT256 = maths.MAX_UINT256
PREVIEW_LIQUIDATION = function("LendingPool", "previewLiquidation")


@dataclass(frozen=True)
class Preview:
    """The pool's `LiquidationPreview` struct, field for field in ABI order (tests/keeper/test_calls.py
    holds the names to the ABI)."""

    health_factor: int
    liquidation_bonus: int
    debt_to_repay: int
    collateral_to_seize: int
    collateral_to_liquidator: int
    protocol_fee: int
    deficit: bool


@dataclass(frozen=True)
class FlashRoom:
    """How many more flash liquidations the next blocks can take (`count`), and the accounts whose
    liquidation is already queued for them (`queued`: neither quoted again nor counted)."""

    count: int
    queued: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Opportunity:
    user: str
    collateral: Reserve
    debt: Reserve
    preview: Preview
    health_factor: int
    revenue_usd: Decimal  # collateral to the liquidator minus debt repaid, before gas
    gas_cost_usd: Decimal  # worst case: maxFeePerGas x gas limit, plus the most the bid may spend
    clears_dust: bool  # repays the whole reserve debt or seizes the whole collateral
    debt_to_cover: int = MAX_UINT256  # what liquidate is asked to repay at most (max: to the target)
    flash: FlashQuote | None = None  # how it is sold, when it goes through a flash swap
    routes: tuple[FlashQuote, ...] = ()  # every route that can sell it, best first (flash is one)

    @property
    def method(self) -> str:
        return FLASH if self.flash is not None else INVENTORY

    @property
    def profit_usd(self) -> Decimal:
        return self.revenue_usd - self.gas_cost_usd

    @property
    def intent(self) -> str:
        return f"liquidate:{self.user}:{self.collateral.asset}:{self.debt.asset}"


@dataclass(frozen=True)
class Decision:
    opportunity: Opportunity
    send: bool
    reason: str


@dataclass(frozen=True)
class Ranking:
    """The decisions for the users that can be liquidated, best first, and the revert reason of
    each user that cannot (its every pair's preview reverted)."""

    decisions: list[Decision]
    reverted: dict[str, str]
    #: flash liquidations left for the next block: their route shares a pool with a different route
    #: sent before them in this one (keeper/flash.py)
    deferred: dict[str, str] = field(default_factory=dict)


def usd(reserve: Reserve, amount: int) -> Decimal:
    return Decimal(maths.to_value(amount, reserve.decimals, reserve.price)) / Decimal(10**26)


class Strategy:
    def __init__(
        self,
        w3: Web3,
        contracts: Contracts,
        rpc: RpcCounter,
        min_profit_usd: Decimal,
        clear_dust_and_deficits: bool,
        bid_share: Decimal = Decimal(0),
        mode: str = INVENTORY,
        quoter: Quoter | None = None,
        close_factor_bps: int | None = None,
        max_price_impact_bps: int | None = None,
    ):
        """`close_factor_bps` asks every liquidation for that share of the account's debt in the reserve
        (a fixed close factor, for comparisons; the pool repays the smaller of it and what reaches the
        target); `max_price_impact_bps` splits a flash liquidation whose sale would move the pools by
        more into a first chunk that moves them by about that much (the rest in later blocks)."""
        self.w3 = w3
        self.contracts = contracts
        self.rpc = rpc
        self.min_profit_usd = min_profit_usd
        self.clear_dust_and_deficits = clear_dust_and_deficits
        self.bid_share = bid_share
        self.mode = mode if quoter is not None else INVENTORY
        self.quoter = quoter
        self.close_factor_bps = close_factor_bps
        self.max_price_impact_bps = max_price_impact_bps

    @classmethod
    def of(cls, ctx: ChainContext, rpc: RpcCounter, settings: Settings, quoter: Quoter | None) -> Strategy:
        """The strategy the settings describe, on a validated deployment."""
        return cls(
            ctx.w3,
            ctx.contracts,
            rpc,
            settings.min_profit_usd,
            settings.clear_dust_and_deficits,
            bid_share=settings.bid_share,
            mode=settings.mode,
            quoter=quoter,
            close_factor_bps=settings.close_factor_bps,
            max_price_impact_bps=settings.max_price_impact_bps,
        )

    def previews(
        self,
        model: PoolModel,
        users: Sequence[str],
        caller: str,
        block: BlockIdentifier,
    ) -> dict[tuple[str, int, int], tuple[Preview | str, int]]:
        """previewLiquidation of every pair of every user in one JSON-RPC batch, each with the
        debtToCover it was asked for; a revert comes back as its error text. With a close factor, a
        pair whose share would leave dust (`MustNotLeaveDust`: the pool wants the whole debt repaid)
        is asked again for everything, as a close-factor protocol clears a small position whole."""
        pairs = [(u, c, d) for u in users for c, d in model.liquidation_pairs(u)]
        asks = {(user, c.id, d.id): self.debt_to_cover(model, user, d) for user, c, d in pairs}
        previews = self._preview_many(model, asks, caller, block)
        dust = {
            key: MAX_UINT256
            for key, p in previews.items()
            if isinstance(p, str) and p.startswith("MustNotLeaveDust") and asks[key] != MAX_UINT256
        }
        previews.update(self._preview_many(model, dust, caller, block))
        asks.update(dust)
        return {key: (previews[key], asks[key]) for key in asks}

    def debt_to_cover(self, model: PoolModel, user: str, debt: Reserve) -> int:
        """What to ask the pool to repay: everything it allows (it stops at the target), or the close
        factor's share of the account's debt in the reserve (rounded up)."""
        if self.close_factor_bps is None:
            return MAX_UINT256
        owed = -(-model.accounts[user].drawn_shares.get(debt.id, 0) * debt.borrow_index // maths.RAY)
        return max(1, -(-owed * self.close_factor_bps // 10_000))

    def _preview_many(
        self,
        model: PoolModel,
        asks: dict[tuple[str, int, int], int],
        caller: str,
        block: BlockIdentifier,
    ) -> dict[tuple[str, int, int], Preview | str]:
        """previewLiquidation of each (user, collateral id, debt id) with its debtToCover, one batch."""
        if not asks:
            return {}
        pool = self.contracts.pool.address
        calls = [
            PREVIEW_LIQUIDATION.call(
                pool, model.reserves[cid].asset, model.reserves[did].asset, user, debt_to_cover
            )
            for (user, cid, did), debt_to_cover in asks.items()
        ]
        results = call_many(self.w3, calls, caller, block)
        self.rpc.add()
        return {
            key: Preview(*result.value[0]) if result.ok else str(result.value)
            for key, result in zip(asks, results, strict=True)
        }

    def rank(
        self,
        model: PoolModel,
        users: Sequence[str],
        caller: str,
        block: BlockIdentifier,
        gas_cost_usd: Decimal,
        *,
        price_bid: bool = True,
        holds: Callable[[Reserve, int], bool] | None = None,
        flash_room: FlashRoom | None = None,
    ) -> Ranking:
        """Best pair per user, in liquidation order: highest profit first, riskiest first on ties;
        and why, for each user none of whose pairs can be liquidated, the preview reverted. Each
        opportunity's gas is `gas_cost_usd` (the worst case at the market's fees) plus the most its bid
        may spend (keeper/bidding.py, unless not `price_bid`), so the profit is what is left after the
        bid. `holds(debt, amount)` says whether the keeper holds the debt token (auto mode).

        `flash_room`: how many more flash liquidations the next blocks' gas takes. Only the accounts
        worth most at the oracle, that many and a quarter more, are quoted and sequenced (quoting a
        thousand routes a block would take seconds, and liquidations that cannot be mined soon would
        be quoted against pools the earlier ones will have moved); the others, and the accounts whose
        liquidation is already queued, wait a block and are re-checked then."""
        share = self.bid_share if price_bid else Decimal(0)
        asked = self.previews(model, users, caller, block)
        previews = {key: p for key, (p, _) in asked.items()}
        readable = {key: p for key, p in previews.items() if isinstance(p, Preview)}
        waiting: set[str] = set()
        if flash_room is not None and self.quoter is not None and self.mode != INVENTORY:
            readable, waiting = self._within_capacity(model, readable, flash_room)
        quotes = self._flash_quotes(model, readable, block)
        best: dict[str, Opportunity] = {}
        others: dict[str, list[Opportunity]] = {}
        reverted: dict[str, str] = {}
        for (user, cid, did), preview in previews.items():
            if user in waiting:
                continue
            if not isinstance(preview, Preview):
                log.debug(
                    "preview_reverted user=%s collateral=%d debt=%d reason=%s",
                    user,
                    cid,
                    did,
                    preview,
                )
                reverted.setdefault(user, preview)
                continue
            opportunity = self._opportunity(
                model, user, cid, did, preview, quotes.get((user, cid, did), ()), holds
            )
            if opportunity is not None:
                opportunity = replace(opportunity, debt_to_cover=asked[(user, cid, did)][1])
            if opportunity is None:
                reverted.setdefault(user, "no Uniswap route can sell the collateral for the debt")
                continue
            opportunity = replace(
                opportunity,
                gas_cost_usd=gas_cost_usd + bid_cost_usd(share, opportunity.revenue_usd, gas_cost_usd),
            )
            others.setdefault(user, []).append(opportunity)
            current = best.get(user)
            if current is None or opportunity.profit_usd > current.profit_usd:
                best[user] = opportunity
        chosen = list(best.values())
        for user, first in best.items():
            second = self._next_pair(model, first, others[user])
            if second is not None:
                chosen.append(second)
        ordered = sorted(chosen, key=lambda o: (-o.profit_usd, o.health_factor))
        ordered = self._throttled(model, ordered, caller, block)
        decisions, deferred = self._in_sequence([self.decide(o) for o in ordered], block)
        for user in best.keys() - {d.opportunity.user for d in decisions} - deferred.keys():
            # The pools cannot fill it after the ones ranked before it: they will have moved next block.
            deferred[user] = "waits a block: the pools cannot fill it after the liquidations before it"
        for user in waiting - best.keys():
            deferred[user] = (
                "in flight"
                if flash_room is not None and user in flash_room.queued
                else "waits a block: the next blocks' gas is taken by liquidations worth more"
            )
        return Ranking(decisions, {u: r for u, r in reverted.items() if u not in best}, deferred)

    @staticmethod
    def _within_capacity(
        model: PoolModel, readable: dict[tuple[str, int, int], Preview], room: FlashRoom
    ) -> tuple[dict[tuple[str, int, int], Preview], set[str]]:
        """The readable pairs of the accounts worth most at the oracle (collateral to the liquidator
        minus the debt repaid), `room.count` and a quarter more of them, none of them queued; and the
        other accounts."""
        worth: dict[str, Decimal] = {}
        for (user, cid, did), p in readable.items():
            if user in room.queued:
                continue
            value = usd(model.reserves[cid], p.collateral_to_liquidator) - usd(
                model.reserves[did], p.debt_to_repay
            )
            worth[user] = max(worth.get(user, value), value)
        keep = set(sorted(worth, key=lambda u: -worth[u])[: room.count + room.count // 4])
        users = {user for user, _, _ in readable}
        return {k: p for k, p in readable.items() if k[0] in keep}, users - keep

    @staticmethod
    def _next_pair(model: PoolModel, first: Opportunity, pairs: list[Opportunity]) -> Opportunity | None:
        """A second liquidation of the same account for the same block: when the first seizes all of
        its collateral reserve or repays all of its debt reserve, writes nothing off, and leaves the
        account still liquidatable (the model applies the preview), the most profitable pair that uses
        neither exhausted reserve. The pool prices it after the first lands (debtToCover max)."""
        preview = first.preview
        if preview.deficit or not first.clears_dust:
            return None
        account = model.accounts[first.user]
        collateral, debt = first.collateral, first.debt
        owned = maths.to_assets_down(
            account.supply_shares.get(collateral.id, 0),
            collateral.total_added_assets,
            collateral.total_supply_shares,
        )
        all_collateral = preview.collateral_to_seize >= owned
        all_debt = (
            preview.debt_to_repay * maths.RAY >= account.drawn_shares.get(debt.id, 0) * debt.borrow_index
        )
        after = model.health_factor_after(
            first.user, collateral.id, preview.collateral_to_seize, debt.id, preview.debt_to_repay
        )
        if after >= maths.WAD:
            return None
        candidates = [
            o
            for o in pairs
            if (o.collateral.id != collateral.id or not all_collateral)
            and (o.debt.id != debt.id or not all_debt)
            and (o.collateral.id, o.debt.id) != (collateral.id, debt.id)
        ]
        return max(candidates, key=lambda o: o.profit_usd, default=None)

    def _opportunity(
        self,
        model: PoolModel,
        user: str,
        cid: int,
        did: int,
        preview: Preview,
        routes: tuple[FlashQuote, ...],
        holds: Callable[[Reserve, int], bool] | None,
    ) -> Opportunity | None:
        """The liquidation of one pair, paid for the way the mode says (before gas); None when it must
        go through a flash swap and no route can fill it."""
        collateral, debt = model.reserves[cid], model.reserves[did]
        account = model.accounts[user]
        debt_left = account.drawn_shares.get(did, 0) * debt.borrow_index
        clears_dust = preview.debt_to_repay * maths.RAY >= debt_left or (
            preview.collateral_to_seize
            >= maths.to_assets_down(
                account.supply_shares.get(cid, 0),
                collateral.total_added_assets,
                collateral.total_supply_shares,
            )
        )
        inventory = usd(collateral, preview.collateral_to_liquidator) - usd(debt, preview.debt_to_repay)
        quote = routes[0] if routes else None
        flash = usd(collateral, quote.profit) if quote is not None else None
        use_flash = self.mode == FLASH or (
            self.mode == AUTO
            and flash is not None
            and (flash > inventory or (holds is not None and not holds(debt, preview.debt_to_repay)))
        )
        if use_flash and quote is None:
            return None
        return Opportunity(
            user=user,
            collateral=collateral,
            debt=debt,
            preview=preview,
            health_factor=preview.health_factor,
            revenue_usd=flash if use_flash and flash is not None else inventory,
            gas_cost_usd=Decimal(0),
            clears_dust=clears_dust,
            flash=quote if use_flash else None,
            routes=routes if use_flash else (),
        )

    def _flash_quotes(
        self, model: PoolModel, previews: dict[tuple[str, int, int], Preview], block: BlockIdentifier
    ) -> dict[tuple[str, int, int], tuple[FlashQuote, ...]]:
        """Every route of every readable pair, each quoted alone (one batch), best first; nothing in
        inventory mode."""
        if self.quoter is None or self.mode == INVENTORY or not previews:
            return {}
        keys = {f"{user}:{cid}:{did}": (user, cid, did) for user, cid, did in previews}
        requests = [
            FlashRequest(
                name,
                model.reserves[key[1]].asset,
                model.reserves[key[2]].asset,
                previews[key].debt_to_repay,
                previews[key].collateral_to_liquidator,
            )
            for name, key in keys.items()
        ]
        return {keys[name]: quote for name, quote in self.quoter.best_routes(requests, block).items()}

    def _in_sequence(
        self, decisions: list[Decision], block: BlockIdentifier
    ) -> tuple[list[Decision], dict[str, str]]:
        """The flash liquidations to send, in send order, re-quoted as they will meet the pools: those
        sharing a route quoted cumulatively (each after the ones before it sold into the same pools,
        keeper/flash.py) and decided again on that profit; one whose route shares a pool with a
        different route sent before it is deferred to the next block. One that no longer fills is
        dropped."""
        used: dict[tuple[frozenset[str], int], Route] = {}
        deferred: dict[str, str] = {}
        kept: list[Decision] = []
        for decision in decisions:
            quote = decision.opportunity.flash
            if quote is not None and decision.send:
                free = [q for q in decision.opportunity.routes if not self._clashes(q.route, used)]
                # The best route whose pools no different route uses in this block, if it still pays.
                choice = self.decide(self._with_route(decision.opportunity, free[0])) if free else None
                if choice is None or not choice.send:
                    deferred[decision.opportunity.user] = (
                        "waits a block: an earlier liquidation sells into its pool"
                    )
                    continue
                decision = choice
                route = decision.opportunity.flash.route  # type: ignore[union-attr]
                used.update(dict.fromkeys(route.pools(), route))
            kept.append(decision)
        flash = [d.opportunity for d in kept if d.opportunity.flash is not None and d.send]
        routes = [o.flash.route for o in flash if o.flash is not None]
        if self.quoter is None or len(routes) == len(set(routes)):
            return kept, deferred
        requests = [
            (
                FlashRequest(
                    o.intent,
                    o.collateral.asset,
                    o.debt.asset,
                    o.flash.debt_to_repay,
                    o.preview.collateral_to_liquidator,
                ),
                o.flash.route,
            )
            for o in flash
            if o.flash is not None
        ]
        quotes = self.quoter.in_sequence(requests, block)
        out = []
        for decision in kept:
            o = decision.opportunity
            if o.flash is None or not decision.send:
                out.append(decision)
            elif o.intent in quotes:
                quote = quotes[o.intent]
                out.append(self.decide(self._with_route(o, quote)))
        return out, deferred

    def _throttled(
        self, model: PoolModel, ordered: list[Opportunity], caller: str, block: BlockIdentifier
    ) -> list[Opportunity]:
        """With a price-impact bound: each flash liquidation whose sale would move the pools by more is
        replaced by a first chunk, its debtToCover scaled down to move them by about the bound
        (impact grows about in proportion to the amount sold), previewed and quoted again (one batch
        each). A chunk the pool refuses (it would leave dust) keeps the whole liquidation; the rest of
        the account is liquidated in later blocks, re-checked each time."""
        bound = self.max_price_impact_bps
        if bound is None or self.quoter is None:
            return ordered
        big = [o for o in ordered if o.flash is not None and o.flash.impact_bps > bound]
        if not big:
            return ordered
        chunks = {
            (o.user, o.collateral.id, o.debt.id): max(
                1, o.preview.debt_to_repay * bound // o.flash.impact_bps
            )
            for o in big
            if o.flash is not None
        }
        previews = self._preview_many(model, chunks, caller, block)
        requests = [
            FlashRequest(
                o.intent, o.collateral.asset, o.debt.asset, p.debt_to_repay, p.collateral_to_liquidator
            )
            for o in big
            if isinstance(p := previews[(o.user, o.collateral.id, o.debt.id)], Preview)
        ]
        quotes = self.quoter.best_routes(requests, block)
        out = []
        for o in ordered:
            key = (o.user, o.collateral.id, o.debt.id)
            preview = previews.get(key)
            routes = quotes.get(o.intent, ())
            if key not in chunks or not isinstance(preview, Preview) or not routes:
                out.append(o)  # not throttled, or the chunk cannot be made: the whole liquidation
                continue
            chunk = replace(o, preview=preview, debt_to_cover=chunks[key], routes=routes)
            log.info(
                "throttled user=%s impact_bps=%d bound_bps=%d debt_to_cover=%d of %d",
                o.user,
                o.flash.impact_bps if o.flash else 0,
                bound,
                chunks[key],
                o.preview.debt_to_repay,
            )
            out.append(self._with_route(chunk, routes[0]))
        return out

    @staticmethod
    def _clashes(route: Route, used: dict[tuple[frozenset[str], int], Route]) -> bool:
        """Whether `route` sells into a pool a different route already uses in this block."""
        return any(used.get(pool, route) != route for pool in route.pools())

    @staticmethod
    def _with_route(opportunity: Opportunity, quote: FlashQuote) -> Opportunity:
        """The opportunity sold along `quote`'s route, its revenue that quote's profit."""
        return replace(opportunity, flash=quote, revenue_usd=usd(opportunity.collateral, quote.profit))

    def decide(self, opportunity: Opportunity) -> Decision:
        if opportunity.flash is not None and opportunity.flash.profit < 0:
            # The FlashLiquidator pays the pools with the seized collateral: short of it, it reverts.
            return Decision(opportunity, False, "the collateral does not cover the swap")
        if opportunity.profit_usd >= self.min_profit_usd:
            return Decision(opportunity, True, "profitable")
        if self.clear_dust_and_deficits and (opportunity.preview.deficit or opportunity.clears_dust):
            what = "deficit" if opportunity.preview.deficit else "dust"
            return Decision(opportunity, True, f"clears {what} below min profit")
        return Decision(opportunity, False, "below min profit")
