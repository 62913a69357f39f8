"""Liquidation test helpers: positions built as users build them, and an independent model.

The model reads only raw state from the chain (shares, indexes, cash, deficits, feed prices,
configuration) and recomputes the health factor, the bonus and every liquidation amount with
`tests/reference/protocol_math.py`, the Python twin of protocol.md sections 3-6. Tests compare the pool's
`previewLiquidation`, `liquidate` and balances to it to the wei.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import brownie
from brownie import chain

from tests.reference import protocol_math as pm

MAX = 2**256 - 1
WAD = 10**18
RAY = 10**27
BPS = 10**4
USD = 10**26  # $1 of value
PRICE_MAX_AGE = 3600

#: The shared conftest lists these in this order, so the reserve ids are fixed.
SYMBOLS = ("WETH", "WBTC", "USDC", "DAI")

#: Liquidity the `supplier` provides on every reserve (whole tokens).
LIQUIDITY = {"WETH": 100_000, "WBTC": 10_000, "USDC": 500_000_000, "DAI": 500_000_000}


def cfg(
    collateral_factor: int = 80_00,
    max_bonus: int = 105_00,
    fee: int = 10_00,
    receive_shares: bool = True,
    paused: bool = False,
    frozen: bool = False,
    base_rate: int = 0,
    slope1: int = 0,
    slope2: int = 0,
    optimal: int = 80_00,
    max_ltv: int | None = None,
) -> tuple:
    """A ReserveConfig tuple in struct order (collateralFactor, maxLiquidationBonus,
    liquidationFee, receiveSharesEnabled, paused, frozen, baseRate, slopeBelowOptimal,
    slopeAboveOptimal, optimalUtilization, maxLtv); maxLtv defaults to the collateral factor."""
    return (collateral_factor, max_bonus, fee, receive_shares, paused, frozen, base_rate, slope1,
            slope2, optimal, collateral_factor if max_ltv is None else max_ltv)


# --------------------------------------------------------------------------------------------
# Independent model of the chain state
# --------------------------------------------------------------------------------------------


@dataclass
class ReserveState:
    asset: str
    id: int
    decimals: int
    price: int  # 8 decimals
    collateral_factor: int
    max_bonus: int
    fee: int
    receive_shares: bool
    paused: bool
    frozen: bool
    index: int
    cash: int
    total_supply_shares: int
    total_drawn_shares: int
    deficit: int

    @property
    def total_assets(self) -> int:
        """cash + drawn debt rounded down + deficit (protocol.md section 2)."""
        return self.cash + pm.ray_mul_down(self.total_drawn_shares, self.index) + self.deficit

    def to_assets_down(self, shares: int) -> int:
        return pm.to_assets_down(shares, self.total_assets, self.total_supply_shares)


def token_at(address):
    """An ERC20 handle for any token address (MockERC20's ABI)."""
    return brownie.Contract.from_abi("ERC20", str(address), brownie.MockERC20.abi)


def price_of(p, asset) -> int:
    """The 8-decimal price, read from the asset's primary feed (not through the pool). Feed
    handles are cached on the (per-module) Protocol object."""
    cache = p.__dict__.setdefault("_feed_cache", {})
    if str(asset) not in cache:
        feed_address, _, decimals = p.oracle.getFeed(asset)
        feed = brownie.Contract.from_abi("Feed", str(feed_address), brownie.MockPriceFeed.abi)
        cache[str(asset)] = (feed, decimals)
    feed, decimals = cache[str(asset)]
    answer = feed.latestAnswer()
    return answer * 10**8 // 10**decimals if decimals >= 8 else answer * 10 ** (8 - decimals)


def reserve_state(p, asset) -> ReserveState:
    data = p.pool.getReserveData(asset)
    c = data[0]
    return ReserveState(
        asset=str(asset), id=data[1], decimals=data[2], price=price_of(p, asset),
        collateral_factor=c[0], max_bonus=c[1], fee=c[2], receive_shares=c[3], paused=c[4],
        frozen=c[5], index=data[3], cash=data[5], total_supply_shares=data[6],
        total_drawn_shares=data[7], deficit=data[10],
    )


@dataclass
class AccountState:
    weighted: int  # sum CF * value
    collateral_value: int
    debt_value_ray: int
    health_factor: int
    active_collaterals: list = field(default_factory=list)
    borrows: dict = field(default_factory=dict)  # asset -> drawn shares
    supplies: dict = field(default_factory=dict)  # asset -> supply shares
    reserves: dict = field(default_factory=dict)  # asset -> ReserveState, for the assets used


def account_state(p, user) -> AccountState:
    """Health factor and positions of `user` from raw shares and prices (protocol.md section 3)."""
    config = p.pool.getUserConfig(user)
    acc = AccountState(0, 0, 0, 0)
    for asset in p.pool.getReservesList():
        supply_shares, drawn = p.pool.getUserShares(user, asset)
        if supply_shares == 0 and drawn == 0:
            continue
        if supply_shares:
            acc.supplies[str(asset)] = supply_shares
        r = acc.reserves[str(asset)] = reserve_state(p, asset)
        enabled = (config >> (2 * r.id + 1)) & 1 == 1
        if enabled and supply_shares > 0 and r.collateral_factor > 0:
            value = pm.to_value(r.to_assets_down(supply_shares), r.decimals, r.price)
            acc.collateral_value += value
            acc.weighted += r.collateral_factor * value
            acc.active_collaterals.append(str(asset))
        if drawn > 0:
            assert (config >> (2 * r.id)) & 1 == 1, "borrowing bit set for every debt"
            acc.borrows[str(asset)] = drawn
            acc.debt_value_ray += pm.to_value(drawn * r.index, r.decimals, r.price)
    acc.health_factor = pm.health_factor(acc.weighted, acc.debt_value_ray)
    return acc


@dataclass
class Expected:
    """What the model says a liquidation does."""

    health_factor: int
    bonus: int
    debt_shares: int
    debt_to_repay: int
    collateral_shares: int
    fee_shares: int
    liquidator_shares: int
    collateral_seized: int
    to_liquidator: int
    protocol_fee: int
    deficit: bool
    remaining_debts: dict  # asset -> assets written off if deficit
    coll: ReserveState
    debt: ReserveState
    account: AccountState
    debt_to_target_ray: int

    @property
    def preview(self) -> tuple:
        return (self.health_factor, self.bonus, self.debt_to_repay, self.collateral_seized,
                self.to_liquidator, self.protocol_fee, self.deficit)


def model_liquidation(p, coll_asset, debt_asset, user, debt_to_cover) -> Expected:
    """The model's liquidation of `user`; raises pm.MustNotLeaveDust where the pool must revert."""
    acc = account_state(p, user)
    rc = acc.reserves.get(str(coll_asset)) or reserve_state(p, coll_asset)
    rd = acc.reserves.get(str(debt_asset)) or reserve_state(p, debt_asset)
    target_hf, hf_max_bonus, bonus_factor = p.pool.getLiquidationConfig()
    bonus = pm.liquidation_bonus(rc.max_bonus, acc.health_factor, hf_max_bonus, bonus_factor)
    supply_shares = acc.supplies.get(str(coll_asset), 0)
    drawn = acc.borrows.get(str(debt_asset), 0)
    inputs = pm.LiquidationInputs(
        health_factor=acc.health_factor, total_debt_value_ray=acc.debt_value_ray,
        target_health_factor=target_hf, liquidation_bonus=bonus,
        collateral_factor=rc.collateral_factor,
        liquidation_fee=0 if str(user) == str(p.fund) else rc.fee,  # the fund pays itself no fee
        debt_to_cover=debt_to_cover, drawn_shares=drawn, borrow_index=rd.index,
        debt_price=rd.price, debt_decimals=rd.decimals, supply_shares=supply_shares,
        collateral_price=rc.price, collateral_decimals=rc.decimals,
        collateral_total_assets=rc.total_assets, collateral_total_shares=rc.total_supply_shares,
    )
    t = pm.debt_to_target_ray(acc.debt_value_ray, rd.decimals, rd.price, target_hf,
                              acc.health_factor, bonus, rc.collateral_factor)
    a = pm.liquidation_amounts(inputs)
    deficit = pm.is_deficit(supply_shares - a.collateral_shares, len(acc.active_collaterals),
                            drawn - a.debt_shares, len(acc.borrows))
    remaining = {}
    if deficit:
        for asset, shares in acc.borrows.items():
            left = shares - (a.debt_shares if asset == str(debt_asset) else 0)
            if left:
                remaining[asset] = pm.ray_mul_up(left, acc.reserves[asset].index)
    return Expected(
        health_factor=acc.health_factor, bonus=bonus, debt_shares=a.debt_shares,
        debt_to_repay=a.debt_to_repay, collateral_shares=a.collateral_shares,
        fee_shares=a.fee_shares, liquidator_shares=a.liquidator_shares,
        collateral_seized=rc.to_assets_down(a.collateral_shares),
        to_liquidator=rc.to_assets_down(a.liquidator_shares),
        protocol_fee=rc.to_assets_down(a.fee_shares), deficit=deficit,
        remaining_debts=remaining, coll=rc, debt=rd, account=acc, debt_to_target_ray=t,
    )


def liquidate_and_check(p, coll_asset, debt_asset, user, debt_to_cover, liquidator,
                        receive_shares=False):
    """Liquidates and checks event, preview, balances and shares against the model, to the wei.

    Returns (tx, expected)."""
    exp = model_liquidation(p, coll_asset, debt_asset, user, debt_to_cover)
    preview = p.pool.previewLiquidation(coll_asset, debt_asset, user, debt_to_cover,
                                        {"from": liquidator})
    assert tuple(preview) == exp.preview, "preview equals the model"

    coll_token = token_at(coll_asset)
    debt_token = token_at(debt_asset)
    coll_before = coll_token.balanceOf(liquidator)
    debt_before = debt_token.balanceOf(liquidator)
    liq_shares_before = p.pool.getUserShares(liquidator, coll_asset)[0]
    fund_before = p.pool.getUserShares(p.fund, coll_asset)[0]
    user_coll_before = p.pool.getUserShares(user, coll_asset)[0]
    user_debt_before = p.pool.getUserShares(user, debt_asset)[1]
    deficits_before = {a: p.pool.deficit(a) for a in exp.remaining_debts}

    tx = p.pool.liquidate(coll_asset, debt_asset, user, debt_to_cover, receive_shares,
                          {"from": liquidator})
    assert tuple(tx.return_value) == (exp.debt_to_repay, exp.collateral_seized)
    event = tx.events["LiquidationCall"]
    assert event["debtRepaid"] == exp.debt_to_repay
    assert event["collateralSeized"] == exp.collateral_seized
    assert event["protocolFee"] == exp.protocol_fee
    assert event["liquidationBonus"] == exp.bonus
    assert event["healthFactorBefore"] == exp.health_factor
    assert event["receiveShares"] == receive_shares
    assert event["liquidator"] == liquidator

    assert debt_before - debt_token.balanceOf(liquidator) == exp.debt_to_repay
    if receive_shares:
        assert coll_token.balanceOf(liquidator) == coll_before
        assert p.pool.getUserShares(liquidator, coll_asset)[0] - liq_shares_before == \
            exp.liquidator_shares
    else:
        assert coll_token.balanceOf(liquidator) - coll_before == exp.to_liquidator
        assert p.pool.getUserShares(liquidator, coll_asset)[0] == liq_shares_before
    assert p.pool.getUserShares(p.fund, coll_asset)[0] - fund_before == exp.fee_shares
    assert user_coll_before - p.pool.getUserShares(user, coll_asset)[0] == exp.collateral_shares

    debt_after = p.pool.getUserShares(user, debt_asset)[1]
    if exp.deficit:
        assert debt_after == 0
        reported = {str(e["asset"]): e["amount"] for e in tx.events["DeficitReported"]} \
            if "DeficitReported" in tx.events else {}
        assert reported == exp.remaining_debts
        # v2: the write-off is settled in the same call (fund first, then all suppliers) unless the
        # reserve is paused, where it stays recorded for settleDeficit.
        settled: dict = {}
        for name in ("DeficitCovered", "DeficitSocialized"):
            for e in tx.events[name] if name in tx.events else []:
                settled[str(e["asset"])] = settled.get(str(e["asset"]), 0) + e["amount"]
        for a, amount in exp.remaining_debts.items():
            if exp.account.reserves[a].paused:
                assert p.pool.deficit(a) - deficits_before[a] == amount
            else:
                assert p.pool.deficit(a) == 0, "the deficit is settled at once"
                assert settled.get(a, 0) == deficits_before[a] + amount
    else:
        assert "DeficitReported" not in tx.events
        assert user_debt_before - debt_after == exp.debt_shares
    assert_no_zombie(p, user)
    return tx, exp


def assert_no_zombie(p, user) -> None:
    """No account holds debt without active collateral (protocol.md section 6)."""
    data = p.pool.getUserAccountData(user)
    if data[5] > 0:
        assert data[4] > 0, "no debt without active collateral"


# --------------------------------------------------------------------------------------------
# Building positions
# --------------------------------------------------------------------------------------------


def open_position(p, user, collateral: dict, debt: dict, prices: dict | None = None) -> None:
    """`user` supplies `collateral` and borrows `debt` (symbol -> token units), then the prices
    move to `prices` (symbol -> 8-decimal price). Borrowing happens with every collateral price
    raised 1000x, so any final health factor can be reached (the price trick of the worked
    examples)."""
    for symbol, amount in collateral.items():
        p.supply(user, symbol, amount)
    original = {s: p.feeds[s].latestAnswer() for s in collateral}
    for s in collateral:
        if s not in debt:
            p.set_price(s, original[s] * 1000)
    for symbol, amount in debt.items():
        p.borrow(user, symbol, amount)
    for s in collateral:
        p.set_price(s, original[s])
    for s, price in (prices or {}).items():
        p.set_price(s, price)


def set_config(p, symbol: str, **changes) -> None:
    """Updates some fields of a reserve's configuration; the paused and frozen flags (which an update
    keeps) through setReservePaused and setReserveFrozen."""
    token = p.tokens[symbol]
    if "frozen" in changes:
        p.pool.setReserveFrozen(token, changes.pop("frozen"), {"from": p.deployer})
    if "paused" in changes:
        p.pool.setReservePaused(token, changes.pop("paused"), {"from": p.deployer})
    c = p.pool.getReserveData(token)[0]
    current = dict(collateral_factor=c[0], max_bonus=c[1], fee=c[2], receive_shares=c[3],
                   paused=c[4], frozen=c[5], base_rate=c[6], slope1=c[7], slope2=c[8],
                   optimal=c[9], max_ltv=c[10])
    if "collateral_factor" in changes and "max_ltv" not in changes:
        changes["max_ltv"] = changes["collateral_factor"]  # the helpers' default: borrow at the same line
    current.update(changes)
    p.pool.updateReserveConfig(token, cfg(**current), {"from": p.deployer})


def set_health_factor(p, user, symbol: str, hf: int) -> int:
    """Moves the price of `user`'s collateral `symbol` so that the health factor is `hf` or just
    below it (the price is rounded down); returns the new price. `symbol` must not be borrowed."""
    acc = account_state(p, user)
    token = p.tokens[symbol]
    r = reserve_state(p, token)
    shares = p.pool.getUserShares(user, token)[0]
    own = r.collateral_factor * pm.to_value(r.to_assets_down(shares), r.decimals, r.price)
    needed = hf * acc.debt_value_ray // (10**14 * RAY)
    price = (needed - (acc.weighted - own)) * r.price // own
    assert price > 0, "the other collateral alone is worth more than the target"
    p.set_price(symbol, price)
    return price


def debt_for_health_factor(p, collateral: dict, debt_symbol: str, hf: int) -> int:
    """Debt units of `debt_symbol` that give health factor `hf` against fresh `collateral`
    (symbol -> units) at current prices and share price 1."""
    weighted = 0
    for symbol, amount in collateral.items():
        r = reserve_state(p, p.tokens[symbol])
        weighted += r.collateral_factor * pm.to_value(amount, r.decimals, r.price)
    rd = reserve_state(p, p.tokens[debt_symbol])
    value = weighted * WAD // (hf * BPS)
    return value // (rd.price * 10 ** (18 - rd.decimals))


def season(p, borrower):
    """Runs interest on every reserve, then stops it: borrow indexes above RAY and supply share
    prices above 1 (so every rounding direction matters), with zero rates afterwards so that the
    model and the chain see the same amounts whatever the block time. `borrower` keeps the
    loans (backed by WBTC)."""
    p.supply(borrower, "WBTC", p.units("WBTC", 2_000))
    for symbol in SYMBOLS:
        set_config(p, symbol, base_rate=7_77, slope1=13_13, slope2=150_00)
    loans = {"WETH": 3_333, "WBTC": 77, "USDC": 12_345_678, "DAI": 23_456_789}
    for symbol, amount in loans.items():
        p.borrow(borrower, symbol, p.units(symbol, amount))
    chain.sleep(86_400 * 97 + 12_345)
    chain.mine()
    for symbol in SYMBOLS:
        set_config(p, symbol, base_rate=0, slope1=0, slope2=0)
    p.refresh_prices()
    return p

