"""A Python model of `LendingPool`, written from protocol.md (v2) and the interface NatSpec.

Every operation either raises `Revert` with the custom error (and arguments) the specification
predicts, or updates the model; the stateful test applies the operation to a copy of the model,
sends the transaction, and holds the chain to the prediction. The liquidation amounts come from
`tests/reference/protocol_math.py` (the keeper's twin of section 5), so the test also holds the keeper's math
to the contract.

Time is explicit: every operation takes `now`, the block timestamp it runs at. Interest accrues
lazily as in the contract (an operation stores the index of each reserve it touches), which is
observable only through rounding, so the model does the same.

Where the specification is silent (the order of checks in user operations), the model follows the
interface NatSpec and the order the pool documents; those choices are marked "silent spec".
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from tests.reference.protocol_math import (
    BPS,
    DUST_LIQUIDATION_THRESHOLD,
    MAX_UINT256,
    RAY,
    WAD,
    LiquidationInputs,
    MustNotLeaveDust,
    accrue_index,
    borrow_rate_ray,
    div_up,
    health_factor,
    is_deficit,
    liquidation_amounts,
    liquidation_bonus,
    mul_div_up,
    ray_mul_down,
    ray_mul_up,
    to_assets_down,
    to_shares_down,
    to_shares_up,
    to_value,
)

__all__ = [
    "BPS",
    "DUST_LIQUIDATION_THRESHOLD",
    "MAX_UINT256",
    "PRICE_MAX_AGE",
    "RAY",
    "WAD",
    "AccountData",
    "LiquidationPlan",
    "PoolModel",
    "ReserveModel",
    "Revert",
]

#: The oracle's maxAge for every feed in the shared fixture (seconds).
PRICE_MAX_AGE = 3600

# ReserveConfig field positions (struct order).
CF, MAX_LB, FEE, RECEIVE_SHARES, PAUSED, FROZEN, BASE, SLOPE1, SLOPE2, OPTIMAL, MAX_LTV = range(11)

#: ReserveLogic.MAX_BORROW_INDEX: the borrow index stops there instead of overflowing.
MAX_BORROW_INDEX = 10**36


class Revert(Exception):
    """A predicted custom-error revert, formatted as Brownie decodes it ("Name: arg, arg")."""

    def __init__(self, name: str, *args):
        super().__init__(name, *args)
        self.name = name
        self.error_args = args

    @property
    def message(self) -> str:
        def fmt(a) -> str:
            if isinstance(a, str):
                return a.lower()
            if isinstance(a, bool):
                return str(a).lower()
            return str(a)

        return f"{self.name}: " + ", ".join(fmt(a) for a in self.error_args)

    def __repr__(self) -> str:
        return f"Revert({self.message!r})"


@dataclass
class ReserveModel:
    symbol: str
    asset: str
    id: int
    decimals: int
    config: list
    price: int
    price_updated_at: int = 0  # the feed's updatedAt
    cash: int = 0
    total_supply_shares: int = 0
    total_drawn_shares: int = 0
    deficit: int = 0
    index: int = RAY
    last_update: int = 0
    donated: int = 0  # tokens sent to the pool without going through it (not on the books)
    grace_period_until: int = 0  # no liquidation touches the reserve before this timestamp

    @property
    def cf(self) -> int:
        return self.config[CF]

    @property
    def max_ltv(self) -> int:
        return self.config[MAX_LTV]

    def rate_ray(self) -> int:
        c = self.config
        return borrow_rate_ray(
            c[BASE],
            c[SLOPE1],
            c[SLOPE2],
            c[OPTIMAL],
            self.cash,
            ray_mul_down(self.total_drawn_shares, self.index),
        )

    def index_at(self, now: int) -> int:
        """The borrow index accrued to `now` without storing it (linear, rounded up)."""
        if now == self.last_update or self.index >= MAX_BORROW_INDEX:
            return self.index
        assert now > self.last_update, "time never runs backwards"
        return min(accrue_index(self.index, self.rate_ray(), now - self.last_update), MAX_BORROW_INDEX)

    def accrue(self, now: int) -> int:
        self.index = self.index_at(now)
        self.last_update = max(self.last_update, now)
        return self.index

    def total_assets(self, index: int) -> int:
        """A = cash + drawn debt (rounded down) + deficit."""
        return self.cash + ray_mul_down(self.total_drawn_shares, index) + self.deficit

    def total_debt(self, index: int) -> int:
        return ray_mul_down(self.total_drawn_shares, index)


@dataclass
class AccountData:
    total_collateral_value: int
    weighted_collateral_value: int
    total_debt_value_ray: int
    health_factor: int
    active_collateral_count: int
    borrow_count: int
    borrow_health_factor: int = 0  # the health factor with maxLtv for the collateral factor

    def view(self) -> tuple:
        """What getUserAccountData returns."""
        avg = (
            self.weighted_collateral_value * 10**14 // self.total_collateral_value
            if self.total_collateral_value
            else 0
        )
        return (
            self.total_collateral_value,
            div_up(self.total_debt_value_ray, RAY),
            self.health_factor,
            avg,
            self.active_collateral_count,
            self.borrow_count,
        )


@dataclass
class LiquidationPlan:
    health_factor: int
    liquidation_bonus: int
    debt_shares: int
    debt_to_repay: int
    collateral_shares: int
    fee_shares: int
    liquidator_shares: int
    collateral_seized: int  # assets
    collateral_to_liquidator: int  # assets
    protocol_fee: int  # assets
    deficit: bool

    def preview(self) -> tuple:
        """What previewLiquidation returns."""
        return (
            self.health_factor,
            self.liquidation_bonus,
            self.debt_to_repay,
            self.collateral_seized,
            self.collateral_to_liquidator,
            self.protocol_fee,
            self.deficit,
        )


@dataclass
class PoolModel:
    reserves: dict  # symbol -> ReserveModel, in id order
    fee_receiver: str
    guardian: str = ""
    liquidation_grace_period: int = 0
    target_health_factor: int = 105 * 10**16
    health_factor_for_max_bonus: int = 7 * 10**17
    liquidation_bonus_factor: int = 20_00
    supply_shares: dict = field(default_factory=dict)  # (account, symbol) -> shares
    drawn_shares: dict = field(default_factory=dict)  # (account, symbol) -> drawn shares
    collateral_bits: set = field(default_factory=set)  # (account, symbol)
    borrowing_bits: set = field(default_factory=set)  # (account, symbol)

    def copy(self) -> PoolModel:
        return copy.deepcopy(self)

    # ------------------------------------------------------------------ views

    def shares(self, account: str, symbol: str) -> int:
        return self.supply_shares.get((account, symbol), 0)

    def drawn(self, account: str, symbol: str) -> int:
        return self.drawn_shares.get((account, symbol), 0)

    def by_id(self) -> list:
        return sorted(self.reserves.values(), key=lambda r: r.id)

    def user_config(self, account: str) -> int:
        bits = 0
        for r in self.reserves.values():
            if (account, r.symbol) in self.borrowing_bits:
                bits |= 1 << (2 * r.id)
            if (account, r.symbol) in self.collateral_bits:
                bits |= 2 << (2 * r.id)
        return bits

    def supplied(self, account: str, symbol: str, now: int) -> int:
        r = self.reserves[symbol]
        idx = r.index_at(now)
        return to_assets_down(
            self.shares(account, symbol), r.total_assets(idx), r.total_supply_shares
        )

    def debt(self, account: str, symbol: str, now: int) -> int:
        return ray_mul_up(self.drawn(account, symbol), self.reserves[symbol].index_at(now))

    def is_active_collateral(self, account: str, symbol: str) -> bool:
        return (
            (account, symbol) in self.collateral_bits
            and self.shares(account, symbol) > 0
            and self.reserves[symbol].cf > 0
        )

    def read_price(self, r: ReserveModel, now: int) -> int:
        """Section 7: a price older than maxAge reverts StalePrice(asset, updatedAt, maxAge)."""
        if now - r.price_updated_at > PRICE_MAX_AGE:
            raise Revert("StalePrice", r.asset, r.price_updated_at, PRICE_MAX_AGE)
        return r.price

    def account(self, account: str, now: int, strict: bool = False) -> AccountData:
        """Section 3: collateral valued at shares->assets (down), debt in value * RAY.

        `strict` reads prices as the pool does (in reserve-id order, only for reserves the account
        uses), so a stale feed raises; otherwise stale prices are used as they are (for sizing)."""
        coll = weighted = weighted_ltv = debt_ray = active = borrows = 0
        for r in self.by_id():
            active_here = self.is_active_collateral(account, r.symbol)
            if strict and (active_here or (account, r.symbol) in self.borrowing_bits):
                self.read_price(r, now)
            if active_here:
                idx = r.index_at(now)
                assets = to_assets_down(
                    self.shares(account, r.symbol), r.total_assets(idx), r.total_supply_shares
                )
                value = to_value(assets, r.decimals, r.price)
                coll += value
                weighted += value * r.cf
                weighted_ltv += value * r.max_ltv
                active += 1
            if (account, r.symbol) in self.borrowing_bits:
                debt_ray += to_value(
                    self.drawn(account, r.symbol) * r.index_at(now), r.decimals, r.price
                )
                borrows += 1
        return AccountData(
            coll,
            weighted,
            debt_ray,
            health_factor(weighted, debt_ray),
            active,
            borrows,
            health_factor(weighted_ltv, debt_ray),
        )

    def health(self, account: str, now: int) -> int:
        return self.account(account, now).health_factor

    def max_borrow(self, account: str, symbol: str, now: int) -> int:
        """Roughly the largest amount of `symbol` the account may borrow (for sizing only)."""
        data = self.account(account, now)
        weighted_ltv = data.borrow_health_factor * data.total_debt_value_ray // (10**14 * RAY) \
            if data.total_debt_value_ray else sum(
                to_value(
                    to_assets_down(self.shares(account, r.symbol), r.total_assets(r.index_at(now)),
                                   r.total_supply_shares),
                    r.decimals, r.price) * r.max_ltv
                for r in self.by_id() if self.is_active_collateral(account, r.symbol))
        headroom_ray = weighted_ltv * RAY // BPS - data.total_debt_value_ray
        if headroom_ray <= 0:
            return 0
        r = self.reserves[symbol]
        return headroom_ray // (RAY * r.price * 10 ** (18 - r.decimals))

    # ------------------------------------------------------------ checks

    def _require_not_paused(self, r: ReserveModel) -> None:
        if r.config[PAUSED]:
            raise Revert("ReservePaused", r.asset)

    def _require_borrow_healthy(self, account: str, now: int) -> None:
        """Section 3 (v2): borrow, withdraw and disabling collateral need the maxLtv health factor."""
        hf = self.account(account, now, strict=True).borrow_health_factor
        if hf < WAD:
            raise Revert("HealthFactorBelowThreshold", hf)

    def _borrows_any(self, account: str) -> bool:
        return any(a == account for a, _ in self.borrowing_bits)

    # -------------------------------------------------------- user operations

    def supply(self, caller: str, symbol: str, amount: int, on_behalf_of: str, now: int) -> int:
        """Returns the shares minted (rounded down)."""
        r = self.reserves[symbol]
        # Section 8 (v2): a paused reserve still takes supplies.
        if r.config[FROZEN]:
            raise Revert("ReserveFrozen", r.asset)
        if amount == 0:
            raise Revert("InvalidAmount")
        idx = r.accrue(now)
        shares = to_shares_down(amount, r.total_assets(idx), r.total_supply_shares)
        if shares == 0:
            raise Revert("InvalidAmount")
        first = self.shares(on_behalf_of, symbol) == 0
        self.supply_shares[(on_behalf_of, symbol)] = self.shares(on_behalf_of, symbol) + shares
        r.total_supply_shares += shares
        r.cash += amount
        # Section 6 (v2): a supply on someone else's behalf does not enable collateral.
        if first and caller == on_behalf_of and r.cf > 0:
            self.collateral_bits.add((on_behalf_of, symbol))
        return shares

    def withdraw(self, caller: str, symbol: str, amount: int, now: int) -> tuple:
        """Returns (assets withdrawn, shares burned)."""
        r = self.reserves[symbol]
        self._require_not_paused(r)
        if amount == 0:
            raise Revert("InvalidAmount")
        idx = r.accrue(now)
        user_shares = self.shares(caller, symbol)
        ta, ts = r.total_assets(idx), r.total_supply_shares
        if amount == MAX_UINT256:
            shares = user_shares
            withdrawn = to_assets_down(shares, ta, ts)
        else:
            shares = to_shares_up(amount, ta, ts)
            if shares > user_shares:
                raise Revert("InsufficientSupply", amount, to_assets_down(user_shares, ta, ts))
            withdrawn = amount
        if withdrawn == 0:
            raise Revert("InvalidAmount")
        if withdrawn > r.cash:
            raise Revert("InsufficientLiquidity", withdrawn, r.cash)
        was_collateral = (caller, symbol) in self.collateral_bits
        self.supply_shares[(caller, symbol)] = user_shares - shares
        r.total_supply_shares -= shares
        r.cash -= withdrawn
        if was_collateral:
            if shares == user_shares:
                self.collateral_bits.discard((caller, symbol))
            if self._borrows_any(caller):
                self._require_borrow_healthy(caller, now)
        return withdrawn, shares

    def borrow(self, caller: str, symbol: str, amount: int, now: int) -> int:
        """Returns the drawn shares added (rounded up)."""
        r = self.reserves[symbol]
        self._require_not_paused(r)
        if r.config[FROZEN]:
            raise Revert("ReserveFrozen", r.asset)
        if amount == 0:
            raise Revert("InvalidAmount")
        idx = r.accrue(now)
        if amount > r.cash:
            raise Revert("InsufficientLiquidity", amount, r.cash)
        shares = mul_div_up(amount, RAY, idx)
        self.drawn_shares[(caller, symbol)] = self.drawn(caller, symbol) + shares
        r.total_drawn_shares += shares
        r.cash -= amount
        self.borrowing_bits.add((caller, symbol))
        self._require_borrow_healthy(caller, now)
        return shares

    def repay(self, payer: str, symbol: str, amount: int, on_behalf_of: str, now: int) -> tuple:
        """Returns (assets repaid, drawn shares removed)."""
        r = self.reserves[symbol]
        # Section 8 (v2): repay works on a paused reserve.
        if amount == 0:
            raise Revert("InvalidAmount")
        idx = r.accrue(now)
        drawn = self.drawn(on_behalf_of, symbol)
        if drawn == 0:
            raise Revert("NoDebt")
        debt = ray_mul_up(drawn, idx)
        if amount >= debt:
            shares, repaid = drawn, debt
        else:
            shares = amount * RAY // idx
            if shares == 0:
                raise Revert("InvalidAmount")
            repaid = amount
        self.drawn_shares[(on_behalf_of, symbol)] = drawn - shares
        r.total_drawn_shares -= shares
        r.cash += repaid
        if shares == drawn:
            self.borrowing_bits.discard((on_behalf_of, symbol))
        return repaid, shares

    def set_using_as_collateral(self, caller: str, symbol: str, enabled: bool, now: int) -> bool:
        """Returns whether the flag changed (setting the current state again does nothing)."""
        r = self.reserves[symbol]
        # Section 8 (v2): a paused reserve allows enabling collateral (a top-up), not disabling it.
        if not enabled:
            self._require_not_paused(r)
        key = (caller, symbol)
        if (key in self.collateral_bits) == enabled:
            return False
        if enabled:
            if r.config[FROZEN]:
                raise Revert("ReserveFrozen", r.asset)
            if self.shares(caller, symbol) == 0:
                raise Revert("ReserveNotSupplied")
            self.collateral_bits.add(key)
        else:
            self.collateral_bits.discard(key)
            if self._borrows_any(caller):
                self._require_borrow_healthy(caller, now)
        return True

    # ------------------------------------------------------------ liquidation

    def plan_liquidation(
        self,
        collateral: str,
        debt: str,
        user: str,
        liquidator: str,
        debt_to_cover: int,
        receive_shares: bool,
        now: int,
        preview: bool = False,
    ) -> LiquidationPlan:
        """Section 8's validation order, then section 5 (via tests/reference/protocol_math)."""
        cr, dr = self.reserves[collateral], self.reserves[debt]
        if user == liquidator:
            raise Revert("SelfLiquidation")
        if debt_to_cover == 0:
            raise Revert("InvalidDebtToCover")
        if cr.config[PAUSED]:
            raise Revert("ReservePaused", cr.asset)
        if dr.config[PAUSED]:
            raise Revert("ReservePaused", dr.asset)
        for r in (cr, dr):
            if now < r.grace_period_until:
                raise Revert("LiquidationGracePeriodActive", r.asset, r.grace_period_until)
        s = self.shares(user, collateral)
        d = self.drawn(user, debt)
        if s == 0:
            raise Revert("ReserveNotSupplied")
        if d == 0:
            raise Revert("ReserveNotBorrowed")
        acct = self.account(user, now, strict=True)
        hf = acct.health_factor
        if hf >= WAD:
            raise Revert("HealthFactorNotBelowThreshold", hf)
        if (user, collateral) not in self.collateral_bits or cr.cf == 0:
            raise Revert("ReserveNotEnabledAsCollateral")
        if receive_shares and (cr.config[FROZEN] or not cr.config[RECEIVE_SHARES]):
            raise Revert("CannotReceiveShares")
        bonus = liquidation_bonus(
            cr.config[MAX_LB], hf, self.health_factor_for_max_bonus, self.liquidation_bonus_factor
        )
        ci, di = cr.index_at(now), dr.index_at(now)
        ta, ts = cr.total_assets(ci), cr.total_supply_shares
        try:
            a = liquidation_amounts(
                LiquidationInputs(
                    health_factor=hf,
                    total_debt_value_ray=acct.total_debt_value_ray,
                    target_health_factor=self.target_health_factor,
                    liquidation_bonus=bonus,
                    collateral_factor=cr.cf,
                    # The insurance fund pays itself no fee.
                    liquidation_fee=0 if user == self.fee_receiver else cr.config[FEE],
                    debt_to_cover=debt_to_cover,
                    drawn_shares=d,
                    borrow_index=di,
                    debt_price=dr.price,
                    debt_decimals=dr.decimals,
                    supply_shares=s,
                    collateral_price=cr.price,
                    collateral_decimals=cr.decimals,
                    collateral_total_assets=ta,
                    collateral_total_shares=ts,
                )
            )
        except MustNotLeaveDust:
            raise Revert("MustNotLeaveDust") from None
        if a.debt_shares == 0 or a.collateral_shares == 0:
            raise Revert("NothingToLiquidate")
        plan = LiquidationPlan(
            health_factor=hf,
            liquidation_bonus=bonus,
            debt_shares=a.debt_shares,
            debt_to_repay=a.debt_to_repay,
            collateral_shares=a.collateral_shares,
            fee_shares=a.fee_shares,
            liquidator_shares=a.liquidator_shares,
            collateral_seized=to_assets_down(a.collateral_shares, ta, ts),
            collateral_to_liquidator=to_assets_down(a.liquidator_shares, ta, ts),
            protocol_fee=to_assets_down(a.fee_shares, ta, ts),
            deficit=is_deficit(
                s - a.collateral_shares,
                acct.active_collateral_count,
                d - a.debt_shares,
                acct.borrow_count,
            ),
        )
        # Section 7: paying out the underlying needs pool cash (receiving shares does not).
        if (preview or not receive_shares) and plan.collateral_to_liquidator > cr.cash:
            raise Revert("InsufficientLiquidity", plan.collateral_to_liquidator, cr.cash)
        return plan

    def liquidate(
        self,
        collateral: str,
        debt: str,
        user: str,
        liquidator: str,
        debt_to_cover: int,
        receive_shares: bool,
        now: int,
    ) -> tuple:
        """Returns (plan, [(asset symbol, deficit amount), ...] written off)."""
        plan = self.plan_liquidation(
            collateral, debt, user, liquidator, debt_to_cover, receive_shares, now
        )
        cr, dr = self.reserves[collateral], self.reserves[debt]
        cr.accrue(now)
        dr.accrue(now)
        # Collateral side.
        self.supply_shares[(user, collateral)] = (
            self.shares(user, collateral) - plan.collateral_shares
        )
        fund = (self.fee_receiver, collateral)
        self.supply_shares[fund] = self.supply_shares.get(fund, 0) + plan.fee_shares
        if receive_shares:
            key = (liquidator, collateral)
            self.supply_shares[key] = self.supply_shares.get(key, 0) + plan.liquidator_shares
        else:
            cr.total_supply_shares -= plan.liquidator_shares
            cr.cash -= plan.collateral_to_liquidator
        if self.shares(user, collateral) == 0:
            self.collateral_bits.discard((user, collateral))
        # Debt side.
        self.drawn_shares[(user, debt)] = self.drawn(user, debt) - plan.debt_shares
        dr.total_drawn_shares -= plan.debt_shares
        dr.cash += plan.debt_to_repay
        if self.drawn(user, debt) == 0:
            self.borrowing_bits.discard((user, debt))
        # Section 6: no debt without collateral; v2: each write-off is settled at once unless paused.
        written_off = []
        if plan.deficit:
            for r in self.by_id():
                if (user, r.symbol) in self.borrowing_bits:
                    idx = r.accrue(now)
                    shares = self.drawn(user, r.symbol)
                    amount = ray_mul_up(shares, idx)
                    self.drawn_shares[(user, r.symbol)] = 0
                    r.total_drawn_shares -= shares
                    r.deficit += amount
                    self.borrowing_bits.discard((user, r.symbol))
                    settled = None if r.config[PAUSED] else self._settle(r, idx)
                    written_off.append((r.symbol, amount, settled))
        return plan, written_off

    # ---------------------------------------------------------------- deficit

    def settle_deficit(self, symbol: str, now: int) -> tuple:
        """Returns (covered by the fund, fund shares burned, socialised)."""
        r = self.reserves[symbol]
        self._require_not_paused(r)
        idx = r.accrue(now)
        if r.deficit == 0:
            raise Revert("NoDeficit")
        return self._settle(r, idx)

    def _settle(self, r: ReserveModel, idx: int) -> tuple:
        """Section 6: the fund's shares pay first, the rest is socialised; (covered, burned, socialised)."""
        outstanding = r.deficit
        key = (self.fee_receiver, r.symbol)
        fund_shares = self.supply_shares.get(key, 0)
        ta, ts = r.total_assets(idx), r.total_supply_shares
        covered = min(outstanding, to_assets_down(fund_shares, ta, ts))
        burned = 0
        if covered > 0:
            burned = min(to_shares_up(covered, ta, ts), fund_shares)
            self.supply_shares[key] = fund_shares - burned
            r.total_supply_shares -= burned
        r.deficit = 0
        return covered, burned, outstanding - covered

    def cover_deficit(self, payer: str, symbol: str, amount: int, now: int) -> int:
        """Returns the amount covered (at most the deficit)."""
        r = self.reserves[symbol]
        # ILendingPool.setReservePaused: a paused reserve blocks every operation touching it.
        self._require_not_paused(r)
        if amount == 0:
            raise Revert("InvalidAmount")
        r.accrue(now)
        if r.deficit == 0:
            raise Revert("NoDeficit")
        covered = min(amount, r.deficit)
        r.deficit -= covered
        r.cash += covered
        return covered

    # ------------------------------------------------------------- governance

    def update_config(self, symbol: str, config: tuple, now: int) -> None:
        """updateReserveConfig: interest accrues under the old model first; the reserve keeps its paused
        and frozen flags; a collateral factor of 0 needs a reserve nobody supplies."""
        r = self.reserves[symbol]
        if config[CF] == 0 and r.config[CF] > 0 and r.total_supply_shares > 0:
            raise Revert("CollateralFactorInUse", r.asset, r.total_supply_shares)
        r.accrue(now)
        updated = list(config)
        updated[PAUSED], updated[FROZEN] = r.config[PAUSED], r.config[FROZEN]
        r.config = updated

    def set_paused(self, symbol: str, paused: bool, by_owner: bool, now: int) -> None:
        """setReservePaused: the guardian may pause, only the owner unpauses; an unpause starts the
        liquidation grace period."""
        r = self.reserves[symbol]
        if not paused and not by_owner:
            raise Revert("OnlyOwnerCanUnpause", self.guardian)
        if r.config[PAUSED] and not paused and self.liquidation_grace_period:
            r.grace_period_until = now + self.liquidation_grace_period
        r.config[PAUSED] = paused

    def set_frozen(self, symbol: str, frozen: bool) -> None:
        self.reserves[symbol].config[FROZEN] = frozen

    def set_price(self, symbol: str, price: int, now: int) -> None:
        """A feed published `price` at `now`."""
        self.reserves[symbol].price = price
        self.reserves[symbol].price_updated_at = now

    def donate(self, symbol: str, amount: int) -> None:
        self.reserves[symbol].donated += amount
