"""Property tests at the level of the math: the chain against tests/reference/protocol_math at random valid
inputs, states built directly by strategies (a seasoned market, a position, a price shock).

- Share conversions (protocol.md section 2): supply mints `toSharesDown`, withdraw burns
  `toSharesUp`, positions and full withdrawals are worth `toAssetsDown`, all with the virtual
  offset, at share prices above 1 (interest has run for a random time).
- Liquidation amounts (sections 3-6): the health factor, the bonus and every amount of
  `previewLiquidation` and `liquidate` equal `protocol_math.liquidation_amounts` computed from raw
  chain state (shares, indexes, prices, configuration), for random collateral, debt, size,
  health factor and debtToCover.

Every example starts from the module's snapshot (`chain.revert()`), and runs on the deterministic
clock of test_pool_state_machine.py, so a preview and the transaction after it share a timestamp.
"""

from __future__ import annotations

import brownie
import invariants as inv
import pytest
from brownie import accounts, chain, web3
from brownie.test import given, strategy
from hypothesis import HealthCheck, settings
from hypothesis import event as note_case
from hypothesis import strategies as st

from tests.reference import protocol_math as pm

SYMBOLS = ("WETH", "WBTC", "USDC", "DAI")
MAX = 2**256 - 1
RATE_MODELS = {"WETH": (3_00, 20_00, 300_00, 80_00), "USDC": (5_00, 40_00, 200_00, 90_00)}
LIQUIDITY_USD = 20_000_000

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def clock():
    """Blocks keep the previous timestamp until a test moves time."""
    web3.provider.make_request("anvil_setBlockTimestampInterval", [0])
    yield
    web3.provider.make_request("anvil_removeBlockTimestampInterval", [])


@pytest.fixture(scope="module")
def market(protocol, clock):
    """Rate models on WETH and USDC, deep liquidity everywhere, some debt on the rate reserves
    (so that time raises their share price), a funded liquidator and a funded user."""
    p = protocol
    whale, seasoner, user, keeper = accounts[5], accounts[3], accounts[1], accounts[4]
    for symbol, (base, slope1, slope2, optimal) in RATE_MODELS.items():
        token = p.tokens[symbol]
        current = tuple(p.pool.getReserveData(token)[0])
        config = (*current[:6], base, slope1, slope2, optimal, current[10])
        p.pool.updateReserveConfig(token, config, {"from": p.deployer})
    for symbol in SYMBOLS:
        token = p.tokens[symbol]
        for account in (whale, seasoner, user, keeper):
            p.mint_and_approve(account, symbol, 10**15 * 10 ** token.decimals())
        p.pool.supply(token, units(p, symbol, LIQUIDITY_USD), whale, {"from": whale})
    p.pool.supply(p.tokens["WBTC"], units(p, "WBTC", 5_000_000), seasoner, {"from": seasoner})
    p.pool.borrow(p.tokens["WETH"], units(p, "WETH", 1_000_000), {"from": seasoner})
    p.pool.borrow(p.tokens["USDC"], units(p, "USDC", 2_000_000), {"from": seasoner})
    return p


def units(p, symbol: str, usd: int) -> int:
    """Token units worth `usd` dollars at the feed's current price."""
    token = p.tokens[symbol]
    return usd * 10**8 * 10 ** token.decimals() // p.feeds[symbol].latestAnswer()


def season(p, days: int) -> None:
    """Let `days` of interest run, then publish fresh prices."""
    if days:
        now = chain[-1].timestamp
        web3.provider.make_request("evm_setNextBlockTimestamp", [now + days * 86_400])
        p.refresh_prices()


def reserve_state(p, symbol: str) -> tuple:
    """(total added assets, total supply shares, borrow index, price), accrued to the latest
    block."""
    data = p.pool.getReserveData(p.tokens[symbol])
    return data[8], data[6], data[3], data[11]


# ------------------------------------------------------------------------- share conversions


