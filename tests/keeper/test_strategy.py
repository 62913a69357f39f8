"""Ranking and the profit gate against a fake pool: every pair of every account previewed in one
batch, the best pair per account, the most profitable first (riskiest first on ties), worst-case gas
priced in, a revert named by its custom error, and the switch that clears dust and deficits below
the minimum profit."""

from __future__ import annotations

from decimal import Decimal

from eth_utils import function_signature_to_4byte_selector
from fake_node import Contracts, RpcError, fake_web3
from stage_world import (
    ALICE,
    BOB,
    CAROL,
    KEEPER,
    LENS,
    ORACLE,
    POOL,
    USDC,
    WAD,
    WBTC,
    WETH,
    address,
    borrower,
    pool_model,
)

from keeper.calls import function
from keeper.contracts import Contracts as PoolContracts
from keeper.rpc_batch import RpcCounter
from keeper.strategy import FlashRoom, Preview, Strategy

WETH_ID, WBTC_ID, USDC_ID = 0, 1, 2
PREVIEW = function("LendingPool", "previewLiquidation")
USDC_UNIT, WETH_UNIT, WBTC_UNIT = 10**6, 10**18, 10**8


def preview(hf: int, repay_usdc: int, to_liquidator: int, *, seize: int | None = None, deficit: bool = False):
    """A LiquidationPreview: bonus 10,500, fee 0, seized = what the liquidator receives."""
    seized = to_liquidator if seize is None else seize
    return (hf, 10_500, repay_usdc, seized, to_liquidator, seized - to_liquidator, deficit)


def reverts(error: str, *args: int):
    data = function_signature_to_4byte_selector(error) + b"".join(a.to_bytes(32, "big") for a in args)

    def answer(*_args):
        raise RpcError("execution reverted", code=3, data="0x" + data.hex())

    return answer


def strategy_for(previews: dict, min_profit: str = "0", clear: bool = False):
    contracts = Contracts()
    contracts.on(POOL, PREVIEW, lambda c, d, user, cover: previews[(c, d, user)](c, d, user, cover))
    w3 = fake_web3({"eth_call": contracts})
    strategy = Strategy(
        w3, PoolContracts.at(w3, POOL, ORACLE, LENS), RpcCounter(), Decimal(min_profit), clear
    )
    return strategy, w3.provider


def fixed(value: tuple):
    """A preview answered as the function's one (struct) output."""
    return lambda *_args: (value,)


