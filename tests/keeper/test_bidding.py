"""Competitive bidding against a fake node: a liquidation's tip is a share of its surplus (revenue
minus worst-case gas at the market's fees) per expected gas, never below the node's suggested tip,
never past MAX_GAS_GWEI nor a worst case above the revenue; the highest bid takes the lowest nonce;
a rival's pending liquidation of the same account is outbid by one wei or, beyond the bounds, not
answered at all; and ranking prices the bid in."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from eth_account import Account
from fake_node import Contracts, Mempool, fake_web3
from stage_world import ALICE, BOB, CAROL, KEEPER, LENS, ORACLE, POOL, USDC, WAD, WETH, borrower, pool_model

from keeper.calls import function
from keeper.contracts import Contracts as PoolContracts
from keeper.dispatch import Dispatcher
from keeper.metrics import Metrics
from keeper.rpc_batch import RpcCounter
from keeper.store import Store
from keeper.strategy import Strategy
from keeper.transactions import LIQUIDATE, Intent, Outbid, Sent
from keeper.wallet import Wallet

GWEI = 10**9
ETH = 10**18
KEY = "0x" + "6d" * 32
SENDER = Account.from_key(KEY).address
RIVAL = "0x" + "ee" * 20
LIQUIDATE_FN = function("LendingPool", "liquidate")
PREVIEW = function("LendingPool", "previewLiquidation")
ESTIMATE, GAS_LIMIT = 300_000, 395_000  # a quarter more plus 20k
BASE_FEE = 10 * GWEI  # the market quote: max fee 21 gwei, tip 1 gwei
MARKET_WORST_CASE = GAS_LIMIT * 21 * GWEI


def dispatcher_for(tmp_path, share: str, *, max_gas_gwei: int = 500, **handlers: Any) -> Dispatcher:
    node = Mempool(SENDER, base_fee=BASE_FEE)
    w3 = fake_web3({**node.handlers(), **handlers})
    rpc = RpcCounter()
    wallet = Wallet(w3, SENDER, Metrics(), rpc, Decimal("0.05"))
    return Dispatcher(
        w3,
        Account.from_key(KEY),
        Store(tmp_path / "k.sqlite"),
        rpc,
        wallet,
        max_gas_gwei=Decimal(max_gas_gwei),
        fee_bump=Decimal("1.125"),
        replace_after_blocks=3,
        dry_run=False,
        gas_limit_liquidation=600_000,
        clock=lambda: 1.0,
        bid_share=Decimal(share),
    )


def liquidation(user: str, revenue_wei: int) -> Intent:
    call = LIQUIDATE_FN.call(POOL, WETH, USDC, user, 2**256 - 1, False)
    return Intent(LIQUIDATE, f"liquidate:{user}:{WETH}:{USDC}", call, ESTIMATE, revenue_wei)


def bid_of(share: str, revenue_wei: int) -> int:
    """The policy's tip, written out: share x (revenue - worst case at market fees) / expected gas."""
    return int(Decimal(share) * (revenue_wei - MARKET_WORST_CASE)) // ESTIMATE


def sent_fees(outcomes: list) -> list[tuple[int, int, int]]:
    assert all(isinstance(o, Sent) for o in outcomes), outcomes
    return [(o.record.nonce, o.record.tip, o.record.max_fee) for o in outcomes]


