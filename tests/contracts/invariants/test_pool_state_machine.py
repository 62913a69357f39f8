"""Model-based stateful test of the whole pool (Curve's pattern).

Five users, a keeper and the fee receiver act on the four listed reserves (WETH and USDC with a
non-zero rate model, WBTC and DAI at zero interest) through random supplies, withdrawals,
borrows, repayments, collateral toggles, price moves and shocks, time passing, liquidations,
deficit settlement and cover, donations and reserve flags. Every rule first applies the operation
to a copy of `PoolModel` (pool_model.py, written from protocol.md): the model either predicts the
named revert, which the chain must produce to the argument, or the exact amounts, which the
chain's events must carry; only then does the model advance. After every step the invariants of
invariants.py are checked against the chain, and the whole chain state is compared with the model.

Deterministic clock: the test puts its Anvil (dev3) in `anvil_setBlockTimestampInterval(0)` mode,
so every block has the timestamp of the previous one and time passes only when a rule says so
(`evm_setNextBlockTimestamp`, then fresh prices). A preview (an `eth_call` on the latest block)
and the liquidation sent right after it therefore run at the same timestamp, and the model knows
the timestamp of every transaction before it is sent. `chain.sleep` has no effect in this mode.
Time may also pass without fresh prices: every price read then reverts StalePrice, as predicted.

Run: brownie test tests/contracts/invariants --network dev3 -W ignore::FutureWarning
(add `-s` to see what the runs exercised: counts of every rule, revert and liquidation kind).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from fractions import Fraction
from pathlib import Path

import invariants as inv
import pytest
from brownie import accounts, chain, web3
from brownie.exceptions import TransactionError, VirtualMachineError
from brownie.test import strategy
from eth_abi import encode as abi_encode
from hypothesis import HealthCheck
from hypothesis import strategies as st
from pool_model import (
    BPS,
    DUST_LIQUIDATION_THRESHOLD,
    MAX_UINT256,
    RAY,
    WAD,
    PoolModel,
    ReserveModel,
    Revert,
)

from tests.reference.protocol_math import to_assets_down, to_value

SYMBOLS = ("WETH", "WBTC", "USDC", "DAI")
INITIAL_PRICES = {"WETH": 2000 * 10**8, "WBTC": 60_000 * 10**8, "USDC": 10**8, "DAI": 10**8}

#: Rate models (baseRate, slopeBelowOptimal, slopeAboveOptimal, optimalUtilization), BPS per year.
#: Steep enough that a few weeks of time visibly move indexes, share prices and health factors.
RATE_MODELS = {"WETH": (3_00, 20_00, 300_00, 80_00), "USDC": (5_00, 40_00, 200_00, 90_00)}

#: Liquidity the whale (the last user) supplies on every reserve at the start, in dollars.
WHALE_LIQUIDITY_USD = 400_000
#: What the insurance fund (fee receiver) holds on every reserve at the start, in dollars.
FUND_SEED_USD = 3_000

SETTINGS = {
    "max_examples": 30,
    "stateful_step_count": 25,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}

CLOCK = "deterministic clock: a transaction runs at the latest block's timestamp"


# ------------------------------------------------------------------------------------ chain reads


def latest_timestamp() -> int:
    return web3.eth.get_block("latest")["timestamp"]


class CallReverted:
    """A view call in a batch that reverted, with its revert data."""

    def __init__(self, data: str):
        self.data = data

    def __repr__(self) -> str:
        return f"CallReverted({self.data})"


#: Signatures of the custom errors a batched view call may revert with.
ERROR_SIGNATURES = {"StalePrice": "StalePrice(address,uint256,uint256)"}


def revert_data(revert: Revert) -> str:
    """The ABI-encoded revert data of a predicted custom error."""
    signature = ERROR_SIGNATURES[revert.name]
    types = signature[signature.index("(") + 1 : -1].split(",")
    return (
        "0x" + (web3.keccak(text=signature)[:4] + abi_encode(types, list(revert.error_args))).hex()
    )


def batch_call(calls: list, allow_revert: bool = False) -> list:
    """Many view calls in one JSON-RPC batch on the latest block: [(ContractCall, args), ...].

    With `allow_revert`, a reverted call gives a `CallReverted` instead of failing the test."""
    requests = [
        ("eth_call", [{"to": fn._address, "data": fn.encode_input(*args)}, "latest"])
        for fn, args in calls
    ]
    responses = web3.provider.make_batch_request(requests)
    out = []
    for (fn, args), response in zip(calls, responses, strict=True):
        if "error" in response and allow_revert and "data" in response["error"]:
            out.append(CallReverted(response["error"]["data"]))
            continue
        assert "error" not in response, f"view call {fn._name}{args} failed: {response['error']}"
        out.append(fn.decode_output(response["result"]))
    return out


class RecoveredRevert(Exception):
    """A reverted transaction whose receipt `transact` had to fetch itself."""

    def __init__(self, revert_msg: str):
        super().__init__(revert_msg)
        self.revert_msg = revert_msg


def transact(send):
    """`send()` (a Brownie transaction), robust to a Brownie/Anvil race.

    Brownie's confirmation thread reads the sender's nonce and then the receipt; when Anvil has
    bumped the nonce but not yet indexed the receipt, Brownie wrongly reports "Tx dropped without
    known replacement". The transaction was mined: fetch its receipt and carry on."""
    try:
        return send()
    except TransactionError as error:
        message = str(error)
        if "dropped without known replacement" not in message:
            raise
        txid = message.rsplit(" ", 1)[-1]
        web3.eth.wait_for_transaction_receipt(txid, timeout=30)
        tx = chain.get_transaction(txid)
        if tx.status == 1:
            return tx
        raise RecoveredRevert(tx.revert_msg) from None


#: What the runs exercised (printed at the end; the test fails if liquidations never ran).
STATS: Counter = Counter()


def pick(seq, seed: int):
    return seq[seed % len(seq)]


def prefer(preferred, fallback, seed: int, every: int = 5):
    """`preferred[seed]` (wrapping), but `fallback[seed]` one time in `every` or when there is
    nothing to prefer: the rules mostly act where something can happen, and sometimes anywhere."""
    if preferred and seed % every != every - 1:
        return pick(preferred, seed)
    return pick(fallback, seed)