def test_the_best_pair_of_each_account_is_chosen_and_the_most_profitable_goes_first():
    alice = borrower(ALICE, {WETH_ID: 10 * WETH_UNIT, WBTC_ID: WBTC_UNIT}, {USDC_ID: 20_000 * USDC_UNIT})
    bob = borrower(BOB, {WETH_ID: 10 * WETH_UNIT}, {USDC_ID: 15_000 * USDC_UNIT})
    model = pool_model(alice, bob)
    previews = {
        # alice: WETH pays $50 over the repayment, WBTC $300; bob's only pair pays $100.
        (WETH, USDC, ALICE): fixed(preview(97 * WAD // 100, 1000 * USDC_UNIT, 525 * WETH_UNIT // 1000)),
        (WBTC, USDC, ALICE): fixed(preview(97 * WAD // 100, 6000 * USDC_UNIT, 105 * WBTC_UNIT // 1000)),
        (WETH, USDC, BOB): fixed(preview(99 * WAD // 100, 2000 * USDC_UNIT, 105 * WETH_UNIT // 100)),
    }
    strategy, provider = strategy_for(previews)

    ranking = strategy.rank(model, [ALICE, BOB], KEEPER, 42, Decimal(0))

    assert [(d.opportunity.user, d.opportunity.collateral.symbol) for d in ranking.decisions] == [
        (ALICE, "WBTC"),
        (BOB, "WETH"),
    ]
    assert [d.opportunity.profit_usd for d in ranking.decisions] == [Decimal(300), Decimal(100)]
    assert provider.batches == 1 and len(provider.calls_of("eth_call")) == 3
    assert {(p[0]["from"], p[1]) for p in provider.calls_of("eth_call")} == {(KEEPER, hex(42))}
    assert {tuple(args[3:]) for args in provider.call_args(PREVIEW)} == {(2**256 - 1,)}  # as much as allowed


def test_equal_profits_go_riskiest_first():
    model = pool_model(
        borrower(ALICE, {WETH_ID: WETH_UNIT}, {USDC_ID: 1000 * USDC_UNIT}),
        borrower(BOB, {WETH_ID: WETH_UNIT}, {USDC_ID: 1000 * USDC_UNIT}),
    )
    same = preview(0, 1000 * USDC_UNIT, 525 * WETH_UNIT // 1000)
    previews = {
        (WETH, USDC, ALICE): fixed(preview(98 * WAD // 100, *same[2:3], same[4])),
        (WETH, USDC, BOB): fixed(preview(90 * WAD // 100, *same[2:3], same[4])),
    }
    strategy, _ = strategy_for(previews)
    ranking = strategy.rank(model, [ALICE, BOB], KEEPER, 1, Decimal(0))
    assert [d.opportunity.user for d in ranking.decisions] == [BOB, ALICE]


def test_worst_case_gas_is_priced_in_and_the_gate_keeps_what_earns_less_than_the_minimum():
    model = pool_model(borrower(ALICE, {WETH_ID: 10 * WETH_UNIT}, {USDC_ID: 15_000 * USDC_UNIT}))
    previews = {(WETH, USDC, ALICE): fixed(preview(WAD - 1, 1000 * USDC_UNIT, 55 * WETH_UNIT // 100))}  # $100
    strategy, _ = strategy_for(previews, min_profit="60")

    [decision] = strategy.rank(model, [ALICE], KEEPER, 1, Decimal("45")).decisions

    assert decision.opportunity.revenue_usd == Decimal(100)
    assert decision.opportunity.profit_usd == Decimal(55)
    assert (decision.send, decision.reason) == (False, "below min profit")
    [decision] = strategy.rank(model, [ALICE], KEEPER, 1, Decimal("40")).decisions
    assert (decision.send, decision.reason) == (True, "profitable")


def test_dust_and_deficits_are_cleared_below_the_minimum_only_with_the_switch():
    alice = borrower(ALICE, {WETH_ID: WETH_UNIT}, {USDC_ID: 1000 * USDC_UNIT})
    bob = borrower(BOB, {WETH_ID: WETH_UNIT}, {USDC_ID: 3000 * USDC_UNIT})
    carol = borrower(CAROL, {WETH_ID: WETH_UNIT}, {USDC_ID: 3000 * USDC_UNIT})
    model = pool_model(alice, bob, carol)
    previews = {
        # alice: repays her whole debt (dust); bob: an ordinary partial one; carol: reports a deficit.
        (WETH, USDC, ALICE): fixed(preview(WAD - 1, 1000 * USDC_UNIT, WETH_UNIT // 2)),
        (WETH, USDC, BOB): fixed(preview(WAD - 1, 1000 * USDC_UNIT, WETH_UNIT // 2)),
        (WETH, USDC, CAROL): fixed(preview(WAD - 1, 1000 * USDC_UNIT, WETH_UNIT // 2, deficit=True)),
    }
    users = [ALICE, BOB, CAROL]
    for clear, expected in (
        (False, {ALICE: "below min profit", BOB: "below min profit", CAROL: "below min profit"}),
        (
            True,
            {
                ALICE: "clears dust below min profit",
                BOB: "below min profit",
                CAROL: "clears deficit below min profit",
            },
        ),
    ):
        strategy, _ = strategy_for(previews, min_profit="1000", clear=clear)
        decisions = strategy.rank(model, users, KEEPER, 1, Decimal(0)).decisions
        assert {d.opportunity.user: d.reason for d in decisions} == expected
        assert {d.opportunity.user for d in decisions if d.send} == {
            u for u, r in expected.items() if "clears" in r
        }


def test_an_account_whose_every_preview_reverts_is_reported_with_the_error_by_name():
    alice = borrower(ALICE, {WETH_ID: WETH_UNIT, WBTC_ID: WBTC_UNIT}, {USDC_ID: 1000 * USDC_UNIT})
    bob = borrower(BOB, {WETH_ID: WETH_UNIT}, {USDC_ID: 1000 * USDC_UNIT})
    model = pool_model(alice, bob)
    previews = {
        (WETH, USDC, ALICE): reverts("MustNotLeaveDust()"),
        (WBTC, USDC, ALICE): fixed(preview(WAD - 1, 1000 * USDC_UNIT, WETH_UNIT)),
        (WETH, USDC, BOB): reverts("HealthFactorNotBelowThreshold(uint256)", WAD),
    }
    strategy, _ = strategy_for(previews)

    ranking = strategy.rank(model, [ALICE, BOB], KEEPER, 1, Decimal(0))

    assert [d.opportunity.user for d in ranking.decisions] == [ALICE]  # her WBTC pair still works
    assert ranking.reverted == {BOB: f"HealthFactorNotBelowThreshold({WAD})"}


def test_flash_room_quotes_only_the_accounts_worth_most_and_never_one_already_queued():
    """A round quotes the `count` accounts worth most at the oracle (collateral to the liquidator less
    the debt repaid) and a quarter more; an account whose flash liquidation is still queued from an
    earlier round is neither quoted nor counted, and the rest wait for the next block."""
    users = [address(0xF000 + i) for i in range(8)]
    model = pool_model(*(borrower(u, {WETH_ID: 10 * WETH_UNIT}, {USDC_ID: 1000 * USDC_UNIT}) for u in users))
    # user i receives (i + 1) WETH for 1,000 USDC: worth grows with i; the two worth most are queued
    readable = {
        (u, WETH_ID, USDC_ID): Preview(*preview(WAD - 1, 1000 * USDC_UNIT, (i + 1) * WETH_UNIT))
        for i, u in enumerate(users)
    }

    kept, waiting = Strategy._within_capacity(model, readable, FlashRoom(4, frozenset(users[6:])))

    assert {user for user, _, _ in kept} == set(users[1:6])  # 4 and a quarter of 4: the five best
    assert waiting == {users[0], *users[6:]}
