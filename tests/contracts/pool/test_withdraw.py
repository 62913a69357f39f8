"""withdraw(asset, amount, to): shares burned rounded up, `type(uint256).max` withdraws
everything, and a withdrawal of active collateral by a borrower keeps the health factor at or
above 1e18."""

import brownie
import pytest
from brownie import ZERO_ADDRESS

from tests.reference import protocol_math as pm

MAX = 2**256 - 1
WETH_PRICE = 2000 * 10**8


@pytest.fixture
def alice_supplied(protocol, alice):
    protocol.supply(alice, "USDC", 1000 * 10**6)
    return protocol


def test_withdraw_sends_the_amount_burns_shares_rounded_up_and_emits_withdraw(
    alice_supplied, alice
):
    pool, usdc = alice_supplied.pool, alice_supplied.tokens["USDC"]
    before = pool.getReserveData(usdc).dict()
    tx = pool.withdraw(usdc, 400 * 10**6, alice, {"from": alice})

    burned = pm.to_shares_up(400 * 10**6, before["totalAddedAssets"], before["totalSupplyShares"])
    assert tx.return_value == 400 * 10**6
    assert dict(tx.events["Withdraw"]) == {
        "asset": usdc.address,
        "user": alice.address,
        "to": alice.address,
        "assets": 400 * 10**6,
        "shares": burned,
    }
    assert usdc.balanceOf(alice) == 400 * 10**6
    assert usdc.balanceOf(pool) == 600 * 10**6
    assert tuple(pool.getUserShares(alice, usdc)) == (1000 * 10**6 - burned, 0)
    # A partial withdrawal keeps the collateral flag.
    assert "CollateralToggled" not in tx.events
    assert pool.getUserPosition(alice, usdc)[2] is True
    assert pool.getReserveData(usdc).dict()["cash"] == 600 * 10**6


def test_withdraw_to_another_address_pays_that_address(alice_supplied, alice, bob):
    pool, usdc = alice_supplied.pool, alice_supplied.tokens["USDC"]
    tx = pool.withdraw(usdc, 250 * 10**6, bob, {"from": alice})
    assert tx.events["Withdraw"]["user"] == alice
    assert tx.events["Withdraw"]["to"] == bob
    assert usdc.balanceOf(bob) == 250 * 10**6
    assert usdc.balanceOf(alice) == 0


def test_withdrawing_max_withdraws_everything_and_disables_the_collateral(alice_supplied, alice):
    pool, usdc = alice_supplied.pool, alice_supplied.tokens["USDC"]
    tx = pool.withdraw(usdc, MAX, alice, {"from": alice})
    assert tx.return_value == 1000 * 10**6
    assert tx.events["Withdraw"]["shares"] == 1000 * 10**6
    assert dict(tx.events["CollateralToggled"]) == {
        "user": alice.address,
        "asset": usdc.address,
        "enabled": False,
    }
    assert tuple(pool.getUserShares(alice, usdc)) == (0, 0)
    assert tuple(pool.getUserPosition(alice, usdc)) == (0, 0, False)
    assert pool.getUserConfig(alice) == 0
    assert usdc.balanceOf(alice) == 1000 * 10**6


def test_withdrawing_exactly_the_whole_supply_by_amount_also_disables_the_collateral(
    alice_supplied, alice
):
    pool, usdc = alice_supplied.pool, alice_supplied.tokens["USDC"]
    tx = pool.withdraw(usdc, 1000 * 10**6, alice, {"from": alice})
    assert tx.events["CollateralToggled"]["enabled"] is False
    assert pool.getUserConfig(alice) == 0


def test_withdrawing_more_than_supplied_reverts_insufficient_supply(alice_supplied, alice):
    pool, usdc = alice_supplied.pool, alice_supplied.tokens["USDC"]
    with brownie.reverts("InsufficientSupply: 1000000001, 1000000000"):
        pool.withdraw(usdc, 1000 * 10**6 + 1, alice, {"from": alice})


def test_withdrawing_without_a_supply_reverts(protocol, bob):
    pool, usdc = protocol.pool, protocol.tokens["USDC"]
    with brownie.reverts("InsufficientSupply: 1, 0"):
        pool.withdraw(usdc, 1, bob, {"from": bob})
    with brownie.reverts("InvalidAmount: "):
        pool.withdraw(usdc, MAX, bob, {"from": bob})


def test_withdrawing_zero_or_to_the_zero_address_reverts(alice_supplied, alice):
    pool, usdc = alice_supplied.pool, alice_supplied.tokens["USDC"]
    with brownie.reverts("InvalidAmount: "):
        pool.withdraw(usdc, 0, alice, {"from": alice})
    with brownie.reverts("ZeroAddress: "):
        pool.withdraw(usdc, 1, ZERO_ADDRESS, {"from": alice})


