"""setUsingAsCollateral(asset, enabled): enabling needs a supply and a reserve that is not frozen;
disabling keeps the health factor at or above 1e18; setting the current state again does nothing."""

import brownie
import pytest

from tests.reference import protocol_math as pm

RAY = pm.RAY
WETH_VALUE = pm.to_value(10**18, 18, 2000 * 10**8)  # 1 WETH
WBTC_VALUE = pm.to_value(10**7, 8, 60_000 * 10**8)  # 0.1 WBTC


@pytest.fixture
def alice_two_collaterals(liquidity, alice):
    """Alice: 1 WETH ($2,000, CF 80%) and 0.1 WBTC ($6,000, CF 75%) as collateral, no debt."""
    liquidity.supply(alice, "WETH", 10**18)
    liquidity.supply(alice, "WBTC", 10**7)
    return liquidity


def test_disabling_a_collateral_removes_it_from_the_account_and_emits_collateral_toggled(
    alice_two_collaterals, alice
):
    p = alice_two_collaterals
    pool, wbtc = p.pool, p.tokens["WBTC"]
    tx = pool.setUsingAsCollateral(wbtc, False, {"from": alice})

    assert dict(tx.events["CollateralToggled"]) == {
        "user": alice.address,
        "asset": wbtc.address,
        "enabled": False,
    }
    assert tuple(pool.getUserPosition(alice, wbtc)) == (10**7, 0, False)
    account = pool.getUserAccountData(alice).dict()
    assert account["totalCollateralValue"] == WETH_VALUE
    assert account["activeCollateralCount"] == 1
    assert account["avgCollateralFactor"] == 80 * 10**16
    assert pool.getUserConfig(alice) == 2  # WETH (id 0) collateral bit only


def test_enabling_a_collateral_again_counts_it_again(alice_two_collaterals, alice):
    p = alice_two_collaterals
    pool, wbtc = p.pool, p.tokens["WBTC"]
    pool.setUsingAsCollateral(wbtc, False, {"from": alice})
    tx = pool.setUsingAsCollateral(wbtc, True, {"from": alice})
    assert dict(tx.events["CollateralToggled"]) == {
        "user": alice.address,
        "asset": wbtc.address,
        "enabled": True,
    }
    account = pool.getUserAccountData(alice).dict()
    assert account["totalCollateralValue"] == WETH_VALUE + WBTC_VALUE
    assert account["activeCollateralCount"] == 2


@pytest.mark.parametrize("enabled", [True, False])
def test_setting_the_current_state_again_does_nothing(alice_two_collaterals, alice, enabled):
    p = alice_two_collaterals
    pool, wbtc = p.pool, p.tokens["WBTC"]
    if not enabled:
        pool.setUsingAsCollateral(wbtc, False, {"from": alice})
    config = pool.getUserConfig(alice)
    tx = pool.setUsingAsCollateral(wbtc, enabled, {"from": alice})
    assert len(tx.events) == 0
    assert pool.getUserConfig(alice) == config


def test_enabling_without_a_supply_reverts_reserve_not_supplied(alice_two_collaterals, alice):
    with brownie.reverts("ReserveNotSupplied: "):
        alice_two_collaterals.pool.setUsingAsCollateral(
            alice_two_collaterals.tokens["USDC"], True, {"from": alice}
        )


def test_enabling_a_zero_collateral_factor_supply_sets_the_flag_but_adds_no_collateral(
    liquidity, alice
):
    pool, dai = liquidity.pool, liquidity.tokens["DAI"]
    liquidity.supply(alice, "DAI", 1000 * 10**18)
    pool.setUsingAsCollateral(dai, True, {"from": alice})
    assert pool.getUserPosition(alice, dai)[2] is True
    account = pool.getUserAccountData(alice).dict()
    assert (account["totalCollateralValue"], account["activeCollateralCount"]) == (0, 0)


def test_disabling_a_collateral_that_would_drop_hf_below_one_reverts(alice_two_collaterals, alice):
    p = alice_two_collaterals
    pool, wbtc, weth = p.pool, p.tokens["WBTC"], p.tokens["WETH"]
    p.borrow(alice, "USDC", 1700 * 10**6)  # above the $1,600 WETH alone supports
    debt_ray = pm.to_value(1700 * 10**6 * RAY, 6, 10**8)
    hf_without_wbtc = pm.health_factor(80_00 * WETH_VALUE, debt_ray)
    assert hf_without_wbtc == 941176470588235294
    with brownie.reverts(f"HealthFactorBelowThreshold: {hf_without_wbtc}"):
        pool.setUsingAsCollateral(wbtc, False, {"from": alice})
    # Disabling WETH instead leaves 0.1 WBTC * $60,000 * 75% = $4,500 of borrowing power: allowed.
    pool.setUsingAsCollateral(weth, False, {"from": alice})
    assert p.health_factor(alice) == pm.health_factor(75_00 * WBTC_VALUE, debt_ray)


def test_disabling_a_collateral_down_to_exactly_hf_one_succeeds(alice_two_collaterals, alice):
    p = alice_two_collaterals
    p.borrow(alice, "USDC", 1600 * 10**6)
    p.pool.setUsingAsCollateral(p.tokens["WBTC"], False, {"from": alice})
    assert p.health_factor(alice) == 10**18


def test_disabling_a_collateral_without_debt_needs_no_price(alice_two_collaterals, alice, clock):
    p = alice_two_collaterals
    clock.sleep(7200)
    clock.mine()
    p.pool.setUsingAsCollateral(p.tokens["WBTC"], False, {"from": alice})
    assert p.pool.getUserPosition(alice, p.tokens["WBTC"])[2] is False


def test_toggling_an_unlisted_asset_reverts(liquidity, alice):
    with brownie.reverts(f"ReserveNotListed: {alice.address.lower()}"):
        liquidity.pool.setUsingAsCollateral(alice, True, {"from": alice})
