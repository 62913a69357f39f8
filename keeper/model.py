"""The keeper's off-chain model of the pool: reserves and accounts in Python integers, with the
health factor computed exactly as the contract does (protocol.md section 3), and an
oracle -> accounts index so that a price update re-scores only the accounts holding that asset."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from keeper import maths


@dataclass
class Reserve:
    asset: str
    symbol: str
    id: int
    decimals: int
    collateral_factor: int
    max_liquidation_bonus: int
    liquidation_fee: int
    receive_shares_enabled: bool
    paused: bool
    frozen: bool
    borrow_index: int
    cash: int
    total_supply_shares: int
    total_drawn_shares: int
    total_added_assets: int
    deficit: int
    price: int  # 8 decimals; 0 while the oracle does not answer


@dataclass
class Account:
    address: str
    config: int = 0
    supply_shares: dict[int, int] = field(default_factory=dict)  # reserve id -> shares
    drawn_shares: dict[int, int] = field(default_factory=dict)

    def reserve_ids(self) -> set[int]:
        return {i for i, s in self.supply_shares.items() if s} | {
            i for i, d in self.drawn_shares.items() if d
        }

    def uses_as_collateral(self, reserve_id: int) -> bool:
        return bool(self.config >> (2 * reserve_id + 1) & 1)

    def is_borrowing(self, reserve_id: int) -> bool:
        return bool(self.config >> (2 * reserve_id) & 1)

    @property
    def has_debt(self) -> bool:
        return any(self.drawn_shares.values())


@dataclass(frozen=True)
class AccountData:
    total_collateral_value: int
    weighted_collateral_value: int
    total_debt_value_ray: int
    health_factor: int
    active_collateral_count: int
    borrow_count: int


@dataclass(frozen=True)
class LiquidationConfig:
    target_health_factor: int
    health_factor_for_max_bonus: int
    liquidation_bonus_factor: int


class PoolModel:
    """Reserves by id and accounts by address; `holders` is the oracle -> accounts index."""

    def __init__(self, reserves: Iterable[Reserve], liquidation_config: LiquidationConfig):
        self.reserves: dict[int, Reserve] = {r.id: r for r in reserves}
        self.by_asset: dict[str, Reserve] = {r.asset: r for r in self.reserves.values()}
        self.liquidation_config = liquidation_config
        self.accounts: dict[str, Account] = {}
        self.holders: dict[int, set[str]] = defaultdict(set)

    def update_reserve(self, reserve: Reserve) -> None:
        self.reserves[reserve.id] = reserve
        self.by_asset[reserve.asset] = reserve

    def set_account(self, account: Account) -> None:
        previous = self.accounts.get(account.address)
        if previous is not None:
            for reserve_id in previous.reserve_ids():
                self.holders[reserve_id].discard(account.address)
        self.accounts[account.address] = account
        for reserve_id in account.reserve_ids():
            self.holders[reserve_id].add(account.address)

    def forget(self, address: str) -> None:
        account = self.accounts.pop(address, None)
        if account:
            for reserve_id in account.reserve_ids():
                self.holders[reserve_id].discard(address)

    def holders_of(self, reserve_ids: Iterable[int]) -> set[str]:
        """Accounts that supply or borrow any of these reserves."""
        users: set[str] = set()
        for reserve_id in reserve_ids:
            users |= self.holders.get(reserve_id, set())
        return users

    def borrowers(self) -> list[str]:
        return [a.address for a in self.accounts.values() if a.has_debt]

    def account_data(self, address: str) -> AccountData:
        """The contract's `_accountData` in Python integers. Where a reserve the account uses as
        collateral or borrows has no price (the oracle does not answer), the health factor is the
        lens's UNREADABLE_HEALTH_FACTOR: the chain cannot value the account either."""
        account = self.accounts.get(address)
        collateral = weighted = debt_ray = active = borrows = 0
        unpriced = False
        if account is not None:
            for reserve_id, reserve in self.reserves.items():
                shares = account.supply_shares.get(reserve_id, 0)
                if shares and account.uses_as_collateral(reserve_id):
                    unpriced |= reserve.price == 0
                    if reserve.collateral_factor:
                        assets = maths.to_assets_down(
                            shares, reserve.total_added_assets, reserve.total_supply_shares
                        )
                        value = maths.to_value(assets, reserve.decimals, reserve.price)
                        collateral += value
                        weighted += value * reserve.collateral_factor
                        active += 1
                drawn = account.drawn_shares.get(reserve_id, 0)
                if drawn and account.is_borrowing(reserve_id):
                    unpriced |= reserve.price == 0
                    debt_ray += maths.to_value(drawn * reserve.borrow_index, reserve.decimals, reserve.price)
                    borrows += 1
        return AccountData(
            total_collateral_value=collateral,
            weighted_collateral_value=weighted,
            total_debt_value_ray=debt_ray,
            health_factor=(
                maths.UNREADABLE_HEALTH_FACTOR if unpriced else maths.health_factor(weighted, debt_ray)
            ),
            active_collateral_count=active,
            borrow_count=borrows,
        )

    def health_factor(self, address: str) -> int:
        return self.account_data(address).health_factor

    def health_factor_after(
        self, address: str, collateral_id: int, seized: int, debt_id: int, repaid: int
    ) -> int:
        """The account's health factor once `seized` assets of one collateral reserve and `repaid` of
        one debt reserve are gone (a liquidation as previewed; shares rounded toward the account),
        without changing the model."""
        account = self.accounts[address]
        collateral, debt = self.reserves[collateral_id], self.reserves[debt_id]
        seized_shares = (
            seized
            * (collateral.total_supply_shares + maths.VIRTUAL_SHARES)
            // (collateral.total_added_assets + maths.VIRTUAL_SHARES)
        )
        repaid_shares = repaid * maths.RAY // debt.borrow_index if debt.borrow_index else 0
        after = replace(
            account,
            supply_shares={
                **account.supply_shares,
                collateral_id: max(0, account.supply_shares.get(collateral_id, 0) - seized_shares),
            },
            drawn_shares={
                **account.drawn_shares,
                debt_id: max(0, account.drawn_shares.get(debt_id, 0) - repaid_shares),
            },
        )
        previous, self.accounts[address] = self.accounts[address], after
        try:
            return self.health_factor(address)
        finally:
            self.accounts[address] = previous

    def liquidation_pairs(self, address: str) -> list[tuple[Reserve, Reserve]]:
        """Every (collateral, debt) reserve pair a liquidation of this account could use."""
        account = self.accounts.get(address)
        if account is None:
            return []
        collaterals = [
            r
            for i, r in self.reserves.items()
            if account.supply_shares.get(i) and account.uses_as_collateral(i) and r.collateral_factor
        ]
        debts = [r for i, r in self.reserves.items() if account.drawn_shares.get(i)]
        return [(c, d) for c in collaterals for d in debts]

    def value_usd(self, reserve: Reserve, amount: int) -> float:
        """An amount of a reserve's token in dollars (for ranking and reports, not for math)."""
        return maths.to_value(amount, reserve.decimals, reserve.price) / 1e26