def test_the_tip_is_a_share_of_the_surplus_per_gas_and_the_highest_bid_takes_the_first_nonce(tmp_path):
    dispatcher = dispatcher_for(tmp_path, "0.5")
    revenues = [ETH // 100, ETH // 5, ETH // 10]  # $20, $400 and $200 at $2,000
    intents = [liquidation(user, r) for user, r in zip([ALICE, BOB, CAROL], revenues, strict=True)]

    outcomes = dispatcher.round(50).dispatch(intents)

    tips = [bid_of("0.5", r) for r in revenues]
    assert tips == [2_841_666_666, 319_508_333_333, 152_841_666_666]  # about 2.8, 320 and 153 gwei
    assert sent_fees(outcomes) == [
        (9, tips[0], 2 * BASE_FEE + tips[0]),
        (7, tips[1], 2 * BASE_FEE + tips[1]),
        (8, tips[2], 2 * BASE_FEE + tips[2]),
    ]
    for outcome, revenue in zip(outcomes, revenues, strict=True):
        assert outcome.record.gas_limit * outcome.record.max_fee <= revenue


def test_the_bid_stops_at_max_gas_gwei_and_at_a_worst_case_equal_to_the_revenue(tmp_path):
    capped = dispatcher_for(tmp_path / "a", "0.5", max_gas_gwei=200)
    [big] = capped.round(50).dispatch([liquidation(ALICE, ETH)])
    assert (big.record.max_fee, big.record.tip) == (200 * GWEI, 180 * GWEI)  # cap minus twice the base fee

    everything = dispatcher_for(tmp_path / "b", "1")
    revenue = ETH // 50  # $40: the whole surplus over 300k gas would be 38.9 gwei
    [small] = everything.round(50).dispatch([liquidation(ALICE, revenue)])
    assert bid_of("1", revenue) > small.record.tip == revenue // GAS_LIMIT - 2 * BASE_FEE
    assert small.record.gas_limit * small.record.max_fee <= revenue


def test_the_tip_is_never_below_the_nodes_suggestion_and_a_zero_share_bids_the_market(tmp_path):
    suggests = {"eth_maxPriorityFeePerGas": hex(2 * GWEI)}
    dispatcher = dispatcher_for(tmp_path / "a", "0.5", **suggests)
    # Revenue below the market's worst case: nothing to share, the node's minimum tip.
    [poor, modest] = dispatcher.round(50).dispatch(
        [liquidation(ALICE, ETH // 1000), liquidation(BOB, ETH // 100)]
    )
    assert (poor.record.tip, poor.record.max_fee) == (2 * GWEI, 22 * GWEI)
    assert modest.record.tip == bid_of("0.5", ETH // 100)  # 2.84 gwei, above the suggestion

    unshared = dispatcher_for(tmp_path / "b", "0", **suggests)
    [market] = unshared.round(50).dispatch([liquidation(ALICE, ETH)])
    assert (market.record.tip, market.record.max_fee) == (GWEI, 21 * GWEI)
    assert unshared.w3.provider.calls_of("eth_maxPriorityFeePerGas") == []


def rival_pool(user: str, tip_gwei: int, to: str = POOL) -> dict:
    call = LIQUIDATE_FN.call(to, WETH, USDC, user, 2**256 - 1, False)
    tx = {
        "from": RIVAL,
        "to": to.lower(),
        "input": call.data,
        "maxPriorityFeePerGas": hex(tip_gwei * GWEI),
        "maxFeePerGas": hex((tip_gwei + 100) * GWEI),
        "nonce": "0x3",
    }
    return {"pending": {RIVAL: {"3": tx}}, "queued": {}}


def test_a_rival_pending_liquidation_is_outbid_by_one_wei_within_the_bounds_or_left_alone(tmp_path):
    revenue = ETH // 10  # bids 152.8 gwei; the ceiling is 1e17 / 395k - 20 gwei = 233.2 gwei
    ceiling = revenue // GAS_LIMIT - 2 * BASE_FEE

    near = dispatcher_for(tmp_path / "a", "0.5", txpool_content=rival_pool(ALICE, 200))
    [raised, untouched] = near.round(50).dispatch([liquidation(ALICE, revenue), liquidation(BOB, revenue)])
    assert raised.record.tip == 200 * GWEI + 1 and raised.record.nonce == 7
    assert untouched.record.tip == bid_of("0.5", revenue)

    beyond = dispatcher_for(tmp_path / "b", "0.5", txpool_content=rival_pool(ALICE, 240))
    [dropped, sent] = beyond.round(50).dispatch([liquidation(ALICE, revenue), liquidation(BOB, revenue)])
    assert isinstance(dropped, Outbid) and str(ceiling) in dropped.reason
    assert isinstance(sent, Sent) and sent.record.nonce == 7  # no nonce left open for the dropped one

    elsewhere = dispatcher_for(tmp_path / "c", "0.5", txpool_content=rival_pool(ALICE, 240, to=KEEPER))
    [ours] = elsewhere.round(50).dispatch([liquidation(ALICE, revenue)])
    assert ours.record.tip == bid_of("0.5", revenue)  # a liquidation on another pool is no rival


def test_a_node_without_txpool_content_is_asked_once(tmp_path):
    dispatcher = dispatcher_for(tmp_path, "0.5")
    for block in (50, 51):
        [outcome] = dispatcher.round(block).dispatch([liquidation(address_of(block), ETH // 10)])
        assert isinstance(outcome, Sent)
    assert len(dispatcher.w3.provider.calls_of("txpool_content")) == 1


def address_of(n: int) -> str:
    return "0x" + f"{n:040x}"


def test_ranking_prices_the_bid_in_before_the_profit_gate():
    model = pool_model(borrower(ALICE, {0: 10 * WAD}, {2: 15_000 * 10**6}))
    # $100 of revenue: collateral worth $1,100 for a $1,000 repayment.
    answer = (WAD - 1, 10_500, 1000 * 10**6, 55 * WAD // 100, 55 * WAD // 100, 0, False)
    contracts = Contracts()
    contracts.on(POOL, PREVIEW, lambda *args: (answer,))
    w3 = fake_web3({"eth_call": contracts})
    pools = PoolContracts.at(w3, POOL, ORACLE, LENS)

    bidding = Strategy(w3, pools, RpcCounter(), Decimal(40), False, bid_share=Decimal("0.5"))
    [decision] = bidding.rank(model, [ALICE], KEEPER, 1, Decimal(40)).decisions
    # $40 of worst-case gas, then half of the $60 left goes to the bid: $30 of profit, below $40.
    assert (decision.opportunity.gas_cost_usd, decision.opportunity.profit_usd) == (Decimal(70), Decimal(30))
    assert (decision.send, decision.reason) == (False, "below min profit")

    [unpriced] = bidding.rank(model, [ALICE], KEEPER, 1, Decimal(40), price_bid=False).decisions
    assert (unpriced.opportunity.profit_usd, unpriced.send) == (Decimal(60), True)
