"""Roles: the owner (Ownable2Step), the guardian who may pause reserves, and the fee receiver."""

import brownie
from brownie import ZERO_ADDRESS, LendingPool


def test_the_constructor_rejects_a_zero_oracle_or_fee_receiver(deployer, oracle, fund):
    with brownie.reverts("ZeroAddress: "):
        LendingPool.deploy(ZERO_ADDRESS, fund, deployer, {"from": deployer})
    with brownie.reverts("ZeroAddress: "):
        LendingPool.deploy(oracle, ZERO_ADDRESS, deployer, {"from": deployer})
    with brownie.reverts(f"OwnableInvalidOwner: {ZERO_ADDRESS}"):
        LendingPool.deploy(oracle, fund, ZERO_ADDRESS, {"from": deployer})


def test_the_constructor_sets_owner_oracle_and_fee_receiver(pool, deployer, oracle, fund, guardian):
    assert pool.owner() == deployer
    assert pool.oracle() == oracle
    assert pool.feeReceiver() == fund
    assert pool.guardian() == guardian
    assert pool.pendingOwner() == ZERO_ADDRESS


# Pausing


def test_the_owner_may_pause_and_unpause_a_reserve(pool, deployer, tokens):
    weth = tokens["WETH"]
    tx = pool.setReservePaused(weth, True, {"from": deployer})
    assert dict(tx.events["ReservePausedSet"]) == {
        "asset": weth.address,
        "paused": True,
        "by": deployer.address,
    }
    assert pool.getReserveData(weth).dict()["config"]["paused"] is True
    tx = pool.setReservePaused(weth, False, {"from": deployer})
    assert dict(tx.events["ReservePausedSet"]) == {
        "asset": weth.address,
        "paused": False,
        "by": deployer.address,
    }
    assert pool.getReserveData(weth).dict()["config"]["paused"] is False


def test_the_guardian_may_pause_but_only_the_owner_unpauses(pool, guardian, deployer, tokens):
    """v1 let the guardian lift a pause the owner set; v2: the guardian may pause, only the owner
    unpauses."""
    usdc = tokens["USDC"]
    tx = pool.setReservePaused(usdc, True, {"from": guardian})
    assert dict(tx.events["ReservePausedSet"]) == {
        "asset": usdc.address,
        "paused": True,
        "by": guardian.address,
    }
    assert pool.getReserveData(usdc).dict()["config"]["paused"] is True
    with brownie.reverts(f"OnlyOwnerCanUnpause: {guardian.address.lower()}"):
        pool.setReservePaused(usdc, False, {"from": guardian})
    pool.setReservePaused(usdc, False, {"from": deployer})
    assert pool.getReserveData(usdc).dict()["config"]["paused"] is False


def test_anyone_else_cannot_pause_a_reserve(pool, alice, tokens):
    with brownie.reverts(f"OnlyOwnerOrGuardian: {alice.address.lower()}"):
        pool.setReservePaused(tokens["WETH"], True, {"from": alice})


def test_pausing_an_unlisted_asset_reverts(pool, deployer, alice):
    with brownie.reverts(f"ReserveNotListed: {alice.address.lower()}"):
        pool.setReservePaused(alice, True, {"from": deployer})


def test_pausing_changes_only_the_paused_flag(pool, deployer, tokens):
    weth = tokens["WETH"]
    before = pool.getReserveData(weth).dict()["config"]
    pool.setReservePaused(weth, True, {"from": deployer})
    after = pool.getReserveData(weth).dict()["config"]
    assert after == {**before, "paused": True}


# Guardian and fee receiver


def test_the_owner_replaces_the_guardian_and_only_the_new_one_may_pause(
    pool, deployer, guardian, bob, tokens
):
    tx = pool.setGuardian(bob, {"from": deployer})
    assert dict(tx.events["GuardianUpdated"]) == {
        "previousGuardian": guardian.address,
        "newGuardian": bob.address,
    }
    assert pool.guardian() == bob
    pool.setReservePaused(tokens["WETH"], True, {"from": bob})
    with brownie.reverts(f"OnlyOwnerOrGuardian: {guardian.address.lower()}"):
        pool.setReservePaused(tokens["WETH"], False, {"from": guardian})


def test_only_the_owner_may_set_the_guardian(pool, guardian, bob):
    with brownie.reverts(f"OwnableUnauthorizedAccount: {guardian.address.lower()}"):
        pool.setGuardian(bob, {"from": guardian})


def test_the_owner_replaces_the_fee_receiver(pool, deployer, fund, bob):
    tx = pool.setFeeReceiver(bob, {"from": deployer})
    assert dict(tx.events["FeeReceiverUpdated"]) == {
        "previousReceiver": fund.address,
        "newReceiver": bob.address,
    }
    assert pool.feeReceiver() == bob


def test_the_fee_receiver_cannot_be_zero_or_set_by_others(pool, deployer, alice, bob):
    with brownie.reverts("ZeroAddress: "):
        pool.setFeeReceiver(ZERO_ADDRESS, {"from": deployer})
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        pool.setFeeReceiver(bob, {"from": alice})


# Ownable2Step


def test_ownership_moves_only_when_the_new_owner_accepts(pool, deployer, alice, bob, tokens):
    tx = pool.transferOwnership(alice, {"from": deployer})
    assert dict(tx.events["OwnershipTransferStarted"]) == {
        "previousOwner": deployer.address,
        "newOwner": alice.address,
    }
    assert pool.owner() == deployer
    assert pool.pendingOwner() == alice
    # The old owner keeps governing until the transfer is accepted.
    pool.setReservePaused(tokens["WETH"], True, {"from": deployer})

    with brownie.reverts(f"OwnableUnauthorizedAccount: {bob.address.lower()}"):
        pool.acceptOwnership({"from": bob})
    tx = pool.acceptOwnership({"from": alice})
    assert dict(tx.events["OwnershipTransferred"]) == {
        "previousOwner": deployer.address,
        "newOwner": alice.address,
    }
    assert pool.owner() == alice
    assert pool.pendingOwner() == ZERO_ADDRESS

    pool.setReservePaused(tokens["WETH"], False, {"from": alice})
    with brownie.reverts(f"OwnableUnauthorizedAccount: {deployer.address.lower()}"):
        pool.setGuardian(bob, {"from": deployer})


def test_only_the_owner_may_start_an_ownership_transfer(pool, alice):
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        pool.transferOwnership(alice, {"from": alice})


def test_a_new_transfer_replaces_the_pending_owner(pool, deployer, alice, bob):
    pool.transferOwnership(alice, {"from": deployer})
    pool.transferOwnership(bob, {"from": deployer})
    with brownie.reverts(f"OwnableUnauthorizedAccount: {alice.address.lower()}"):
        pool.acceptOwnership({"from": alice})
    pool.acceptOwnership({"from": bob})
    assert pool.owner() == bob