def test_withdrawing_an_unlisted_asset_reverts(protocol, alice):
    with brownie.reverts(f"ReserveNotListed: {alice.address.lower()}"):
        protocol.pool.withdraw(alice, 1, alice, {"from": alice})


def test_withdrawing_more_than_the_pool_cash_reverts_insufficient_liquidity(
    protocol, supplier, alice, bob
):
    pool, usdc = protocol.pool, protocol.tokens["USDC"]
    protocol.supply(supplier, "USDC", 1000 * 10**6)
    protocol.supply(bob, "WETH", 10**18)
    protocol.borrow(bob, "USDC", 600 * 10**6)
    with brownie.reverts("InsufficientLiquidity: 500000000, 400000000"):
        pool.withdraw(usdc, 500 * 10**6, supplier, {"from": supplier})
    with brownie.reverts("InsufficientLiquidity: 1000000000, 400000000"):
        pool.withdraw(usdc, MAX, supplier, {"from": supplier})
    # Exactly the cash is fine.
    pool.withdraw(usdc, 400 * 10**6, supplier, {"from": supplier})
    assert pool.getReserveData(usdc).dict()["cash"] == 0


@pytest.fixture
def borrower(protocol, supplier, alice):
    """Alice: 1 WETH ($2,000, CF 80%) as collateral and 800 USDC of debt (HF 2.0)."""
    protocol.supply(supplier, "USDC", 100_000 * 10**6)
    protocol.supply(alice, "WETH", 10**18)
    protocol.borrow(alice, "USDC", 800 * 10**6)
    assert protocol.health_factor(alice) == 2 * 10**18
    return protocol


def hf_after_weth_withdrawal(withdrawn: int) -> int:
    weighted = 80_00 * pm.to_value(10**18 - withdrawn, 18, WETH_PRICE)
    return pm.health_factor(weighted, pm.to_value(800 * 10**6 * pm.RAY, 6, 10**8))


def test_withdrawing_collateral_down_to_exactly_hf_one_succeeds_and_one_more_wei_reverts(
    borrower, alice
):
    pool, weth = borrower.pool, borrower.tokens["WETH"]
    half = 5 * 10**17
    assert hf_after_weth_withdrawal(half) == 10**18
    with brownie.reverts(f"HealthFactorBelowThreshold: {hf_after_weth_withdrawal(half + 1)}"):
        pool.withdraw(weth, half + 1, alice, {"from": alice})
    with brownie.reverts(f"HealthFactorBelowThreshold: {hf_after_weth_withdrawal(10**18)}"):
        pool.withdraw(weth, MAX, alice, {"from": alice})
    pool.withdraw(weth, half, alice, {"from": alice})
    assert borrower.health_factor(alice) == 10**18


def test_withdrawing_a_non_collateral_supply_ignores_the_health_factor(borrower, alice):
    pool, weth, dai = borrower.pool, borrower.tokens["WETH"], borrower.tokens["DAI"]
    pool.withdraw(weth, 5 * 10**17, alice, {"from": alice})  # HF exactly 1.0
    borrower.supply(alice, "DAI", 500 * 10**18)  # CF 0: never collateral
    borrower.supply(alice, "WBTC", 10**8)
    pool.setUsingAsCollateral(borrower.tokens["WBTC"], False, {"from": alice})
    pool.withdraw(dai, MAX, alice, {"from": alice})
    pool.withdraw(borrower.tokens["WBTC"], MAX, alice, {"from": alice})
    assert dai.balanceOf(alice) == 500 * 10**18
    assert borrower.health_factor(alice) == 10**18


def test_withdrawing_without_debt_needs_no_price(protocol, alice, clock):
    pool, weth = protocol.pool, protocol.tokens["WETH"]
    protocol.supply(alice, "WETH", 10**18)
    clock.sleep(10 * 3600)
    clock.mine()
    with brownie.reverts(revert_pattern=r"StalePrice: .*"):
        pool.getUserAccountData(alice)
    pool.withdraw(weth, MAX, alice, {"from": alice})
    assert weth.balanceOf(alice) == 10**18


def test_a_borrower_withdrawing_collateral_reverts_on_a_stale_price(borrower, alice, clock):
    pool, weth = borrower.pool, borrower.tokens["WETH"]
    clock.sleep(3601)
    clock.mine()
    with brownie.reverts(revert_pattern=r"StalePrice: .*, 3600"):
        pool.withdraw(weth, 10**17, alice, {"from": alice})
    borrower.refresh_prices()
    pool.withdraw(weth, 10**17, alice, {"from": alice})