def expect(model: PoolModel, description: str, op, send):
    """Apply `op(model_copy, now)`; send; hold the chain to the prediction.

    Returns (model after, receipt or None, op's result or None)."""
    now = latest_timestamp()
    trial = model.copy()
    try:
        result = op(trial, now)
        expected = None
    except Revert as revert:
        expected, result = revert, None
    try:
        tx = transact(send)
    except (VirtualMachineError, RecoveredRevert) as error:
        STATS[f"{description.split()[0]} reverted {error.revert_msg.split(':')[0]}"] += 1
        assert expected is not None, (
            f"{inv.REVERTS_AS_SPECIFIED}: {description} reverted with {error.revert_msg!r}, "
            f"the model expected success"
        )
        assert error.revert_msg == expected.message, (
            f"{inv.REVERTS_AS_SPECIFIED}: {description} reverted with {error.revert_msg!r}, "
            f"the model expected {expected.message!r}"
        )
        return model, None, None
    assert expected is None, (
        f"{inv.REVERTS_AS_SPECIFIED}: {description} succeeded, the model expected "
        f"{expected.message!r}"
    )
    assert tx.timestamp == now, CLOCK
    STATS[f"{description.split()[0]} succeeded"] += 1
    return trial, tx, result


def events(tx, name: str) -> list:
    return [e for e in tx.events if e.name == name]


# ------------------------------------------------------------------------------- state machine


