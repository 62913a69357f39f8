"""borrow(asset, amount): drawn shares rounded up, cash leaves the pool, and the health factor
must be at or above 1e18 afterwards (protocol.md sections 2-3)."""

import brownie
import pytest
from brownie import MockERC20

from tests.reference import protocol_math as pm

RAY = pm.RAY


@pytest.fixture
def alice_has_one_weth(liquidity, alice):
    """Alice: 1 WETH at $2,000 (CF 80%): she may borrow $1,600."""
    liquidity.supply(alice, "WETH", 10**18)
    return liquidity


def usdc_debt_hf(collateral_weth: int, debt_usdc: int) -> int:
    weighted = 80_00 * pm.to_value(collateral_weth, 18, 2000 * 10**8)
    return pm.health_factor(weighted, pm.to_value(debt_usdc * RAY, 6, 10**8))


def test_borrow_sends_the_amount_adds_drawn_shares_and_emits_borrow(alice_has_one_weth, alice):
    p = alice_has_one_weth
    pool, usdc = p.pool, p.tokens["USDC"]
    cash_before = pool.getReserveData(usdc).dict()["cash"]
    tx = pool.borrow(usdc, 1000 * 10**6, {"from": alice})

    shares = pm.mul_div_up(1000 * 10**6, RAY, RAY)
    assert tx.return_value == shares == 1000 * 10**6
    assert dict(tx.events["Borrow"]) == {
        "asset": usdc.address,
        "user": alice.address,
        "assets": 1000 * 10**6,
        "shares": shares,
    }
    assert usdc.balanceOf(alice) == 1000 * 10**6
    assert tuple(pool.getUserShares(alice, usdc)) == (0, shares)
    assert tuple(pool.getUserPosition(alice, usdc)) == (0, 1000 * 10**6, False)
    data = pool.getReserveData(usdc).dict()
    assert data["cash"] == cash_before - 1000 * 10**6
    assert data["totalDrawnShares"] == shares
    assert data["totalDebt"] == 1000 * 10**6
    # Bit 2*id: borrowing USDC (id 2); bit 2*0+1: WETH collateral.
    assert pool.getUserConfig(alice) == (1 << 4) | (2 << 0)
    account = pool.getUserAccountData(alice).dict()
    assert account["borrowCount"] == 1
    assert account["healthFactor"] == usdc_debt_hf(10**18, 1000 * 10**6)


def test_a_second_borrow_adds_to_the_drawn_shares(alice_has_one_weth, alice):
    p = alice_has_one_weth
    p.borrow(alice, "USDC", 300 * 10**6)
    p.borrow(alice, "USDC", 200 * 10**6)
    assert tuple(p.pool.getUserShares(alice, p.tokens["USDC"])) == (0, 500 * 10**6)
    assert p.pool.getUserAccountData(alice)["borrowCount"] == 1


def test_borrowing_to_exactly_hf_one_succeeds_and_one_more_wei_reverts(alice_has_one_weth, alice):
    p = alice_has_one_weth
    usdc = p.tokens["USDC"]
    assert usdc_debt_hf(10**18, 1600 * 10**6) == 10**18
    one_more = usdc_debt_hf(10**18, 1600 * 10**6 + 1)
    assert one_more == 999999999375000000
    with brownie.reverts(f"HealthFactorBelowThreshold: {one_more}"):
        p.pool.borrow(usdc, 1600 * 10**6 + 1, {"from": alice})
    p.pool.borrow(usdc, 1600 * 10**6, {"from": alice})
    assert p.health_factor(alice) == 10**18
    with brownie.reverts(f"HealthFactorBelowThreshold: {one_more}"):
        p.pool.borrow(usdc, 1, {"from": alice})


