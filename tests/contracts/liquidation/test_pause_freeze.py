"""Paused and frozen reserves, protocol.md sections 2 and 8: a paused collateral or debt reserve
blocks liquidation (`ReservePaused`), a frozen one does not (freezing only stops new supply,
borrowing and received shares)."""

import brownie
import pytest
from liquidation_helpers import MAX, liquidate_and_check, open_position, set_config

E18 = 10**18


@pytest.fixture
def unhealthy(market, alice):
    open_position(market, alice, {"WETH": 10 * E18}, {"DAI": 16_100 * E18})
    return market


@pytest.mark.parametrize("symbol", ["WETH", "DAI"])
def test_paused_reserve_blocks_liquidation(unhealthy, alice, liquidator, guardian, symbol):
    p = unhealthy
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.pool.setReservePaused(p.tokens[symbol], True, {"from": guardian})
    message = f"ReservePaused: {p.tokens[symbol].address.lower()}"
    with brownie.reverts(message):
        p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    with brownie.reverts(message):
        p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator})


@pytest.mark.parametrize("symbol", ["WETH", "DAI"])
def test_unpausing_restores_liquidation(unhealthy, alice, liquidator, guardian, symbol):
    p = unhealthy
    p.pool.setReservePaused(p.tokens[symbol], True, {"from": guardian})
    p.pool.setReservePaused(p.tokens[symbol], False, {"from": p.deployer})
    tx, _ = liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 3749585681140205536543


@pytest.mark.parametrize("symbols", [("WETH",), ("DAI",), ("WETH", "DAI")])
def test_frozen_reserve_does_not_block_liquidation(unhealthy, alice, liquidator, symbols):
    p = unhealthy
    for symbol in symbols:
        if symbol == "DAI":
            set_config(p, "DAI", collateral_factor=0, max_bonus=104_00, frozen=True)
        else:
            set_config(p, symbol, frozen=True)
    tx, _ = liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
    assert tx.events["LiquidationCall"]["debtRepaid"] == 3749585681140205536543
    assert tx.events["LiquidationCall"]["collateralSeized"] == 1895040603248259878


def test_paused_wins_over_frozen(unhealthy, alice, liquidator, guardian):
    p = unhealthy
    weth = p.tokens["WETH"]
    set_config(p, "WETH", frozen=True)
    p.pool.setReservePaused(weth, True, {"from": guardian})
    with brownie.reverts(f"ReservePaused: {weth.address.lower()}"):
        p.pool.liquidate(weth, p.tokens["DAI"], alice, MAX, False, {"from": liquidator})


def test_pausing_an_unrelated_reserve_does_not_block_liquidation(unhealthy, alice, liquidator,
                                                                 guardian):
    p = unhealthy
    p.pool.setReservePaused(p.tokens["WBTC"], True, {"from": guardian})
    liquidate_and_check(p, p.tokens["WETH"], p.tokens["DAI"], alice, MAX, liquidator)
