"""Ranking and profit: for each liquidatable account, the best (collateral, debt) pair by
`previewLiquidation`, scored as the collateral's value to the liquidator minus the debt repaid minus
worst-case gas; then the profit gate and the switch that clears dust and deficits anyway."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from web3 import Web3
from web3.types import BlockIdentifier

from keeper import maths
from keeper.bidding import bid_cost_usd
from keeper.calls import function
from keeper.contracts import Contracts
from keeper.model import PoolModel, Reserve
from keeper.rpc_batch import RpcCounter, call_many

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
class Opportunity:
    user: str
    collateral: Reserve
    debt: Reserve
    preview: Preview
    health_factor: int
    revenue_usd: Decimal  # collateral to the liquidator minus debt repaid, before gas
    gas_cost_usd: Decimal  # worst case: maxFeePerGas x gas limit, plus the most the bid may spend
    clears_dust: bool  # repays the whole reserve debt or seizes the whole collateral

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
    ):
        self.w3 = w3
        self.contracts = contracts
        self.rpc = rpc
        self.min_profit_usd = min_profit_usd
        self.clear_dust_and_deficits = clear_dust_and_deficits
        self.bid_share = bid_share

    def previews(
        self,
        model: PoolModel,
        users: Sequence[str],
        caller: str,
        block: BlockIdentifier,
    ) -> dict[tuple[str, int, int], Preview | str]:
        """previewLiquidation of every pair of every user in one JSON-RPC batch; a revert comes
        back as its error text."""
        pairs = [(u, c, d) for u in users for c, d in model.liquidation_pairs(u)]
        if not pairs:
            return {}
        pool = self.contracts.pool.address
        calls = [PREVIEW_LIQUIDATION.call(pool, c.asset, d.asset, user, MAX_UINT256) for user, c, d in pairs]
        results = call_many(self.w3, calls, caller, block)
        self.rpc.add()
        out: dict[tuple[str, int, int], Preview | str] = {}
        for (user, c, d), result in zip(pairs, results, strict=True):
            key = (user, c.id, d.id)
            out[key] = Preview(*result.value[0]) if result.ok else str(result.value)
        return out

    def rank(
        self,
        model: PoolModel,
        users: Sequence[str],
        caller: str,
        block: BlockIdentifier,
        gas_cost_usd: Decimal,
        *,
        price_bid: bool = True,
    ) -> Ranking:
        """Best pair per user, in liquidation order: highest profit first, riskiest first on ties;
        and why, for each user none of whose pairs can be liquidated, the preview reverted. Each
        opportunity's gas is `gas_cost_usd` (the worst case at the market's fees) plus the most its bid
        may spend (keeper/bidding.py, unless not `price_bid`), so the profit is what is left after the
        bid."""
        share = self.bid_share if price_bid else Decimal(0)
        previews = self.previews(model, users, caller, block)
        best: dict[str, Opportunity] = {}
        reverted: dict[str, str] = {}
        for (user, cid, did), preview in previews.items():
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
            revenue_usd = usd(collateral, preview.collateral_to_liquidator) - usd(debt, preview.debt_to_repay)
            opportunity = Opportunity(
                user=user,
                collateral=collateral,
                debt=debt,
                preview=preview,
                health_factor=preview.health_factor,
                revenue_usd=revenue_usd,
                gas_cost_usd=gas_cost_usd + bid_cost_usd(share, revenue_usd, gas_cost_usd),
                clears_dust=clears_dust,
            )
            current = best.get(user)
            if current is None or opportunity.profit_usd > current.profit_usd:
                best[user] = opportunity
        ordered = sorted(best.values(), key=lambda o: (-o.profit_usd, o.health_factor))
        return Ranking(
            [self.decide(o) for o in ordered], {u: r for u, r in reverted.items() if u not in best}
        )

    def decide(self, opportunity: Opportunity) -> Decision:
        if opportunity.profit_usd >= self.min_profit_usd:
            return Decision(opportunity, True, "profitable")
        if self.clear_dust_and_deficits and (opportunity.preview.deficit or opportunity.clears_dust):
            what = "deficit" if opportunity.preview.deficit else "dust"
            return Decision(opportunity, True, f"clears {what} below min profit")
        return Decision(opportunity, False, "below min profit")
