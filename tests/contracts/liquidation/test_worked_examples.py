"""The worked examples of protocol.md section 10, to the wei."""

import brownie
import pytest

MAX = 2**256 - 1


@pytest.fixture
def spec_setup(protocol, supplier, alice, liquidator):
    """WETH at $2,000 with CF 80%, max bonus 105%, fee 10%; DAI at $1; fresh zero-rate reserves."""
    p = protocol
    p.pool.updateReserveConfig(p.tokens["DAI"], (0, 104_00, 10_00, True, False, False, 0, 0, 0, 80_00, 0),
                               {"from": p.deployer})
    p.supply(supplier, "DAI", 1_000_000 * 10**18)
    p.supply(alice, "WETH", 10 * 10**18)
    p.mint_and_approve(liquidator, "DAI", 1_000_000 * 10**18)
    return p


def test_liquidation_to_target_matches_the_worked_example(spec_setup, alice, liquidator, fund):
    p = spec_setup
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.borrow(alice, "DAI", 16_000 * 10**18)
    # 16,100 DAI of debt: borrow the last 100 after the price makes room, then restore the price.
    p.set_price("WETH", 2100 * 10**8)
    p.borrow(alice, "DAI", 100 * 10**18)
    p.set_price("WETH", 2000 * 10**8)

    assert p.health_factor(alice) == 993788819875776397
    assert p.pool.getLiquidationBonus(weth, 993788819875776397) == 10108
    preview = p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator})
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    event = tx.events["LiquidationCall"]
    assert event["debtRepaid"] == 3749585681140205536543
    assert event["collateralSeized"] == 1895040603248259878
    assert event["protocolFee"] == 2024776267815711
    assert event["liquidationBonus"] == 10108
    assert weth.balanceOf(liquidator) == 1893015826980444167
    assert p.pool.getUserShares(fund, weth)[0] == 2024776267815711
    assert p.health_factor(alice) == 1050000000000000000
    assert tuple(preview) == (993788819875776397, 10108, 3749585681140205536543, 1895040603248259878,
                              1893015826980444167, 2024776267815711, False)


def test_debt_dust_forces_full_repayment_in_the_worked_example(spec_setup, alice, liquidator):
    p = spec_setup
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.withdraw(weth, 9 * 10**18, alice, {"from": alice})
    p.borrow(alice, "DAI", 1300 * 10**18)
    p.set_price("WETH", 1600 * 10**8)
    assert p.health_factor(alice) == 984615384615384615
    with brownie.reverts("MustNotLeaveDust: "):
        p.pool.liquidate(weth, dai, alice, 1299 * 10**18, False, {"from": liquidator})
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    event = tx.events["LiquidationCall"]
    assert event["liquidationBonus"] == 10120
    assert event["debtRepaid"] == 1300 * 10**18
    assert event["collateralSeized"] == 822250000000000000
    assert event["protocolFee"] == 975000000000000
