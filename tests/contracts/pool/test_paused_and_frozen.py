"""A paused reserve blocks withdraw, borrow and disabling collateral but still takes repayments,
supplies and enabling collateral (protocol.md v2 section 8: interest keeps accruing while paused, so
borrowers must be able to repay and top up); a frozen reserve blocks new exposure (supply, borrow,
enabling collateral) but lets users leave (withdraw, repay, disabling collateral)."""

import brownie
import pytest

MAX = 2**256 - 1


@pytest.fixture(scope="module")
def positions(liquidity, alice):
    """Alice supplies WETH and USDC and borrows 1,000 USDC; she holds tokens for every operation."""
    p = liquidity
    p.supply(alice, "WETH", 10 * 10**18)
    p.supply(alice, "USDC", 1000 * 10**6)
    p.borrow(alice, "USDC", 1000 * 10**6)
    p.mint_and_approve(alice, "USDC", 10_000 * 10**6)
    p.mint_and_approve(alice, "WETH", 10 * 10**18)
    return p


#: name -> call(pool, token, user) on the USDC reserve. Each succeeds on an active reserve.
OPERATIONS = {
    "supply": lambda pool, token, user: pool.supply(token, 10**6, user, {"from": user}),
    "withdraw": lambda pool, token, user: pool.withdraw(token, 10**6, user, {"from": user}),
    "borrow": lambda pool, token, user: pool.borrow(token, 10**6, {"from": user}),
    "repay": lambda pool, token, user: pool.repay(token, 10**6, user, {"from": user}),
    "disable_collateral": lambda pool, token, user: pool.setUsingAsCollateral(
        token, False, {"from": user}
    ),
    "enable_collateral": lambda pool, token, user: pool.setUsingAsCollateral(
        token, True, {"from": user}
    ),
}
BLOCKED_WHEN_FROZEN = {"supply", "borrow", "enable_collateral"}
BLOCKED_WHEN_PAUSED = {"withdraw", "borrow", "disable_collateral"}


def prepare(pool, usdc, user, name):
    """enable_collateral needs the flag off first."""
    if name == "enable_collateral":
        pool.setUsingAsCollateral(usdc, False, {"from": user})


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_succeeds_on_an_active_reserve(positions, alice, name):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    prepare(pool, usdc, alice, name)
    tx = OPERATIONS[name](pool, usdc, alice)
    assert tx.status == 1


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_paused_reserve_blocks_what_takes_value_out_and_takes_what_puts_it_in(
    positions, alice, guardian, name
):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    prepare(pool, usdc, alice, name)
    pool.setReservePaused(usdc, True, {"from": guardian})
    if name in BLOCKED_WHEN_PAUSED:
        with brownie.reverts(f"ReservePaused: {usdc.address.lower()}"):
            OPERATIONS[name](pool, usdc, alice)
    else:
        assert OPERATIONS[name](pool, usdc, alice).status == 1


def test_a_paused_reserve_blocks_max_withdraw_and_takes_a_max_repay(positions, alice, deployer):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    pool.setReservePaused(usdc, True, {"from": deployer})
    with brownie.reverts(f"ReservePaused: {usdc.address.lower()}"):
        pool.withdraw(usdc, MAX, alice, {"from": alice})
    assert pool.repay(usdc, MAX, alice, {"from": alice}).return_value == 1000 * 10**6


def test_unpausing_restores_the_operations(positions, alice, guardian, deployer):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    pool.setReservePaused(usdc, True, {"from": guardian})
    pool.setReservePaused(usdc, False, {"from": deployer})
    pool.repay(usdc, MAX, alice, {"from": alice})
    pool.withdraw(usdc, MAX, alice, {"from": alice})
    assert tuple(pool.getUserShares(alice, usdc)) == (0, 0)


def test_pausing_one_reserve_leaves_the_others_usable(positions, alice, guardian):
    pool, usdc, weth = positions.pool, positions.tokens["USDC"], positions.tokens["WETH"]
    pool.setReservePaused(usdc, True, {"from": guardian})
    pool.supply(weth, 10**18, alice, {"from": alice})
    pool.withdraw(weth, 10**18, alice, {"from": alice})
    pool.borrow(positions.tokens["DAI"], 10**18, {"from": alice})


@pytest.mark.parametrize("name", OPERATIONS)
def test_a_frozen_reserve_blocks_supply_borrow_and_enabling_collateral_only(
    positions, alice, reconfigure, name
):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    prepare(pool, usdc, alice, name)
    reconfigure("USDC", frozen=True)
    if name in BLOCKED_WHEN_FROZEN:
        with brownie.reverts(f"ReserveFrozen: {usdc.address.lower()}"):
            OPERATIONS[name](pool, usdc, alice)
    else:
        assert OPERATIONS[name](pool, usdc, alice).status == 1


def test_a_frozen_reserve_can_be_left_entirely(positions, alice, reconfigure):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    reconfigure("USDC", frozen=True)
    assert pool.repay(usdc, MAX, alice, {"from": alice}).return_value == 1000 * 10**6
    assert pool.withdraw(usdc, MAX, alice, {"from": alice}).return_value == 1000 * 10**6
    assert tuple(pool.getUserShares(alice, usdc)) == (0, 0)


def test_a_paused_and_frozen_reserve_reports_paused_first(positions, alice, reconfigure):
    pool, usdc = positions.pool, positions.tokens["USDC"]
    reconfigure("USDC", frozen=True, paused=True)
    with brownie.reverts(f"ReservePaused: {usdc.address.lower()}"):
        pool.borrow(usdc, 10**6, {"from": alice})