@PROPERTY_SETTINGS
@given(
    symbol=st.sampled_from(SYMBOLS),
    days=strategy("uint16", max_value=730),
    usd=st.integers(min_value=1, max_value=5_000_000),
    dust=st.integers(min_value=0, max_value=10**6),
    part_bps=st.integers(min_value=1, max_value=10_000),
)
def test_share_conversions_round_as_specified(market, symbol, days, usd, dust, part_bps):
    chain.revert()
    p = market
    user, token = accounts[1], p.tokens[symbol]
    season(p, days)

    # Supply: shares = floor(a * (S + V) / (A + V)).
    amount = units(p, symbol, usd) + dust
    total_assets, total_shares, _, _ = reserve_state(p, symbol)
    price_before = (total_assets + pm.VIRTUAL_SHARES, total_shares + pm.VIRTUAL_SHARES)
    tx = p.pool.supply(token, amount, user, {"from": user})
    assert tx.timestamp == chain[-1].timestamp
    expected = pm.to_shares_down(amount, total_assets, total_shares)
    assert tx.events["Supply"]["shares"] == expected, (
        f"{inv.SHARE_CONVERSIONS_MATCH_SPEC}: supply {amount} minted "
        f"{tx.events['Supply']['shares']}, spec {expected}"
    )

    # The position is worth floor(shares * (A + V) / (S + V)).
    shares = p.pool.getUserShares(user, token)[0]
    total_assets, total_shares, _, _ = reserve_state(p, symbol)
    supplied = pm.to_assets_down(shares, total_assets, total_shares)
    assert p.pool.getUserPosition(user, token)[0] == supplied, inv.SHARE_CONVERSIONS_MATCH_SPEC
    assert (total_assets + pm.VIRTUAL_SHARES) * price_before[1] >= price_before[0] * (
        total_shares + pm.VIRTUAL_SHARES
    ), inv.SHARE_PRICE_NEVER_FALLS

    # Withdraw part: shares burned = ceil(w * (S + V) / (A + V)).
    withdraw = supplied * part_bps // 10_000
    if withdraw:
        tx = p.pool.withdraw(token, withdraw, user, {"from": user})
        expected = pm.to_shares_up(withdraw, total_assets, total_shares)
        event = tx.events["Withdraw"]
        assert (event["assets"], event["shares"]) == (withdraw, expected), (
            f"{inv.SHARE_CONVERSIONS_MATCH_SPEC}: withdraw {withdraw} burned {event['shares']}, "
            f"spec {expected}"
        )

    # Withdraw everything: floor(rest * (A + V) / (S + V)).
    rest = p.pool.getUserShares(user, token)[0]
    total_assets, total_shares, _, _ = reserve_state(p, symbol)
    expected_assets = pm.to_assets_down(rest, total_assets, total_shares)
    if expected_assets == 0:
        with brownie.reverts("InvalidAmount: "):
            p.pool.withdraw(token, MAX, user, {"from": user})
        return
    tx = p.pool.withdraw(token, MAX, user, {"from": user})
    event = tx.events["Withdraw"]
    assert (event["assets"], event["shares"]) == (expected_assets, rest), (
        inv.SHARE_CONVERSIONS_MATCH_SPEC
    )
    assert p.pool.getUserShares(user, token)[0] == 0


# ------------------------------------------------------------------------ liquidation amounts


def account_from_chain(p, user) -> tuple:
    """(weighted collateral, total debt value * RAY, active collaterals, borrow count) from raw
    shares, indexes, prices and the user's bitmap (section 3)."""
    bitmap = p.pool.getUserConfig(user)
    weighted = debt_ray = active = borrows = 0
    for symbol in SYMBOLS:
        token = p.tokens[symbol]
        data = p.pool.getReserveData(token)
        config, rid, decimals, index, price = data[0], data[1], data[2], data[3], data[11]
        supply_shares, drawn = p.pool.getUserShares(user, token)
        if bitmap >> (2 * rid + 1) & 1 and supply_shares and config[0]:
            assets = pm.to_assets_down(supply_shares, data[8], data[6])
            weighted += config[0] * pm.to_value(assets, decimals, price)
            active += 1
        if bitmap >> (2 * rid) & 1:
            debt_ray += pm.to_value(drawn * index, decimals, price)
            borrows += 1
    return weighted, debt_ray, active, borrows