class PoolStateMachine:
    """Rules are `rule_*`; every one either expects a named revert or updates the model."""

    # Hypothesis starts from, and shrinks towards, the smallest draw of every strategy (zero, the
    # first element), and a short run is mostly such draws: each strategy is laid out so that its
    # smallest draw is a productive choice, and the rules read seeds with `prefer`.
    st_seed = strategy("uint8")
    st_asset = strategy("uint8", max_value=3)
    st_bool = strategy("bool")
    #: dollars = 20,000 + draw: $100 to $250,000.
    st_usd = st.integers(min_value=-19_900, max_value=230_000)
    #: share of the borrow headroom, BPS = 9,900 - draw: 99% first, up to 110% (must revert).
    st_headroom = st.integers(min_value=-1_100, max_value=9_800)
    st_init_headroom = st.integers(min_value=0, max_value=4_900)
    st_supply_mode = st.sampled_from(["usd", "usd", "usd", "zero", "one unit"])
    st_part = st.sampled_from([50, "max", 100, 10, 99, 1, 110, 0])  # % of the position
    st_seconds = st.integers(min_value=-86_399, max_value=45 * 86_400)  # 1 day + draw
    st_price_move = st.integers(min_value=-60, max_value=40)  # new price = (90 - draw)%
    st_shock = st.integers(min_value=0, max_value=6_990)  # target HF = 0.999 - draw BPS
    st_flag = st.sampled_from(["frozen", "receiveShares", "paused"])
    st_cover = st.sampled_from(["max", "fraction", "exact", "max", "exact - 1", "fraction", "zero"])
    st_fraction = st.integers(min_value=1, max_value=15_000)  # BPS of the reserve debt
    st_partial_cover = st.sampled_from(["fraction", "exact", "exact - 1"])
    st_refresh = st.sampled_from([True, True, True, False])

    def __init__(cls, protocol):
        """Once per test: rate models, balances, approvals, the whale's liquidity and the
        insurance fund's seed; the model replays each step, and Brownie snapshots the result."""
        cls.p = protocol
        cls.pool = protocol.pool
        cls.deployer = protocol.deployer
        cls.guardian = protocol.guardian
        cls.users = [a.address for a in accounts[1:6]]
        cls.keeper = accounts[6].address
        cls.fund = protocol.fund.address
        cls.actors = [*cls.users, cls.keeper]
        cls.tracked = [*cls.actors, cls.fund]
        cls.tokens = protocol.tokens

        refresh_prices(protocol)
        reserves = {}
        for symbol in SYMBOLS:
            data = cls.pool.getReserveData(cls.tokens[symbol])
            reserves[symbol] = ReserveModel(
                symbol=symbol,
                asset=cls.tokens[symbol].address,
                id=data[1],
                decimals=data[2],
                config=list(data[0]),
                price=data[11],
                price_updated_at=latest_timestamp(),
                index=data[3],
                last_update=data[4],
            )
            assert data[11] == INITIAL_PRICES[symbol]
            assert (data[5], data[6], data[7], data[10]) == (0, 0, 0, 0), "fresh reserves"
        model = PoolModel(reserves=reserves, fee_receiver=cls.fund, guardian=str(cls.guardian))

        for symbol, (base, slope1, slope2, optimal) in RATE_MODELS.items():
            current = tuple(reserves[symbol].config)
            config = (*current[:6], base, slope1, slope2, optimal, current[10])
            model, tx, _ = expect(
                model,
                f"updateReserveConfig({symbol})",
                lambda m, now, s=symbol, c=config: m.update_config(s, c, now),
                lambda s=symbol, c=config: cls.pool.updateReserveConfig(
                    cls.tokens[s], c, {"from": cls.deployer}
                ),
            )
            assert tx is not None
        for account in cls.actors:
            for symbol in SYMBOLS:
                token = cls.tokens[symbol]
                amount = 10**15 * 10 ** token.decimals()
                transact(lambda t=token, a=account, n=amount: t.mint(a, n, {"from": a}))
                transact(lambda t=token, a=account: t.approve(cls.pool, MAX_UINT256, {"from": a}))
        whale = cls.users[-1]
        for symbol in SYMBOLS:
            amount = usd_to_units(model.reserves[symbol], WHALE_LIQUIDITY_USD)
            model, tx, _ = expect(
                model,
                f"whale supply {symbol}",
                lambda m, now, s=symbol, a=amount: m.supply(whale, s, a, whale, now),
                lambda s=symbol, a=amount: cls.pool.supply(
                    cls.tokens[s], a, whale, {"from": whale}
                ),
            )
            assert tx is not None
        # The insurance fund starts with a little of every reserve, so that settleDeficit can
        # burn its shares before socialising the rest.
        fund = cls.fund
        for symbol in SYMBOLS:
            token = cls.tokens[symbol]
            amount = usd_to_units(model.reserves[symbol], FUND_SEED_USD)
            transact(lambda t=token, n=amount: t.mint(fund, n, {"from": fund}))
            transact(lambda t=token: t.approve(cls.pool, MAX_UINT256, {"from": fund}))
            model, tx, _ = expect(
                model,
                f"fund supply {symbol}",
                lambda m, now, s=symbol, a=amount: m.supply(fund, s, a, fund, now),
                lambda s=symbol, a=amount: cls.pool.supply(cls.tokens[s], a, fund, {"from": fund}),
            )
            assert tx is not None
        cls.initial_model = model

    def setup(self):
        self.model = self.initial_model.copy()
        self._chain = None
        self._previous = None
        self.socialized = set()

    # ------------------------------------------------------------------ helpers

    def _begin(self, line: str) -> None:
        """Start of a step: the chain is about to change (`line` documents the call)."""
        self._chain = None
        STATS[f"step {line.split('(')[0]}"] += 1

    def _run(self, description: str, op, send):
        self.model, tx, result = expect(self.model, description, op, send)
        return tx, result

    def _open_position(self, user, coll_seed, debt_seed, usd, headroom):
        coll = SYMBOLS[coll_seed % 3]  # DAI has no collateral factor
        debt = pick(SYMBOLS, debt_seed + 2)  # stablecoin debt first
        amount = usd_to_units(self.model.reserves[coll], 20_000 + usd)
        bps = 9_900 - headroom
        self._run(
            f"supply {amount} {coll} for {user}",
            lambda m, now: m.supply(user, coll, amount, user, now),
            lambda: self.pool.supply(self.tokens[coll], amount, user, {"from": user}),
        )
        now = latest_timestamp()
        borrow = max(1, self.model.max_borrow(user, debt, now) * bps // BPS)
        self._run(
            f"borrow {borrow} {debt} by {user}",
            lambda m, now: m.borrow(user, debt, borrow, now),
            lambda: self.pool.borrow(self.tokens[debt], borrow, {"from": user}),
        )

    # ------------------------------------------------------------- initialisation

    def initialize_borrower_a(
        self, coll="st_seed", debt="st_seed", usd="st_usd", bps="st_init_headroom"
    ):
        self._begin(f"initialize_borrower_a({coll}, {debt}, {usd}, {bps})")
        self._open_position(self.users[0], coll, debt, usd, bps)

    def initialize_borrower_b(
        self, coll="st_seed", debt="st_seed", usd="st_usd", bps="st_init_headroom"
    ):
        self._begin(f"initialize_borrower_b({coll}, {debt}, {usd}, {bps})")
        self._open_position(self.users[1], coll, debt, usd, bps)

    def initialize_borrower_c(
        self, coll="st_seed", debt="st_seed", usd="st_usd", bps="st_init_headroom"
    ):
        self._begin(f"initialize_borrower_c({coll}, {debt}, {usd}, {bps})")
        self._open_position(self.users[2], coll, debt, usd, bps)

    # ------------------------------------------------------------------ user rules

    def rule_supply(
        self, user="st_seed", other="st_seed", asset="st_asset", usd="st_usd", mode="st_supply_mode"
    ):
        self._begin(f"rule_supply({user}, {other}, {asset}, {usd}, {mode!r})")
        payer = pick(self.users, user)
        on_behalf = pick(self.users, other) if other % 4 == 3 else payer
        symbol = SYMBOLS[asset]
        r = self.model.reserves[symbol]
        amount = {"zero": 0, "one unit": 1}.get(mode) or max(1, usd_to_units(r, 20_000 + usd))
        tx, shares = self._run(
            f"supply {amount} {symbol} from {payer} for {on_behalf}",
            lambda m, now: m.supply(payer, symbol, amount, on_behalf, now),
            lambda: self.pool.supply(self.tokens[symbol], amount, on_behalf, {"from": payer}),
        )
        if tx:
            event = tx.events["Supply"]
            assert (event["assets"], event["shares"]) == (amount, shares), inv.OUTCOME_MATCHES_MODEL

    def rule_withdraw(self, user="st_seed", asset="st_seed", part="st_part"):
        self._begin(f"rule_withdraw({user}, {asset}, {part!r})")
        now = latest_timestamp()
        suppliers = [a for a in self.actors if any(self.model.shares(a, s) for s in SYMBOLS)]
        account = prefer(suppliers, self.actors, user)
        supplied_in = [s for s in SYMBOLS if self.model.shares(account, s)]
        symbol = prefer(supplied_in, SYMBOLS, asset)
        supplied = self.model.supplied(account, symbol, now)
        amount = amount_of(part, supplied)
        tx, result = self._run(
            f"withdraw {amount} {symbol} by {account}",
            lambda m, now: m.withdraw(account, symbol, amount, now),
            lambda: self.pool.withdraw(self.tokens[symbol], amount, account, {"from": account}),
        )
        if tx:
            event = tx.events["Withdraw"]
            assert (event["assets"], event["shares"]) == result, inv.OUTCOME_MATCHES_MODEL

    def rule_borrow(self, user="st_seed", asset="st_seed", headroom="st_headroom"):
        """Borrow a share of the model's headroom: above 100% the HF check must revert."""
        self._begin(f"rule_borrow({user}, {asset}, {headroom})")
        now = latest_timestamp()
        with_collateral = [
            u for u in self.users if self.model.account(u, now).active_collateral_count
        ]
        account = prefer(with_collateral, self.users, user)
        symbol = pick(SYMBOLS, asset + 2)
        amount = max(1, self.model.max_borrow(account, symbol, now) * (9_900 - headroom) // BPS)
        tx, shares = self._run(
            f"borrow {amount} {symbol} by {account}",
            lambda m, now: m.borrow(account, symbol, amount, now),
            lambda: self.pool.borrow(self.tokens[symbol], amount, {"from": account}),
        )
        if tx:
            event = tx.events["Borrow"]
            assert (event["assets"], event["shares"]) == (amount, shares), inv.OUTCOME_MATCHES_MODEL

    def rule_repay(self, user="st_seed", payer="st_seed", asset="st_seed", part="st_part"):
        self._begin(f"rule_repay({user}, {payer}, {asset}, {part!r})")
        now = latest_timestamp()
        borrowers = [u for u in self.users if any(self.model.drawn(u, s) for s in SYMBOLS)]
        target = prefer(borrowers, self.users, user)
        debts = [s for s in SYMBOLS if self.model.drawn(target, s)]
        symbol = prefer(debts, SYMBOLS, asset)
        paying = pick(self.users, payer) if payer % 3 == 2 else target
        amount = amount_of(part, self.model.debt(target, symbol, now))
        balance_before = self.tokens[symbol].balanceOf(paying)
        tx, result = self._run(
            f"repay {amount} {symbol} of {target} by {paying}",
            lambda m, now: m.repay(paying, symbol, amount, target, now),
            lambda: self.pool.repay(self.tokens[symbol], amount, target, {"from": paying}),
        )
        if tx:
            event = tx.events["Repay"]
            assert (event["assets"], event["shares"]) == result, inv.OUTCOME_MATCHES_MODEL
            paid = balance_before - self.tokens[symbol].balanceOf(paying)
            assert paid == result[0], f"{inv.OUTCOME_MATCHES_MODEL}: repay took {paid}"

    def rule_set_collateral(self, user="st_seed", asset="st_asset", enabled="st_bool"):
        self._begin(f"rule_set_collateral({user}, {asset}, {enabled})")
        account = pick(self.actors, user)
        symbol = SYMBOLS[asset]
        tx, changed = self._run(
            f"setUsingAsCollateral({symbol}, {enabled}) by {account}",
            lambda m, now: m.set_using_as_collateral(account, symbol, enabled, now),
            lambda: self.pool.setUsingAsCollateral(self.tokens[symbol], enabled, {"from": account}),
        )
        if tx:
            assert len(events(tx, "CollateralToggled")) == int(changed), inv.OUTCOME_MATCHES_MODEL

    def rule_open_position(
        self,
        user="st_seed",
        coll="st_seed",
        debt="st_seed",
        usd="st_usd",
        headroom="st_init_headroom",
    ):
        """Supply collateral and borrow most of its headroom: the raw material of liquidations."""
        self._begin(f"rule_open_position({user}, {coll}, {debt}, {usd}, {headroom})")
        self._open_position(pick(self.users[:-1], user), coll, debt, usd, headroom)

    # ----------------------------------------------------------------- market rules

    def rule_move_price(self, asset="st_asset", move="st_price_move"):
        self._begin(f"rule_move_price({asset}, {move})")
        pct = 90 - move
        symbol = SYMBOLS[asset]
        initial = INITIAL_PRICES[symbol]
        price = self.model.reserves[symbol].price * pct // 100
        price = min(max(price, initial // 20, 1), initial * 20)
        self._set_price(symbol, price)

    def rule_price_shock(self, user="st_seed", shock="st_shock"):
        """Drop the price of a borrower's largest collateral so that its HF lands near
        0.999 - shock BPS."""
        self._begin(f"rule_price_shock({user}, {shock})")
        self._shock(user, shock)

    def _shock(self, user: int, shock: int) -> None:
        """Move one price so that a borrower's HF lands near 0.999 - shock BPS: a collateral
        price down (largest first) or, failing that, a debt price up."""
        hf_bps = 9_990 - shock
        now = latest_timestamp()
        m = self.model
        candidates = [
            u
            for u in self.users
            if any(m.drawn(u, s) for s in SYMBOLS) and m.account(u, now).active_collateral_count
        ]
        if not candidates:
            STATS["price shock: no borrower with collateral"] += 1
            return
        account = pick(candidates, user)
        data = m.account(account, now)
        weighted, debt_ray = {}, {}
        for symbol in SYMBOLS:
            r = m.reserves[symbol]
            weighted[symbol] = (
                r.cf * to_value(m.supplied(account, symbol, now), r.decimals, r.price)
                if m.is_active_collateral(account, symbol)
                else 0
            )
            debt_ray[symbol] = to_value(
                m.drawn(account, symbol) * r.index_at(now), r.decimals, r.price
            )
        # HF(f) = (W - w + f w) * k / (D - d + f d) for a price scaled by f; solve HF(f) = target.
        k = 10**14 * RAY
        target = hf_bps * 10**14
        order = sorted(SYMBOLS, key=lambda s: (-weighted[s], -debt_ray[s]))
        for symbol in order:
            w, d = weighted[symbol], debt_ray[symbol]
            denominator = w * k - target * d
            if denominator == 0:
                continue
            factor = Fraction(
                target * (data.total_debt_value_ray - d) - (data.weighted_collateral_value - w) * k,
                denominator,
            )
            if Fraction(1, 1000) < factor < 1000 and factor != 1:
                r = m.reserves[symbol]
                STATS[f"price shock applied ({'down' if factor < 1 else 'up'})"] += 1
                # Round the price towards the target side (collateral down, debt up).
                price = int(r.price * factor) if factor < 1 else -(-r.price * factor // 1)
                self._set_price(symbol, max(1, int(price)))
                return
        STATS["price shock: no single price reaches the target"] += 1

    def _set_price(self, symbol: str, price: int) -> None:
        tx = transact(lambda: self.p.set_price(symbol, price))
        assert tx.timestamp == latest_timestamp(), CLOCK
        self.model.set_price(symbol, price, tx.timestamp)

    def rule_time_passes(self, seconds="st_seconds", refresh="st_refresh"):
        """Interest accrues. Usually the feeds publish again; otherwise every price older than the
        oracle's maxAge is stale and each operation that reads it must revert StalePrice (until
        a price move or a later refresh publishes again)."""
        self._begin(f"rule_time_passes({seconds}, {refresh})")
        target = latest_timestamp() + 86_400 + seconds
        web3.provider.make_request("evm_setNextBlockTimestamp", [target])
        if refresh:
            refresh_prices(self.p)
            for r in self.model.reserves.values():
                r.price_updated_at = target
        else:
            web3.provider.make_request("evm_mine", [])
        assert latest_timestamp() == target, CLOCK

    def rule_donate(self, user="st_seed", asset="st_asset", usd="st_usd"):
        """Tokens sent straight to the pool are not on its books (cash is book-kept)."""
        self._begin(f"rule_donate({user}, {asset}, {usd})")
        account = pick(self.users, user)
        symbol = SYMBOLS[asset]
        amount = max(1, usd_to_units(self.model.reserves[symbol], 20_000 + usd) // 100)
        transact(lambda: self.tokens[symbol].transfer(self.pool, amount, {"from": account}))
        self.model.donate(symbol, amount)

    def rule_toggle_flag(self, asset="st_asset", flag="st_flag"):
        """Flip paused (the guardian pauses; the owner, or sometimes the guardian, who may not, unpauses),
        frozen (owner) or receiveSharesEnabled (owner, through updateReserveConfig) on one reserve."""
        self._begin(f"rule_toggle_flag({asset}, {flag!r})")
        symbol = SYMBOLS[asset]
        r = self.model.reserves[symbol]
        if flag == "paused":
            paused = not r.config[4]
            by_owner = not paused and asset % 3 != 0
            sender = self.deployer if by_owner else self.guardian
            self._run(
                f"setReservePaused({symbol}, {paused}) by {'owner' if by_owner else 'guardian'}",
                lambda m, now: m.set_paused(symbol, paused, by_owner, now),
                lambda: self.pool.setReservePaused(self.tokens[symbol], paused, {"from": sender}),
            )
            return
        if flag == "frozen":
            frozen = not r.config[5]
            self._run(
                f"setReserveFrozen({symbol}, {frozen})",
                lambda m, now: m.set_frozen(symbol, frozen),
                lambda: self.pool.setReserveFrozen(self.tokens[symbol], frozen, {"from": self.deployer}),
            )
            return
        config = list(r.config)
        config[3] = not config[3]  # receiveSharesEnabled
        config = tuple(config)
        self._run(
            f"updateReserveConfig({symbol}, {config})",
            lambda m, now: m.update_config(symbol, config, now),
            lambda: self.pool.updateReserveConfig(
                self.tokens[symbol], config, {"from": self.deployer}
            ),
        )

    # ----------------------------------------------------------------- liquidation

    def _ensure_liquidatable(self, user: int, shock: int) -> list:
        """The liquidatable users, after a price shock if there were none."""
        if not any(self.model.health(u, latest_timestamp()) < WAD for u in self.users):
            self._shock(user, shock)
        now = latest_timestamp()
        return [u for u in self.users if self.model.health(u, now) < WAD]

    def rule_liquidate(
        self,
        user="st_seed",
        coll="st_seed",
        debt="st_seed",
        cover="st_cover",
        fraction="st_fraction",
        receive="st_bool",
        liquidator="st_seed",
        shock="st_shock",
    ):
        """Liquidate with any debtToCover, mostly a liquidatable user, sometimes anyone."""
        self._begin(
            f"rule_liquidate({user}, {coll}, {debt}, {cover!r}, {fraction}, {receive}, "
            f"{liquidator}, {shock})"
        )
        self._liquidate_with(user, coll, debt, cover, fraction, receive, liquidator, shock)

    def rule_liquidate_partially(
        self,
        user="st_seed",
        coll="st_seed",
        debt="st_seed",
        cover="st_partial_cover",
        fraction="st_fraction",
        receive="st_bool",
        liquidator="st_seed",
        shock="st_shock",
    ):
        """Liquidate with a capped debtToCover: a share of the debt, or around what max repays."""
        self._begin(
            f"rule_liquidate_partially({user}, {coll}, {debt}, {cover!r}, {fraction}, "
            f"{receive}, {liquidator}, {shock})"
        )
        self._liquidate_with(user, coll, debt, cover, fraction, receive, liquidator, shock)

    def _liquidate_with(self, user, coll, debt, cover, fraction, receive, liquidator, shock):
        m = self.model
        liquidatable = self._ensure_liquidatable(user, shock)
        now = latest_timestamp()
        target = prefer(liquidatable, self.users, user, every=8)
        collaterals = [s for s in SYMBOLS if m.is_active_collateral(target, s)]
        coll_symbol = prefer(collaterals, SYMBOLS, coll, every=8)
        debts = [s for s in SYMBOLS if m.drawn(target, s)]
        debt_symbol = prefer(debts, SYMBOLS, debt, every=8)
        if liquidator % 20 == 19:
            payer = target  # SelfLiquidation
        elif liquidator % 2 == 0:
            payer = self.keeper
        else:
            payer = pick([u for u in self.users if u != target], liquidator)

        # debtToCover: max, a fraction of the reserve debt, exactly what max would repay, one wei
        # less than that (MustNotLeaveDust or a smaller liquidation), or zero.
        if cover == "max":
            debt_to_cover = MAX_UINT256
        elif cover == "fraction":
            debt_to_cover = m.debt(target, debt_symbol, now) * fraction // BPS
        elif cover == "zero":
            debt_to_cover = 0
        else:
            try:
                full = m.plan_liquidation(
                    coll_symbol, debt_symbol, target, payer, MAX_UINT256, receive, now
                ).debt_to_repay
            except Revert:
                full = 1
            debt_to_cover = full if cover == "exact" else full - 1
        self._liquidate(target, coll_symbol, debt_symbol, payer, debt_to_cover, receive)

    def rule_keeper_liquidates(
        self, user="st_seed", shock="st_shock", receive="st_bool", settle="st_bool"
    ):
        """A keeper's move: the least healthy account, its largest collateral and debt, max cover
        (after a price shock if nobody is liquidatable); then maybe settle any deficit."""
        self._begin(f"rule_keeper_liquidates({user}, {shock}, {receive}, {settle})")
        m = self.model
        self._ensure_liquidatable(user, shock)
        now = latest_timestamp()
        target = min(self.users, key=lambda u: m.health(u, now))
        values = {}
        for symbol in SYMBOLS:
            r = m.reserves[symbol]
            if m.is_active_collateral(target, symbol):
                values[("coll", symbol)] = to_value(
                    m.supplied(target, symbol, now), r.decimals, r.price
                )
            if m.drawn(target, symbol):
                values[("debt", symbol)] = to_value(
                    m.debt(target, symbol, now), r.decimals, r.price
                )
        colls = sorted((v, s) for (side, s), v in values.items() if side == "coll")
        debts = sorted((v, s) for (side, s), v in values.items() if side == "debt")
        coll_symbol = colls[-1][1] if colls else SYMBOLS[0]
        debt_symbol = debts[-1][1] if debts else SYMBOLS[2]
        self._liquidate(target, coll_symbol, debt_symbol, self.keeper, MAX_UINT256, receive)
        if settle:
            for symbol in SYMBOLS:
                if self.model.reserves[symbol].deficit:
                    self._settle_deficit(symbol)

    def _liquidate(self, target, coll_symbol, debt_symbol, payer, debt_to_cover, receive):
        now = latest_timestamp()
        m = self.model
        coll_token, debt_token = self.tokens[coll_symbol], self.tokens[debt_symbol]
        description = (
            f"liquidate({coll_symbol}, {debt_symbol}, {target}, {debt_to_cover}, {receive}) "
            f"by {payer}"
        )

        # The preview, in this block, from the liquidator.
        try:
            expected_preview = m.plan_liquidation(
                coll_symbol, debt_symbol, target, payer, debt_to_cover, False, now, preview=True
            )
        except Revert as revert:
            expected_preview = revert
        try:
            preview = tuple(
                self.pool.previewLiquidation(
                    coll_token, debt_token, target, debt_to_cover, {"from": payer}
                )
            )
        except VirtualMachineError as error:
            preview = error.revert_msg
        if isinstance(expected_preview, Revert):
            assert preview == expected_preview.message, (
                f"{inv.PREVIEW_REVERTS_AS_LIQUIDATION}: {description}: preview gave {preview!r}, "
                f"the spec predicts {expected_preview.message!r}"
            )
        else:
            assert preview == expected_preview.preview(), (
                f"{inv.LIQUIDATION_MATCHES_SPEC_MATH}: preview of {description} is {preview}, "
                f"the spec's math gives {expected_preview.preview()}"
            )

        before = batch_call(
            [
                (debt_token.balanceOf, (payer,)),
                (coll_token.balanceOf, (payer,)),
                (self.pool.getUserShares, (payer, coll_token)),
            ]
        )
        (debt_balance_before, coll_balance_before, (payer_shares_before, _)) = before
        coll_reserve = m.reserves[coll_symbol]
        ta_before = coll_reserve.total_assets(coll_reserve.index_at(now))
        ts_before = coll_reserve.total_supply_shares

        trial = m.copy()
        try:
            plan, written_off = trial.liquidate(
                coll_symbol, debt_symbol, target, payer, debt_to_cover, receive, now
            )
            expected = None
        except Revert as revert:
            expected = revert
        try:
            tx = transact(
                lambda: self.pool.liquidate(
                    coll_token, debt_token, target, debt_to_cover, receive, {"from": payer}
                )
            )
        except (VirtualMachineError, RecoveredRevert) as error:
            STATS[f"liquidate reverted {error.revert_msg.split(':')[0]}"] += 1
            assert expected is not None, (
                f"{inv.REVERTS_AS_SPECIFIED}: {description} reverted with {error.revert_msg!r}, "
                f"the spec predicts success"
            )
            assert error.revert_msg == expected.message, (
                f"{inv.REVERTS_AS_SPECIFIED}: {description} reverted with {error.revert_msg!r}, "
                f"the spec predicts {expected.message!r}"
            )
            return
        assert expected is None, (
            f"{inv.REVERTS_AS_SPECIFIED}: {description} succeeded, the spec predicts "
            f"{expected.message!r}"
        )
        assert tx.timestamp == now, CLOCK
        STATS["liquidate succeeded"] += 1
        STATS[
            f"liquidate succeeded ({'max' if debt_to_cover == MAX_UINT256 else 'capped'}, "
            f"{'shares' if receive else 'underlying'}{', deficit' if plan.deficit else ''})"
        ] += 1

        event = tx.events["LiquidationCall"]
        outcome = (
            event["healthFactorBefore"],
            event["liquidationBonus"],
            event["debtRepaid"],
            event["collateralSeized"],
            event["protocolFee"],
            event["receiveShares"],
        )
        assert outcome == (
            plan.health_factor,
            plan.liquidation_bonus,
            plan.debt_to_repay,
            plan.collateral_seized,
            plan.protocol_fee,
            receive,
        ), f"{inv.LIQUIDATION_MATCHES_SPEC_MATH}: {description}: event {outcome}, spec {plan}"

        # What moved: transfers from and to the liquidator, its balances and shares.
        paid = sum(
            e["value"]
            for e in events(tx, "Transfer")
            if e.address == debt_token.address
            and e["from"] == payer
            and e["to"] == self.pool.address
        )
        received = sum(
            e["value"]
            for e in events(tx, "Transfer")
            if e.address == coll_token.address
            and e["from"] == self.pool.address
            and e["to"] == payer
        )
        after = batch_call(
            [
                (debt_token.balanceOf, (payer,)),
                (coll_token.balanceOf, (payer,)),
                (self.pool.getUserShares, (payer, coll_token)),
            ]
        )
        (debt_balance_after, coll_balance_after, (payer_shares_after, _)) = after
        if coll_symbol == debt_symbol:
            assert debt_balance_after == debt_balance_before - paid + received, (
                inv.OUTCOME_MATCHES_MODEL
            )
        else:
            assert debt_balance_after == debt_balance_before - paid, inv.OUTCOME_MATCHES_MODEL
            assert coll_balance_after == coll_balance_before + received, inv.OUTCOME_MATCHES_MODEL
        assert paid <= debt_to_cover, (
            f"{inv.LIQUIDATOR_PAYS_AT_MOST_DEBT_TO_COVER}: paid {paid} > {debt_to_cover}"
        )
        assert debt_balance_before - debt_balance_after <= debt_to_cover, (
            inv.LIQUIDATOR_PAYS_AT_MOST_DEBT_TO_COVER
        )
        assert paid == event["debtRepaid"], f"{inv.OUTCOME_MATCHES_MODEL}: paid {paid}"
        share_delta = payer_shares_after - payer_shares_before
        if receive:
            assert received == 0 and share_delta == plan.liquidator_shares, (
                inv.OUTCOME_MATCHES_MODEL
            )
            to_liquidator = to_assets_down(share_delta, ta_before, ts_before)
        else:
            assert share_delta == 0, inv.OUTCOME_MATCHES_MODEL
            to_liquidator = received
        assert to_liquidator == plan.collateral_to_liquidator, inv.LIQUIDATION_MATCHES_SPEC_MATH

        reported = [(e["user"], e["asset"], e["amount"]) for e in events(tx, "DeficitReported")]
        assert reported == [(target, m.reserves[s].asset, a) for s, a, _ in written_off], (
            f"{inv.DEFICIT_WRITES_OFF_ALL_REMAINING_DEBT}: events {reported}, spec {written_off}"
        )
        # Section 6 (v2): each write-off on a reserve that is not paused is settled in the same call.
        settlements = [settled for _, _, settled in written_off if settled is not None]
        covered = [(self.fund, c, burned) for c, burned, _ in settlements if c]
        socialized = [amount for _, _, amount in settlements if amount]
        assert [(e["coveredBy"], e["amount"], e["sharesBurned"]) for e in events(tx, "DeficitCovered")] \
            == covered, f"{inv.DEFICIT_SETTLED_AT_ONCE}: {description}"
        assert [e["amount"] for e in events(tx, "DeficitSocialized")] == socialized, (
            f"{inv.DEFICIT_SETTLED_AT_ONCE}: {description}"
        )
        for s, _, settled in written_off:
            if settled is not None:
                assert self.pool.deficit(m.reserves[s].asset) == 0, inv.DEFICIT_SETTLED_AT_ONCE
                if settled[2]:
                    self.socialized.add(s)

        # The preview (same block, same state) is the outcome.
        if not isinstance(expected_preview, Revert):
            observed = (
                event["healthFactorBefore"],
                event["liquidationBonus"],
                paid,
                event["collateralSeized"],
                to_liquidator,
                event["protocolFee"],
                bool(reported),
            )
            assert preview == observed, (
                f"{inv.PREVIEW_MATCHES_LIQUIDATION}: {description}: preview {preview}, "
                f"outcome {observed}"
            )

        self.model = trial
        self._check_no_dust_left(target, coll_symbol, debt_symbol)

    def _check_no_dust_left(self, target, coll_symbol, debt_symbol):
        coll_token, debt_token = self.tokens[coll_symbol], self.tokens[debt_symbol]
        (supply_shares, _), (_, drawn), (supplied, _, _), (_, debt, _) = batch_call(
            [
                (self.pool.getUserShares, (target, coll_token)),
                (self.pool.getUserShares, (target, debt_token)),
                (self.pool.getUserPosition, (target, coll_token)),
                (self.pool.getUserPosition, (target, debt_token)),
            ]
        )
        if supply_shares == 0 or drawn == 0:
            return
        cr, dr = self.model.reserves[coll_symbol], self.model.reserves[debt_symbol]
        coll_value = to_value(supplied, cr.decimals, cr.price)
        debt_value = to_value(debt, dr.decimals, dr.price)
        assert (
            coll_value >= DUST_LIQUIDATION_THRESHOLD and debt_value >= DUST_LIQUIDATION_THRESHOLD
        ), (
            f"{inv.LIQUIDATION_LEAVES_NO_DUST}: {target} keeps {supplied} {coll_symbol} "
            f"(${coll_value / 1e26:.2f}) and owes {debt} {debt_symbol} (${debt_value / 1e26:.2f})"
        )

    # --------------------------------------------------------------------- deficit

    def rule_resolve_deficit(
        self, user="st_seed", asset="st_seed", cover="st_bool", part="st_part"
    ):
        """settleDeficit (the fund pays, the rest is socialised), or coverDeficit by a user."""
        self._begin(f"rule_resolve_deficit({user}, {asset}, {cover}, {part!r})")
        with_deficit = [s for s in SYMBOLS if self.model.reserves[s].deficit]
        symbol = prefer(with_deficit, SYMBOLS, asset)
        if cover:
            self._cover_deficit(pick(self.users, user), symbol, part)
            return
        self._settle_deficit(symbol)

    def _settle_deficit(self, symbol: str) -> None:
        tx, result = self._run(
            f"settleDeficit({symbol})",
            lambda m, now: m.settle_deficit(symbol, now),
            lambda: self.pool.settleDeficit(self.tokens[symbol], {"from": self.users[0]}),
        )
        if not tx:
            return
        covered, burned, socialized = result
        covered_events = [
            (e["coveredBy"], e["amount"], e["sharesBurned"]) for e in events(tx, "DeficitCovered")
        ]
        assert covered_events == ([(self.fund, covered, burned)] if covered else []), (
            f"{inv.OUTCOME_MATCHES_MODEL}: DeficitCovered {covered_events}, model {result}"
        )
        socialized_events = [e["amount"] for e in events(tx, "DeficitSocialized")]
        assert socialized_events == ([socialized] if socialized else []), inv.OUTCOME_MATCHES_MODEL
        assert self.pool.deficit(self.tokens[symbol]) == 0, inv.SETTLE_CLEARS_DEFICIT
        STATS[
            f"settleDeficit ({'fund' if covered else 'no fund'}"
            f"{', socialised' if socialized else ''})"
        ] += 1
        if socialized:
            self.socialized.add(symbol)

    def _cover_deficit(self, payer: str, symbol: str, part) -> None:
        amount = amount_of(part, self.model.reserves[symbol].deficit)
        tx, covered = self._run(
            f"coverDeficit({symbol}, {amount}) by {payer}",
            lambda m, now: m.cover_deficit(payer, symbol, amount, now),
            lambda: self.pool.coverDeficit(self.tokens[symbol], amount, {"from": payer}),
        )
        if tx:
            event = tx.events["DeficitCovered"]
            observed = (event["coveredBy"], event["amount"], event["sharesBurned"])
            assert observed == (payer, covered, 0), inv.OUTCOME_MATCHES_MODEL

    # ------------------------------------------------------------------ invariants

    def _read_chain(self) -> dict:
        """Everything the invariants look at, in one batch on the latest block."""
        if self._chain is not None:
            return self._chain
        calls = []
        for symbol in SYMBOLS:
            token = self.tokens[symbol]
            calls.append((self.pool.getReserveData, (token,)))
            calls.append((token.balanceOf, (self.pool,)))
        for account in self.tracked:
            calls.append((self.pool.getUserConfig, (account,)))
            calls.append((self.pool.getUserAccountData, (account,)))
            for symbol in SYMBOLS:
                calls.append((self.pool.getUserShares, (account, self.tokens[symbol])))
                calls.append((self.pool.getUserPosition, (account, self.tokens[symbol])))
        now = latest_timestamp()
        results = iter(batch_call(calls, allow_revert=True))
        view = {
            "now": now,
            "reserves": {},
            "balances": {},
            "configs": {},
            "accounts": {},
            "shares": {},
            "positions": {},
        }
        for symbol in SYMBOLS:
            view["reserves"][symbol] = next(results)
            view["balances"][symbol] = next(results)
        for account in self.tracked:
            view["configs"][account] = next(results)
            data = next(results)  # reverts StalePrice while a price it needs is stale
            view["accounts"][account] = data if isinstance(data, CallReverted) else tuple(data)
            for symbol in SYMBOLS:
                view["shares"][(account, symbol)] = tuple(next(results))
                view["positions"][(account, symbol)] = tuple(next(results))
        assert latest_timestamp() == now, "no block was mined while reading"
        self._chain = view
        return view

    def invariant_no_debt_without_collateral(self):
        """From getUserAccountData, and from the raw bitmap and shares (which need no price)."""
        view = self._read_chain()
        for account in self.tracked:
            data = view["accounts"][account]
            if not isinstance(data, CallReverted):
                borrow_count, active = data[5], data[4]
                assert borrow_count == 0 or active > 0, (
                    f"{inv.NO_DEBT_WITHOUT_COLLATERAL}: {account} borrows on {borrow_count} "
                    f"reserves with no active collateral"
                )
            bitmap = view["configs"][account]
            debt = any(view["shares"][(account, s)][1] for s in SYMBOLS)
            active = [
                s
                for s in SYMBOLS
                if bitmap >> (2 * view["reserves"][s][1] + 1) & 1
                and view["shares"][(account, s)][0] > 0
                and view["reserves"][s][0][0] > 0
            ]
            assert not debt or active, (
                f"{inv.NO_DEBT_WITHOUT_COLLATERAL}: {account} has drawn shares and no active "
                f"collateral"
            )

    def invariant_reserve_books(self):
        view = self._read_chain()
        for symbol in SYMBOLS:
            data = view["reserves"][symbol]
            cash, tss, tds, total_assets, total_debt, deficit = (
                data[5],
                data[6],
                data[7],
                data[8],
                data[9],
                data[10],
            )
            assert cash + total_debt + deficit == total_assets, (
                f"{inv.RESERVE_ASSETS_ADD_UP}: {symbol}"
            )
            assert view["balances"][symbol] >= cash, f"{inv.POOL_HOLDS_ITS_CASH}: {symbol}"
            supply_sum = sum(view["shares"][(a, symbol)][0] for a in self.tracked)
            drawn_sum = sum(view["shares"][(a, symbol)][1] for a in self.tracked)
            assert supply_sum == tss, f"{inv.SUPPLY_SHARES_ADD_UP}: {symbol}: {supply_sum} != {tss}"
            assert drawn_sum == tds, f"{inv.DRAWN_SHARES_ADD_UP}: {symbol}: {drawn_sum} != {tds}"
            debts = [view["positions"][(a, symbol)][1] for a in self.tracked]
            borrowers = sum(1 for a in self.tracked if view["shares"][(a, symbol)][1] > 0)
            assert sum(debts) >= total_debt, (
                f"{inv.USER_DEBTS_COVER_TOTAL_DEBT}: {symbol}: {sum(debts)} < {total_debt}"
            )
            assert sum(debts) - total_debt <= borrowers, (
                f"{inv.DEBT_ROUNDING_AT_MOST_ONE_WEI_PER_BORROWER}: {symbol}: "
                f"{sum(debts)} - {total_debt} > {borrowers}"
            )

    def invariant_prices_of_shares_and_debt(self):
        view = self._read_chain()
        for symbol in SYMBOLS:
            data = view["reserves"][symbol]
            index, tss, total_assets = data[3], data[6], data[8]
            rates = tuple(data[0][6:9])
            if rates == (0, 0, 0):
                assert index == RAY, f"{inv.ZERO_RATE_INDEX_STAYS_RAY}: {symbol}: {index}"
            if self._previous is not None:
                prev_index, prev_tss, prev_assets = self._previous[symbol]
                assert index >= prev_index, f"{inv.BORROW_INDEX_NEVER_FALLS}: {symbol}"
                if symbol not in self.socialized:
                    v = 10**6
                    assert (total_assets + v) * (prev_tss + v) >= (prev_assets + v) * (tss + v), (
                        f"{inv.SHARE_PRICE_NEVER_FALLS}: {symbol}: ({prev_assets}, {prev_tss}) -> "
                        f"({total_assets}, {tss})"
                    )
        self._previous = {
            s: (view["reserves"][s][3], view["reserves"][s][6], view["reserves"][s][8])
            for s in SYMBOLS
        }
        self.socialized = set()

    def invariant_chain_matches_model(self):
        view = self._read_chain()
        now, m = view["now"], self.model
        for symbol in SYMBOLS:
            r = m.reserves[symbol]
            data = view["reserves"][symbol]
            index = r.index_at(now)
            try:
                price = m.read_price(r, now)
            except Revert:
                price = 0  # getReserveData swallows a failing price read
            expected = (
                tuple(r.config),
                index,
                r.cash,
                r.total_supply_shares,
                r.total_drawn_shares,
                r.total_assets(index),
                r.total_debt(index),
                r.deficit,
                price,
            )
            observed = (
                tuple(data[0]),
                data[3],
                data[5],
                data[6],
                data[7],
                data[8],
                data[9],
                data[10],
                data[11],
            )
            assert observed == expected, (
                f"{inv.RESERVE_STATE_MATCHES_MODEL}: {symbol}: chain {observed}, model {expected}"
            )
            assert view["balances"][symbol] == r.cash + r.donated, (
                f"{inv.POOL_BALANCE_MATCHES_BOOKS}: {symbol}"
            )
        for account in self.tracked:
            assert view["configs"][account] == m.user_config(account), (
                f"{inv.POSITIONS_MATCH_MODEL}: bitmap of {account}: chain "
                f"{view['configs'][account]:#x}, model {m.user_config(account):#x}"
            )
            for symbol in SYMBOLS:
                shares = (m.shares(account, symbol), m.drawn(account, symbol))
                assert view["shares"][(account, symbol)] == shares, (
                    f"{inv.POSITIONS_MATCH_MODEL}: {account} {symbol}: chain "
                    f"{view['shares'][(account, symbol)]}, model {shares}"
                )
                position = (
                    m.supplied(account, symbol, now),
                    m.debt(account, symbol, now),
                    (account, symbol) in m.collateral_bits,
                )
                assert view["positions"][(account, symbol)] == position, (
                    f"{inv.POSITIONS_MATCH_MODEL}: getUserPosition({account}, {symbol})"
                )
            try:
                expected = m.account(account, now, strict=True).view()
            except Revert as revert:
                expected = revert
                observed = view["accounts"][account]
                assert isinstance(observed, CallReverted) and observed.data == revert_data(
                    revert
                ), (
                    f"{inv.REVERTS_AS_SPECIFIED}: getUserAccountData({account}) gave {observed}, "
                    f"the spec predicts {revert.message}"
                )
                continue
            assert view["accounts"][account] == expected, (
                f"{inv.ACCOUNT_DATA_MATCHES_MODEL}: {account}: chain {view['accounts'][account]}, "
                f"model {expected}"
            )


def amount_of(part, whole: int) -> int:
    """`part` of `whole`: a percentage (above 100: more than there is), or "max" (uint256 max)."""
    if part == "max":
        return MAX_UINT256
    return whole * part // 100


def refresh_prices(protocol) -> None:
    """Re-publish every price now (protocol.refresh_prices, one robust transaction per feed)."""
    for feed in protocol.feeds.values():
        answer = feed.latestAnswer()
        transact(lambda f=feed, a=answer: f.setPrice(a, {"from": protocol.deployer}))


def usd_to_units(reserve: ReserveModel, usd: int) -> int:
    """Token units worth `usd` dollars at the reserve's current price."""
    return usd * 10**8 * 10**reserve.decimals // reserve.price


@pytest.fixture
def deterministic_clock():
    """Blocks keep the previous timestamp until a rule moves time (see the module docstring)."""
    web3.provider.make_request("anvil_setBlockTimestampInterval", [0])
    yield
    web3.provider.make_request("anvil_removeBlockTimestampInterval", [])


def brownie_state_machine():
    """`brownie.test.state_machine`, loaded from Brownie's own Python source.

    The mypyc-compiled `brownie.test.stateful` of eth-brownie 1.22.2 rejects every machine it
    generates (`TypeError: brownie.test.stateful._BrownieStateMachine object expected`), so the
    test runs the identical uncompiled module that ships next to it."""
    import brownie.test

    path = Path(brownie.test.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("brownie_stateful_source", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


def test_pool_state_machine(protocol, deterministic_clock):
    STATS.clear()
    brownie_state_machine()(PoolStateMachine, protocol, settings=SETTINGS)
    print("\n".join(f"{count:6d}  {what}" for what, count in sorted(STATS.items())))
    # Not vacuous: the random walks reached liquidatable accounts and liquidated them.
    assert STATS["liquidate succeeded"] > 0, "no liquidation succeeded in any example"
