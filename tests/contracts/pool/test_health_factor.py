"""The health factor and getUserAccountData (protocol.md section 3), against the formula computed in
Python with tests/reference/protocol_math, to the wei:

    weighted            = sum(CF * toValue(sharesToAssetsDown(shares), decimals, price))
    healthFactor        = floor(weighted * 1e14 * 1e27 / totalDebtValueRay)
    avgCollateralFactor = floor(weighted * 1e14 / totalCollateralValue)
    totalDebtValue      = ceil(totalDebtValueRay / 1e27)
"""

import brownie
import pytest
from brownie import chain

from tests.reference import protocol_math as pm

RAY = pm.RAY
MAX = 2**256 - 1
DECIMALS = {"WETH": 18, "WBTC": 8, "USDC": 6, "DAI": 18}
CF = {"WETH": 80_00, "WBTC": 75_00, "USDC": 85_00, "DAI": 0}
ODD_PRICES = {"WETH": 2345_67891234, "WBTC": 61234_56780000, "USDC": 99987654, "DAI": 100012345}

SUPPLIED = {"WETH": 33 * 10**17 + 1, "WBTC": 45670000, "USDC": 12345_678901, "DAI": 5000 * 10**18}
BORROWED = {"DAI": 10_000 * 10**18 + 1, "WETH": 75 * 10**16, "WBTC": 1_000_003, "USDC": 1000_123456}


def expected_account(
    supplied: dict, borrowed: dict, prices: dict, index: dict | None = None, cf: dict = CF
) -> tuple:
    """getUserAccountData at share price 1 (no interest on supply) and the given borrow indexes."""
    index = index or {}
    collateral = {
        s: pm.to_value(a, DECIMALS[s], prices[s]) for s, a in supplied.items() if cf[s] > 0
    }
    total = sum(collateral.values())
    weighted = sum(cf[s] * v for s, v in collateral.items())
    debt_ray = sum(
        pm.to_value(shares * index.get(s, RAY), DECIMALS[s], prices[s])
        for s, shares in borrowed.items()
    )
    return (
        total,
        pm.div_up(debt_ray, RAY),
        pm.health_factor(weighted, debt_ray),
        weighted * 10**14 // total if total else 0,
        len(collateral),
        len(borrowed),
    )


@pytest.fixture
def spread_account(liquidity, alice):
    """Alice supplies all four assets (DAI has CF 0) and borrows all four."""
    for symbol, amount in SUPPLIED.items():
        liquidity.supply(alice, symbol, amount)
    for symbol, amount in BORROWED.items():
        liquidity.borrow(alice, symbol, amount)
    return liquidity


def test_account_data_across_6_8_and_18_decimal_assets_matches_the_formula(spread_account, alice):
    p = spread_account
    default = {s: p.feeds[s].latestAnswer() for s in DECIMALS}
    assert tuple(p.pool.getUserAccountData(alice)) == expected_account(SUPPLIED, BORROWED, default)


def test_account_data_at_odd_prices_matches_the_formula_to_the_wei(spread_account, alice):
    p = spread_account
    for symbol, price in ODD_PRICES.items():
        p.set_price(symbol, price)
    expected = expected_account(SUPPLIED, BORROWED, ODD_PRICES)
    assert tuple(p.pool.getUserAccountData(alice)) == expected


def test_a_price_drop_lowers_the_health_factor_below_one_without_reverting_the_view(
    spread_account, alice
):
    p = spread_account
    prices = dict(ODD_PRICES)
    for symbol, price in prices.items():
        p.set_price(symbol, price)
    prices["WBTC"] = 10_000 * 10**8
    prices["USDC"] = 10_000_000
    p.set_price("WBTC", prices["WBTC"])
    p.set_price("USDC", prices["USDC"])
    expected = expected_account(SUPPLIED, BORROWED, prices)
    assert expected[2] < 10**18
    assert tuple(p.pool.getUserAccountData(alice)) == expected
    assert list(p.pool.getHealthFactors([alice])) == [expected[2]]


def test_an_account_without_debt_has_max_health_factor(liquidity, alice):
    p = liquidity
    p.supply(alice, "WETH", 2 * 10**18)
    p.supply(alice, "USDC", 3000 * 10**6)
    weighted = 80_00 * 4000 * 10**26 + 85_00 * 3000 * 10**26
    assert tuple(p.pool.getUserAccountData(alice)) == (
        7000 * 10**26,
        0,
        MAX,
        weighted * 10**14 // (7000 * 10**26),
        2,
        0,
    )


def test_an_empty_account_reads_zeros_and_max_health_factor(liquidity, carol):
    assert tuple(liquidity.pool.getUserAccountData(carol)) == (0, 0, MAX, 0, 0, 0)


def test_lowering_a_collateral_factor_lowers_what_the_reserve_counts_but_never_to_zero_while_supplied(
    spread_account, alice, reconfigure
):
    """v2: a supplied reserve's collateral factor cannot reach 0 (offboarding lowers maxLtv to 0)."""
    p = spread_account
    with brownie.reverts(revert_pattern=r"CollateralFactorInUse: .*"):
        reconfigure("WBTC", collateralFactor=0)
    reconfigure("WBTC", collateralFactor=1)
    default = {s: p.feeds[s].latestAnswer() for s in DECIMALS}
    expected = expected_account(SUPPLIED, BORROWED, default, cf={**CF, "WBTC": 1})
    assert tuple(p.pool.getUserAccountData(alice)) == expected


def test_batch_health_factors_equal_the_single_account_ones(spread_account, alice, bob, carol):
    p = spread_account
    p.supply(bob, "WBTC", 10**8)
    p.borrow(bob, "USDC", 12_345 * 10**6)
    singles = [p.health_factor(user) for user in (alice, bob, carol)]
    assert list(p.pool.getHealthFactors([alice, bob, carol])) == singles
    assert singles[2] == MAX


def test_debt_value_is_rounded_up_and_the_health_factor_uses_the_accrued_index(
    liquidity, alice, reconfigure
):
    p = liquidity
    usdc = p.tokens["USDC"]
    reconfigure("USDC", baseRate=300, slopeBelowOptimal=700, slopeAboveOptimal=20_000)
    p.supply(alice, "WETH", 10**18)
    p.supply(alice, "WBTC", 1234567)
    p.borrow(alice, "USDC", 1234_567891)
    chain.sleep(17 * 86400 + 13)
    p.refresh_prices()  # also mines: the views below run at a later timestamp than the borrow

    index = p.pool.getReserveData(usdc).dict()["borrowIndex"]
    assert index > RAY
    shares = p.pool.getUserShares(alice, usdc)[1]
    debt_ray = pm.to_value(shares * index, 6, 10**8)
    assert debt_ray % RAY != 0
    expected = expected_account(
        {"WETH": 10**18, "WBTC": 1234567},
        {"USDC": shares},
        {"WETH": 2000 * 10**8, "WBTC": 60_000 * 10**8, "USDC": 10**8},
        index={"USDC": index},
    )
    assert tuple(p.pool.getUserAccountData(alice)) == expected
    assert expected[1] == debt_ray // RAY + 1
    assert p.pool.getUserPosition(alice, usdc)[1] == pm.ray_mul_up(shares, index)