def test_the_largest_borrow_across_6_8_and_18_decimal_assets_succeeds_and_one_more_wei_reverts(
    liquidity, alice
):
    p = liquidity
    prices = {"WETH": 2345_67891234, "WBTC": 61234_56780000, "USDC": 99987654, "DAI": 100012345}
    for symbol, price in prices.items():
        p.set_price(symbol, price)
    supplied = {"WBTC": 12345678, "WETH": 15 * 10**17 + 3, "USDC": 1234_567891}
    for symbol, amount in supplied.items():
        p.supply(alice, symbol, amount)
    p.borrow(alice, "DAI", 1000 * 10**18 + 17)

    cf = {"WETH": 80_00, "WBTC": 75_00, "USDC": 85_00}
    dec = {"WETH": 18, "WBTC": 8, "USDC": 6, "DAI": 18}
    weighted = sum(cf[s] * pm.to_value(a, dec[s], prices[s]) for s, a in supplied.items())
    dai_debt_ray = pm.to_value((1000 * 10**18 + 17) * RAY, 18, prices["DAI"])

    def hf_with_weth_debt(d: int) -> int:
        return pm.health_factor(weighted, dai_debt_ray + pm.to_value(d * RAY, 18, prices["WETH"]))

    # Largest d with weighted * 1e14 * RAY >= 1e18 * (debtRay + d * RAY * price).
    largest = (weighted * 10**14 * RAY - 10**18 * dai_debt_ray) // (10**18 * RAY * prices["WETH"])
    assert hf_with_weth_debt(largest) >= 10**18 > hf_with_weth_debt(largest + 1)

    weth = p.tokens["WETH"]
    with brownie.reverts(f"HealthFactorBelowThreshold: {hf_with_weth_debt(largest + 1)}"):
        p.pool.borrow(weth, largest + 1, {"from": alice})
    p.pool.borrow(weth, largest, {"from": alice})
    assert p.health_factor(alice) == hf_with_weth_debt(largest)


def test_borrowing_without_collateral_reverts_with_health_factor_zero(liquidity, bob):
    with brownie.reverts("HealthFactorBelowThreshold: 0"):
        liquidity.pool.borrow(liquidity.tokens["USDC"], 1, {"from": bob})


def test_a_zero_collateral_factor_supply_does_not_back_a_borrow(liquidity, bob):
    liquidity.supply(bob, "DAI", 1_000_000 * 10**18)
    liquidity.pool.setUsingAsCollateral(liquidity.tokens["DAI"], True, {"from": bob})
    with brownie.reverts("HealthFactorBelowThreshold: 0"):
        liquidity.pool.borrow(liquidity.tokens["USDC"], 1, {"from": bob})


def test_a_disabled_collateral_does_not_back_a_borrow(alice_has_one_weth, alice):
    p = alice_has_one_weth
    p.pool.setUsingAsCollateral(p.tokens["WETH"], False, {"from": alice})
    with brownie.reverts("HealthFactorBelowThreshold: 0"):
        p.pool.borrow(p.tokens["USDC"], 1, {"from": alice})


def test_borrowing_more_than_the_cash_reverts_insufficient_liquidity(liquidity, alice, bob):
    p = liquidity
    usdc = p.tokens["USDC"]
    p.supply(alice, "WETH", 10_000 * 10**18)  # $20M: health is not what stops her
    p.borrow(alice, "USDC", 9_999_500 * 10**6)
    cash = p.pool.getReserveData(usdc).dict()["cash"]
    assert cash == 500 * 10**6
    with brownie.reverts(f"InsufficientLiquidity: {cash + 1}, {cash}"):
        p.pool.borrow(usdc, cash + 1, {"from": alice})
    # Liquidity is checked before health: a borrower without collateral hears about the cash first.
    with brownie.reverts(f"InsufficientLiquidity: {cash + 1}, {cash}"):
        p.pool.borrow(usdc, cash + 1, {"from": bob})
    p.borrow(alice, "USDC", cash)
    assert p.pool.getReserveData(usdc).dict()["cash"] == 0


def test_borrowing_zero_reverts_invalid_amount(alice_has_one_weth, alice):
    with brownie.reverts("InvalidAmount: "):
        alice_has_one_weth.pool.borrow(alice_has_one_weth.tokens["USDC"], 0, {"from": alice})


def test_borrowing_an_unlisted_asset_reverts(alice_has_one_weth, alice, deployer):
    token = MockERC20.deploy("X", "X", 18, {"from": deployer})
    with brownie.reverts(f"ReserveNotListed: {token.address.lower()}"):
        alice_has_one_weth.pool.borrow(token, 1, {"from": alice})


def test_borrowing_reverts_on_a_stale_price(alice_has_one_weth, alice, clock):
    p = alice_has_one_weth
    clock.sleep(3601)
    clock.mine()
    with brownie.reverts(revert_pattern=r"StalePrice: .*"):
        p.pool.borrow(p.tokens["USDC"], 10**6, {"from": alice})
    p.refresh_prices()
    p.pool.borrow(p.tokens["USDC"], 10**6, {"from": alice})
