"""Pausing without surprises (protocol.md v2 section 8). A routine configuration update keeps the
paused and frozen flags (v1 overwrote them, silently lifting an emergency pause); the flags have their
own owner setters. Interest keeps accruing on a paused reserve, so borrowers can repay there, and once
the owner unpauses, liquidations of that reserve wait a grace period the owner sets (Aave V3.1's
`liquidationGracePeriod`): v1 liquidated the moment the reserve unpaused."""

import brownie
import pytest
from brownie import chain

MAX = 2**256 - 1
DAY = 86_400


@pytest.fixture
def config_of(protocol):
    def _config(symbol):
        return protocol.pool.getReserveData(protocol.tokens[symbol]).dict()["config"]

    return _config


def test_a_config_update_keeps_the_paused_and_frozen_flags(protocol, guardian, deployer, config_of):
    p = protocol
    usdc = p.tokens["USDC"]
    p.pool.setReservePaused(usdc, True, {"from": guardian})
    p.pool.setReserveFrozen(usdc, True, {"from": deployer})
    routine = dict(config_of("USDC"), paused=False, frozen=False, baseRate=1_00)
    tx = p.pool.updateReserveConfig(usdc, tuple(routine.values()), {"from": deployer})
    after = config_of("USDC")
    assert after["paused"] is True and after["frozen"] is True
    assert after["baseRate"] == 1_00
    event_config = tx.events["ReserveConfigUpdated"]["config"]
    assert event_config["paused"] is True and event_config["frozen"] is True, "the event shows what is stored"


def test_only_the_owner_freezes(protocol, guardian, deployer, config_of):
    p = protocol
    usdc = p.tokens["USDC"]
    with brownie.reverts(f"OwnableUnauthorizedAccount: {guardian.address.lower()}"):
        p.pool.setReserveFrozen(usdc, True, {"from": guardian})
    tx = p.pool.setReserveFrozen(usdc, True, {"from": deployer})
    assert dict(tx.events["ReserveFrozenSet"]) == {"asset": usdc.address, "frozen": True}
    assert config_of("USDC")["frozen"] is True
    p.pool.setReserveFrozen(usdc, False, {"from": deployer})
    assert config_of("USDC")["frozen"] is False


def test_the_grace_period_is_owner_only_and_capped(protocol, guardian, deployer):
    pool = protocol.pool
    with brownie.reverts(f"OwnableUnauthorizedAccount: {guardian.address.lower()}"):
        pool.setLiquidationGracePeriod(DAY, {"from": guardian})
    cap = pool.MAX_LIQUIDATION_GRACE_PERIOD()
    assert cap == 7 * DAY
    with brownie.reverts(f"InvalidLiquidationGracePeriod: {cap + 1}"):
        pool.setLiquidationGracePeriod(cap + 1, {"from": deployer})
    tx = pool.setLiquidationGracePeriod(cap, {"from": deployer})
    assert tx.events["LiquidationGracePeriodUpdated"]["gracePeriod"] == cap
    assert pool.liquidationGracePeriod() == cap


@pytest.fixture
def borrower_at_1_067(protocol, alice, supplier, liquidator):
    """Alice: 10 WETH ($20,000) against 15,000 USDC at 20% a year: health factor 1.0667."""
    p = protocol
    usdc = p.tokens["USDC"]
    current = dict(p.pool.getReserveData(usdc).dict()["config"], baseRate=20_00)
    p.pool.updateReserveConfig(usdc, tuple(current.values()), {"from": p.deployer})
    p.supply(supplier, "USDC", 1_000_000 * 10**6)
    p.supply(alice, "WETH", 10 * 10**18)
    p.pool.borrow(usdc, 15_000 * 10**6, {"from": alice})
    p.mint_and_approve(liquidator, "USDC", 1_000_000 * 10**6)
    p.mint_and_approve(alice, "USDC", 100_000 * 10**6)
    return p


def pause_for_250_days_then_unpause(p, guardian, deployer, grace_period: int):
    """The guardian pauses USDC for 250 days (interest keeps accruing); the owner, having set the grace
    period, unpauses. Returns the unpause transaction."""
    usdc = p.tokens["USDC"]
    if grace_period:
        p.pool.setLiquidationGracePeriod(grace_period, {"from": deployer})
    p.pool.setReservePaused(usdc, True, {"from": guardian})
    chain.sleep(250 * DAY)
    p.refresh_prices()
    return p.pool.setReservePaused(usdc, False, {"from": deployer})


def test_a_paused_reserve_keeps_accruing_and_takes_repayments(borrower_at_1_067, alice, guardian):
    """The review's case: 250 days paused at 20% take the health factor from 1.067 to 0.938; the
    borrower can repay while paused."""
    p = borrower_at_1_067
    usdc = p.tokens["USDC"]
    assert 1_066 * 10**15 < p.health_factor(alice) < 1_067 * 10**15
    p.pool.setReservePaused(usdc, True, {"from": guardian})
    chain.sleep(250 * DAY)
    p.refresh_prices()
    assert 937 * 10**15 < p.health_factor(alice) < 939 * 10**15
    tx = p.pool.repay(usdc, 5_000 * 10**6, alice, {"from": alice})
    assert tx.events["Repay"]["assets"] == 5_000 * 10**6
    assert p.health_factor(alice) > 10**18


def test_liquidations_wait_out_the_grace_period_after_an_unpause(
    borrower_at_1_067, alice, guardian, deployer, liquidator
):
    p = borrower_at_1_067
    usdc, weth = p.tokens["USDC"], p.tokens["WETH"]
    tx = pause_for_250_days_then_unpause(p, guardian, deployer, DAY)
    until = tx.timestamp + DAY
    assert dict(tx.events["LiquidationGracePeriodStarted"]) == {"asset": usdc.address, "until": until}
    assert p.pool.getReserveData(usdc).dict()["liquidationGracePeriodUntil"] == until
    assert p.health_factor(alice) < 10**18
    message = f"LiquidationGracePeriodActive: {usdc.address.lower()}, {until}"
    with brownie.reverts(message):
        p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})
    with brownie.reverts(message):
        p.pool.previewLiquidation(weth, usdc, alice, MAX, {"from": liquidator})

    chain.sleep(DAY)
    p.refresh_prices()
    tx = p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})
    assert tx.events["LiquidationCall"]["debtRepaid"] > 0


def test_the_borrower_can_use_the_grace_period_to_repay(
    borrower_at_1_067, alice, guardian, deployer, liquidator
):
    p = borrower_at_1_067
    usdc, weth = p.tokens["USDC"], p.tokens["WETH"]
    pause_for_250_days_then_unpause(p, guardian, deployer, DAY)
    p.pool.repay(usdc, 5_000 * 10**6, alice, {"from": alice})
    chain.sleep(DAY)
    p.refresh_prices()
    with brownie.reverts(revert_pattern=r"HealthFactorNotBelowThreshold: .*"):
        p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})


def test_without_a_grace_period_an_unpause_reopens_liquidations_at_once(
    borrower_at_1_067, alice, guardian, deployer, liquidator
):
    p = borrower_at_1_067
    usdc, weth = p.tokens["USDC"], p.tokens["WETH"]
    tx = pause_for_250_days_then_unpause(p, guardian, deployer, 0)
    assert "LiquidationGracePeriodStarted" not in tx.events
    p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})
