"""A paused reserve blocks deficit settlement and cover (ILendingPool.setReservePaused), and keeps a
deficit a liquidation writes off on it recorded until it is unpaused (section 6, v2).

Found while writing the stateful model: `settleDeficit` (burns the insurance fund's shares,
socialises the rest) and `coverDeficit` (pulls the underlying in) both ran on a paused reserve in
the pool as committed (d20bab9). The working tree now checks the pause in both; these tests keep
it so.
"""

import brownie
import pytest

MAX = 2**256 - 1


@pytest.fixture
def deficit_on_usdc(protocol, supplier, alice, liquidator):
    """Alice's only collateral (1 WETH) is seized whole for her DAI debt while USDC, her other debt, is
    paused: the USDC debt is written off and, the reserve being paused, stays recorded as deficit."""
    p = protocol
    p.supply(supplier, "USDC", 1_000_000 * 10**6)
    p.supply(supplier, "DAI", 1_000_000 * 10**18)
    p.supply(alice, "WETH", 10**18)
    p.borrow(alice, "DAI", 1_500 * 10**18)
    p.borrow(alice, "USDC", 100 * 10**6)
    p.set_price("WETH", 1_000 * 10**8)
    p.mint_and_approve(liquidator, "DAI", 10_000 * 10**18)
    usdc = p.tokens["USDC"]
    p.pool.setReservePaused(usdc, True, {"from": p.guardian})
    tx = p.pool.liquidate(p.tokens["WETH"], p.tokens["DAI"], alice, MAX, False, {"from": liquidator})
    assert "DeficitReported" in tx.events
    assert p.pool.deficit(usdc) == 100 * 10**6
    return p


def test_a_paused_reserve_blocks_settle_deficit(deficit_on_usdc, bob):
    p = deficit_on_usdc
    usdc = p.tokens["USDC"]
    with brownie.reverts(f"ReservePaused: {usdc.address.lower()}"):
        p.pool.settleDeficit(usdc, {"from": bob})


def test_a_paused_reserve_blocks_cover_deficit(deficit_on_usdc, bob):
    p = deficit_on_usdc
    usdc = p.tokens["USDC"]
    p.mint_and_approve(bob, "USDC", 10_000 * 10**6)
    with brownie.reverts(f"ReservePaused: {usdc.address.lower()}"):
        p.pool.coverDeficit(usdc, 10 * 10**6, {"from": bob})


def test_settlement_works_again_once_unpaused(deficit_on_usdc, bob):
    p = deficit_on_usdc
    usdc = p.tokens["USDC"]
    p.pool.setReservePaused(usdc, False, {"from": p.deployer})
    p.pool.settleDeficit(usdc, {"from": bob})
    assert p.pool.deficit(usdc) == 0
