"""No rate model the pool accepts can brick a reserve (protocol.md v2 section 2). The borrow index
stops at `MAX_BORROW_INDEX` (1e36, a billion-fold growth) instead of overflowing its 128-bit field:
after 50 years at 100% utilisation under the largest rates a configuration may hold, repay, withdraw
and liquidate still work (v1: at 1,000% the index passed 2**128 in about 2.65 years and every call on
the reserve reverted)."""

import pytest
from brownie import chain

MAX = 2**256 - 1
MAX_BORROW_INDEX = 10**36
YEAR = 365 * 24 * 3600
U32 = 2**32 - 1


@pytest.fixture
def full_utilisation(protocol, alice, bob):
    """Bob supplies 1,000 USDC and Alice borrows all of it against WETH: 100% utilisation."""
    p = protocol
    p.supply(bob, "USDC", 1_000 * 10**6)
    p.supply(alice, "WETH", 100 * 10**18)
    p.pool.borrow(p.tokens["USDC"], 1_000 * 10**6, {"from": alice})
    return p


@pytest.fixture
def reconfigure_rates(protocol):
    def _set(base, slope1, slope2):
        token = protocol.tokens["USDC"]
        current = list(protocol.pool.getReserveData(token)[0])
        current[6:9] = [base, slope1, slope2]
        protocol.pool.updateReserveConfig(token, tuple(current), {"from": protocol.deployer})

    return _set


def accrue_for_years(p, years: int, accruals_per_year: int) -> None:
    """Time passes; the owner re-sets the USDC configuration (an update accrues interest first)
    `accruals_per_year` times a year, so the index compounds that often."""
    usdc = p.tokens["USDC"]
    config = tuple(p.pool.getReserveData(usdc)[0])
    for _ in range(years * accruals_per_year):
        chain.sleep(YEAR // accruals_per_year)
        p.pool.updateReserveConfig(usdc, config, {"from": p.deployer})
    p.refresh_prices()


@pytest.mark.parametrize(
    "rates,accruals_per_year",
    [((U32, U32, U32), 1), ((100_00, 0, 0), 4)],
    ids=["largest-rates-yearly", "100pct-quarterly"],
)
def test_fifty_years_at_full_utilisation_leave_the_reserve_working(
    full_utilisation, reconfigure_rates, alice, bob, carol, liquidator, rates, accruals_per_year
):
    p = full_utilisation
    usdc, weth = p.tokens["USDC"], p.tokens["WETH"]
    reconfigure_rates(*rates)
    accrue_for_years(p, 50, accruals_per_year)

    index = p.pool.getReserveData(usdc).dict()["borrowIndex"]
    assert index == MAX_BORROW_INDEX, "the index stops at its ceiling instead of overflowing"
    # Repay works (a partial repay: the debt is now astronomical).
    p.mint_and_approve(alice, "USDC", 10**12)
    assert p.pool.repay(usdc, 10**12, alice, {"from": alice}).return_value == 10**12
    # Withdraw works: Bob takes out what cash there is.
    assert p.pool.withdraw(usdc, 10**12, bob, {"from": bob}).return_value == 10**12
    # Liquidate works: Alice's WETH cannot cover the debt; all of it is seized and the rest written off.
    assert p.health_factor(alice) < 10**18
    p.mint_and_approve(liquidator, "USDC", 10**30)
    tx = p.pool.liquidate(weth, usdc, alice, MAX, False, {"from": liquidator})
    assert tx.events["LiquidationCall"]["collateralSeized"] == 100 * 10**18
    assert "DeficitReported" in tx.events
    # And the reserve keeps taking supplies.
    p.mint_and_approve(carol, "USDC", 10**6)
    assert p.pool.supply(usdc, 10**6, carol, {"from": carol}).return_value > 0