@PROPERTY_SETTINGS
@given(
    pair=st.sampled_from([(c, d) for c in SYMBOLS[:3] for d in SYMBOLS if d != c]),
    days=strategy("uint16", max_value=400),
    usd=st.integers(min_value=200, max_value=3_000_000),
    headroom_bps=st.integers(min_value=2_000, max_value=9_990),
    hf_bps=st.one_of(
        st.integers(min_value=9_000, max_value=9_995), st.integers(min_value=3_000, max_value=9_995)
    ),
    cover=st.sampled_from(["max", "fraction", "exact", "exact - 1"]),
    fraction_bps=st.integers(min_value=1, max_value=12_000),
    receive_shares=st.booleans(),
)
def test_liquidation_amounts_match_protocol_math(
    market, pair, days, usd, headroom_bps, hf_bps, cover, fraction_bps, receive_shares
):
    chain.revert()
    p = market
    user, keeper = accounts[1], accounts[4]
    coll, debt = pair
    coll_token, debt_token = p.tokens[coll], p.tokens[debt]
    season(p, days)

    # The position: collateral worth `usd`, a share of its borrowing power drawn in `debt`.
    p.pool.supply(coll_token, units(p, coll, usd), user, {"from": user})
    weighted, _, _, _ = account_from_chain(p, user)
    debt_price = p.feeds[debt].latestAnswer()
    decimals = debt_token.decimals()
    borrow = weighted * headroom_bps // 10**8 // (debt_price * 10 ** (18 - decimals))
    if borrow == 0:
        note_case("position too small to borrow")
        return
    p.pool.borrow(debt_token, borrow, {"from": user})

    # The shock: scale the collateral price so that HF lands near hf_bps.
    hf = p.pool.getUserAccountData(user)[2]
    coll_price = p.feeds[coll].latestAnswer()
    p.set_price(coll, max(1, coll_price * hf_bps * 10**14 // hf))

    # The spec's numbers from raw state.
    weighted, debt_ray, active, borrows = account_from_chain(p, user)
    hf = pm.health_factor(weighted, debt_ray)
    assert p.pool.getUserAccountData(user)[2] == hf, inv.ACCOUNT_DATA_MATCHES_MODEL
    if hf >= pm.WAD:
        note_case("shock left HF >= 1: HealthFactorNotBelowThreshold")
        with brownie.reverts(f"HealthFactorNotBelowThreshold: {hf}"):
            p.pool.previewLiquidation(coll_token, debt_token, user, MAX, {"from": keeper})
        return
    target_hf, hf_for_max_bonus, bonus_factor = p.pool.getLiquidationConfig()
    coll_data, debt_data = p.pool.getReserveData(coll_token), p.pool.getReserveData(debt_token)
    bonus = pm.liquidation_bonus(coll_data[0][1], hf, hf_for_max_bonus, bonus_factor)
    assert p.pool.getLiquidationBonus(coll_token, hf) == bonus, inv.LIQUIDATION_MATCHES_SPEC_MATH
    supply_shares = p.pool.getUserShares(user, coll_token)[0]
    drawn = p.pool.getUserShares(user, debt_token)[1]

    def amounts(debt_to_cover: int) -> pm.LiquidationAmounts:
        return pm.liquidation_amounts(
            pm.LiquidationInputs(
                health_factor=hf,
                total_debt_value_ray=debt_ray,
                target_health_factor=target_hf,
                liquidation_bonus=bonus,
                collateral_factor=coll_data[0][0],
                liquidation_fee=coll_data[0][2],
                debt_to_cover=debt_to_cover,
                drawn_shares=drawn,
                borrow_index=debt_data[3],
                debt_price=debt_data[11],
                debt_decimals=debt_data[2],
                supply_shares=supply_shares,
                collateral_price=coll_data[11],
                collateral_decimals=coll_data[2],
                collateral_total_assets=coll_data[8],
                collateral_total_shares=coll_data[6],
            )
        )

    full = amounts(MAX).debt_to_repay
    debt_to_cover = {
        "max": MAX,
        "fraction": pm.ray_mul_up(drawn, debt_data[3]) * fraction_bps // 10_000,
        "exact": full,
        "exact - 1": full - 1,
    }[cover]
    if debt_to_cover == 0:
        note_case("InvalidDebtToCover")
        with brownie.reverts("InvalidDebtToCover: "):
            p.pool.liquidate(coll_token, debt_token, user, 0, receive_shares, {"from": keeper})
        return
    try:
        a = amounts(debt_to_cover)
    except pm.MustNotLeaveDust:
        note_case("MustNotLeaveDust")
        with brownie.reverts("MustNotLeaveDust: "):
            p.pool.previewLiquidation(coll_token, debt_token, user, debt_to_cover, {"from": keeper})
        with brownie.reverts("MustNotLeaveDust: "):
            p.pool.liquidate(
                coll_token, debt_token, user, debt_to_cover, receive_shares, {"from": keeper}
            )
        return

    total_assets, total_shares = coll_data[8], coll_data[6]
    seized = pm.to_assets_down(a.collateral_shares, total_assets, total_shares)
    to_liquidator = pm.to_assets_down(a.liquidator_shares, total_assets, total_shares)
    fee = pm.to_assets_down(a.fee_shares, total_assets, total_shares)
    deficit = pm.is_deficit(
        supply_shares - a.collateral_shares, active, drawn - a.debt_shares, borrows
    )
    expected = (hf, bonus, a.debt_to_repay, seized, to_liquidator, fee, deficit)

    now = chain[-1].timestamp
    preview = tuple(
        p.pool.previewLiquidation(coll_token, debt_token, user, debt_to_cover, {"from": keeper})
    )
    assert preview == expected, (
        f"{inv.LIQUIDATION_MATCHES_SPEC_MATH}: preview {preview}, protocol_math {expected}"
    )

    debt_before, coll_before = debt_token.balanceOf(keeper), coll_token.balanceOf(keeper)
    shares_before = p.pool.getUserShares(keeper, coll_token)[0]
    tx = p.pool.liquidate(
        coll_token, debt_token, user, debt_to_cover, receive_shares, {"from": keeper}
    )
    assert tx.timestamp == now, "deterministic clock: the preview's block time"
    event = tx.events["LiquidationCall"]
    assert (
        event["healthFactorBefore"],
        event["liquidationBonus"],
        event["debtRepaid"],
        event["collateralSeized"],
        event["protocolFee"],
    ) == (hf, bonus, a.debt_to_repay, seized, fee), inv.LIQUIDATION_MATCHES_SPEC_MATH
    paid = debt_before - debt_token.balanceOf(keeper)
    assert paid == a.debt_to_repay, inv.PREVIEW_MATCHES_LIQUIDATION
    assert paid <= debt_to_cover, inv.LIQUIDATOR_PAYS_AT_MOST_DEBT_TO_COVER
    if receive_shares:
        assert p.pool.getUserShares(keeper, coll_token)[0] - shares_before == a.liquidator_shares
        assert coll_token.balanceOf(keeper) == coll_before, inv.PREVIEW_MATCHES_LIQUIDATION
    else:
        assert coll_token.balanceOf(keeper) - coll_before == to_liquidator, (
            inv.PREVIEW_MATCHES_LIQUIDATION
        )
    assert ("DeficitReported" in tx.events) == deficit, inv.PREVIEW_MATCHES_LIQUIDATION
    note_case(
        f"liquidated ({cover}{', deficit' if deficit else ''}"
        f"{', all debt' if a.debt_shares == drawn else ''}"
        f"{', all collateral' if a.collateral_shares == supply_shares else ''})"
    )
    assert p.pool.getUserShares(accounts[9], coll_token)[0] == a.fee_shares, (
        inv.LIQUIDATION_MATCHES_SPEC_MATH
    )
