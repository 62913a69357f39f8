"""supply(asset, amount, onBehalfOf): shares rounded down, the first supply of a collateral asset
enables it as collateral (protocol.md section 2)."""

import brownie
from brownie import ZERO_ADDRESS, MockERC20

from tests.reference import protocol_math as pm

MAX = 2**256 - 1


def collateral_bit(pool, token) -> int:
    return 2 << (2 * pool.getReserveData(token).dict()["id"])


def test_supply_on_a_fresh_reserve_mints_one_share_per_unit_and_emits_supply(protocol, alice):
    pool, usdc = protocol.pool, protocol.tokens["USDC"]
    amount = 1234_567890
    protocol.mint_and_approve(alice, "USDC", amount)

    tx = pool.supply(usdc, amount, alice, {"from": alice})

    assert tx.return_value == amount == pm.to_shares_down(amount, 0, 0)
    assert dict(tx.events["Supply"]) == {
        "asset": usdc.address,
        "caller": alice.address,
        "onBehalfOf": alice.address,
        "assets": amount,
        "shares": amount,
    }
    assert usdc.balanceOf(alice) == 0
    assert usdc.balanceOf(pool) == amount
    assert tuple(pool.getUserShares(alice, usdc)) == (amount, 0)
    assert tuple(pool.getUserPosition(alice, usdc)) == (amount, 0, True)
    data = pool.getReserveData(usdc).dict()
    assert (data["cash"], data["totalSupplyShares"], data["totalAddedAssets"]) == (
        amount,
        amount,
        amount,
    )


def test_the_first_supply_of_a_collateral_asset_enables_it_as_collateral(protocol, alice):
    pool, weth = protocol.pool, protocol.tokens["WETH"]
    tx = protocol.supply(alice, "WETH", 10**18)
    assert dict(tx.events["CollateralToggled"]) == {
        "user": alice.address,
        "asset": weth.address,
        "enabled": True,
    }
    assert pool.getUserConfig(alice) == collateral_bit(pool, weth)
    assert pool.getUserPosition(alice, weth)[2] is True


def test_the_first_supply_of_a_zero_collateral_factor_asset_does_not_enable_collateral(
    protocol, alice
):
    pool, dai = protocol.pool, protocol.tokens["DAI"]
    tx = protocol.supply(alice, "DAI", 100 * 10**18)
    assert "CollateralToggled" not in tx.events
    assert pool.getUserConfig(alice) == 0
    assert tuple(pool.getUserPosition(alice, dai)) == (100 * 10**18, 0, False)
    assert pool.getUserAccountData(alice)["activeCollateralCount"] == 0


def test_a_second_supply_adds_shares_without_toggling_collateral(protocol, alice):
    pool, wbtc = protocol.pool, protocol.tokens["WBTC"]
    protocol.supply(alice, "WBTC", 1_0000_0000)
    tx = protocol.supply(alice, "WBTC", 5000_0000)
    assert "CollateralToggled" not in tx.events
    assert tuple(pool.getUserShares(alice, wbtc)) == (1_5000_0000, 0)


def test_supplying_more_does_not_re_enable_a_collateral_the_user_disabled(protocol, alice):
    pool, weth = protocol.pool, protocol.tokens["WETH"]
    protocol.supply(alice, "WETH", 10**18)
    pool.setUsingAsCollateral(weth, False, {"from": alice})
    tx = protocol.supply(alice, "WETH", 10**18)
    assert "CollateralToggled" not in tx.events
    assert pool.getUserPosition(alice, weth)[2] is False


def test_supplying_again_after_a_full_withdrawal_enables_collateral_again(protocol, alice):
    pool, weth = protocol.pool, protocol.tokens["WETH"]
    protocol.supply(alice, "WETH", 10**18)
    pool.withdraw(weth, MAX, alice, {"from": alice})
    assert pool.getUserPosition(alice, weth)[2] is False
    tx = protocol.supply(alice, "WETH", 10**18)
    assert tx.events["CollateralToggled"]["enabled"] is True


def test_supply_on_behalf_credits_the_beneficiary_and_charges_the_caller(protocol, alice, bob):
    pool, weth = protocol.pool, protocol.tokens["WETH"]
    protocol.mint_and_approve(alice, "WETH", 2 * 10**18)
    tx = pool.supply(weth, 2 * 10**18, bob, {"from": alice})

    assert tx.events["Supply"]["caller"] == alice
    assert tx.events["Supply"]["onBehalfOf"] == bob
    # v2: a supply on someone else's behalf does not enable collateral.
    assert "CollateralToggled" not in tx.events
    assert pool.getUserPosition(bob, weth)[2] is False
    assert weth.balanceOf(alice) == 0
    assert tuple(pool.getUserShares(bob, weth)) == (2 * 10**18, 0)
    assert tuple(pool.getUserShares(alice, weth)) == (0, 0)


def test_supplying_zero_reverts_invalid_amount(protocol, alice):
    protocol.mint_and_approve(alice, "USDC", 10**6)
    with brownie.reverts("InvalidAmount: "):
        protocol.pool.supply(protocol.tokens["USDC"], 0, alice, {"from": alice})


def test_supplying_on_behalf_of_the_zero_address_reverts(protocol, alice):
    protocol.mint_and_approve(alice, "USDC", 10**6)
    with brownie.reverts("ZeroAddress: "):
        protocol.pool.supply(protocol.tokens["USDC"], 10**6, ZERO_ADDRESS, {"from": alice})


def test_supplying_an_unlisted_asset_reverts_reserve_not_listed(protocol, alice, deployer):
    token = MockERC20.deploy("X", "X", 18, {"from": deployer})
    token.mint(alice, 10**18, {"from": alice})
    token.approve(protocol.pool, MAX, {"from": alice})
    with brownie.reverts(f"ReserveNotListed: {token.address.lower()}"):
        protocol.pool.supply(token, 10**18, alice, {"from": alice})


def test_supplying_without_allowance_reverts_and_changes_nothing(protocol, alice):
    pool, usdc = protocol.pool, protocol.tokens["USDC"]
    usdc.mint(alice, 10**6, {"from": alice})
    with brownie.reverts(f"ERC20InsufficientAllowance: {pool.address.lower()}, 0, 1000000"):
        pool.supply(usdc, 10**6, alice, {"from": alice})
    assert tuple(pool.getUserShares(alice, usdc)) == (0, 0)
    assert pool.getUserConfig(alice) == 0
