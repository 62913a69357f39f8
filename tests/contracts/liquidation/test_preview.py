"""previewLiquidation, protocol.md section 9: it returns what `liquidate` with the same arguments
does (health factor, bonus, debt repaid, collateral seized, to the liquidator, protocol fee,
deficit flag) and reverts as it would. Random states (decimals, sizes, health factors, caps, extra
collaterals and borrows, liquidation configurations) on a pool whose indexes and share prices have
moved; the chain is compared with the `tests/reference/protocol_math.py` model to the wei."""

import brownie
import pytest
from brownie.test import given, strategy
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from liquidation_helpers import (
    MAX,
    WAD,
    account_state,
    liquidate_and_check,
    open_position,
    reserve_state,
    season,
    set_health_factor,
)

from tests.reference import protocol_math as pm

PAIRS = [("WETH", "DAI"), ("WETH", "USDC"), ("WETH", "WBTC"), ("WBTC", "DAI"),
         ("WBTC", "USDC"), ("WBTC", "WETH"), ("USDC", "DAI"), ("USDC", "WETH"), ("USDC", "WBTC")]
COLLATERALS = ("WBTC", "USDC", "WETH")
BORROWABLE = ("DAI", "USDC", "WETH", "WBTC")
HYPOTHESIS = settings(max_examples=20,
                      suppress_health_check=[HealthCheck.function_scoped_fixture])
SMALL_HYPOTHESIS = settings(max_examples=8,
                            suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def seasoned_once(market, carol):
    """Every test here wants the seasoned pool: season it once for the module."""
    return season(market, carol)


def _units_for_value(p, symbol, dollars):
    r = reserve_state(p, p.tokens[symbol])
    return dollars * 10**r.decimals * 10**8 // r.price


def _build(p, user, coll, debt, size_usd, hf, extra_collateral, extra_borrow):
    """`user` with `size_usd` of `coll`, optionally 10% more in another collateral, a debt that
    makes HF ~0.9 (a fifth of it optionally in another asset), then `coll`'s price set for `hf`."""
    collateral = {coll: _units_for_value(p, coll, size_usd)}
    if extra_collateral:
        other = next(s for s in COLLATERALS if s not in (coll, debt))
        collateral[other] = _units_for_value(p, other, size_usd // 10)
    debt_usd = size_usd * 85 // 100
    borrows = {}
    if extra_borrow:
        other = next(s for s in BORROWABLE if s not in collateral and s != debt)
        borrows[other] = _units_for_value(p, other, debt_usd // 5)
        debt_usd -= debt_usd // 5
    borrows[debt] = _units_for_value(p, debt, debt_usd)
    open_position(p, user, collateral, borrows)
    set_health_factor(p, user, coll, hf)


@HYPOTHESIS
@given(
    pair=st.sampled_from(PAIRS),
    size_usd=strategy("uint256", min_value=1_000, max_value=2_000_000),
    hf=strategy("uint256", min_value=45 * 10**16, max_value=WAD - 1),
    cover_ppm=st.one_of(st.just(None), st.integers(min_value=1, max_value=1_200_000)),
    extra_collateral=st.booleans(),
    extra_borrow=st.booleans(),
    receive_shares=st.booleans(),
    config=st.sampled_from([(105 * 10**16, 7 * 10**17, 20_00), (WAD, 5 * 10**17, 0),
                            (125 * 10**16, 9 * 10**17, 100_00), (110 * 10**16, 0, 50_00)]),
)
def test_preview_equals_liquidate_and_the_model(seasoned_once, alice, liquidator, pair,
                                                size_usd, hf, cover_ppm, extra_collateral,
                                                extra_borrow, receive_shares, config):
    p = seasoned_once
    coll, debt = pair
    p.pool.setLiquidationConfig(*config, {"from": p.deployer})
    _build(p, alice, coll, debt, size_usd, hf, extra_collateral, extra_borrow)
    coll_asset, debt_asset = p.tokens[coll], p.tokens[debt]
    if cover_ppm is None:
        debt_to_cover = MAX
    else:
        debt_to_cover = p.pool.getUserPosition(alice, debt_asset)[1] * cover_ppm // 10**6 + 1
    supply_before = p.pool.getUserShares(alice, coll_asset)[0]
    try:
        _tx, exp = liquidate_and_check(p, coll_asset, debt_asset, alice, debt_to_cover,
                                      liquidator, receive_shares)
    except pm.MustNotLeaveDust:  # raised by the model before anything is sent
        with brownie.reverts("MustNotLeaveDust: "):
            p.pool.previewLiquidation(coll_asset, debt_asset, alice, debt_to_cover,
                                      {"from": liquidator})
        with brownie.reverts("MustNotLeaveDust: "):
            p.pool.liquidate(coll_asset, debt_asset, alice, debt_to_cover, receive_shares,
                             {"from": liquidator})
        return
    after = p.health_factor(alice)
    assert after == account_state(p, alice).health_factor
    target_repaid = exp.debt_shares >= pm.div_up(exp.debt_to_target_ray, exp.debt.index)
    if target_repaid and exp.collateral_shares < supply_before:
        assert after >= config[0], "the whole target repaid reaches the target"


@SMALL_HYPOTHESIS
@given(
    pair=st.sampled_from(PAIRS),
    hf=strategy("uint256", min_value=40 * 10**16, max_value=WAD - 1),
    size_usd=strategy("uint256", min_value=500, max_value=5_000),
)
def test_preview_flags_the_deficit_of_small_single_collateral_accounts(seasoned_once, alice,
                                                                       liquidator, pair, hf,
                                                                       size_usd):
    """Small accounts near the dust threshold: the deficit flag and the written-off amounts."""
    p = seasoned_once
    coll, debt = pair
    _build(p, alice, coll, debt, size_usd, hf, False, True)
    _tx, exp = liquidate_and_check(p, p.tokens[coll], p.tokens[debt], alice, MAX, liquidator)
    assert exp.deficit == (p.pool.getUserShares(alice, p.tokens[coll])[0] == 0)
