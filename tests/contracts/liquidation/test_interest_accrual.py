"""Liquidation under live interest, protocol.md sections 2 and 5: `liquidate` prices the account
and computes every amount with the borrow indexes accrued to its own block (both reserves, and
every other reserve in the health factor), and `previewLiquidation` evaluated at that timestamp
returns the same numbers. The accrued index is checked against the rate model of
`tests/reference/protocol_math.py`."""

import pytest
from brownie import web3
from liquidation_helpers import MAX, cfg, liquidate_and_check, open_position

from tests.reference import protocol_math as pm

E18, E6 = 10**18, 10**6


def _rpc(method, params):
    response = web3.provider.make_request(method, params)
    assert "error" not in response, response
    return response.get("result")


def _stored(p, asset, block):
    """(index, lastUpdate, cash, totalDrawnShares, config) of `asset` at `block`, when its index was
    last stored (the view's index is the stored one at the block of the accrual)."""
    data = p.pool.getReserveData(asset, block_identifier=block)
    assert data[4] == web3.eth.get_block(block)["timestamp"]
    return data[3], data[4], data[5], data[7], data[0]


def _index_at(stored, timestamp):
    index, last_update, cash, drawn, c = stored
    rate = pm.borrow_rate_ray(c[6], c[7], c[8], c[9], cash, pm.ray_mul_down(drawn, index))
    return pm.accrue_index(index, rate, timestamp - last_update)


@pytest.fixture
def accruing(market, alice, carol):
    """DAI at 50% + slopes a year, WETH at 30% + slopes (carol borrows WETH so its supply share
    price grows too), USDC borrowed by alice as well; alice's HF falls below 1."""
    p = market
    p.supply(carol, "WBTC", 1_000 * 10**8)
    p.borrow(carol, "WETH", 20_000 * E18)
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 14_000 * E18, "USDC": 1_900 * E6})
    p.set_price("WETH", 1_900 * 10**8)
    blocks = {}
    for symbol, rates in (("DAI", (0, 104_00, 10_00, 50_00, 20_00, 300_00)),
                          ("WETH", (80_00, 105_00, 10_00, 30_00, 10_00, 100_00)),
                          ("USDC", (85_00, 104_00, 10_00, 40_00, 0, 0))):
        cf, bonus, fee, base, s1, s2 = rates
        tx = p.pool.updateReserveConfig(p.tokens[symbol], cfg(cf, bonus, fee, base_rate=base,
                                                              slope1=s1, slope2=s2),
                                        {"from": p.deployer})
        blocks[symbol] = tx.block_number
    return p, blocks


def test_liquidation_uses_indexes_accrued_to_its_block(accruing, alice, liquidator):
    p, blocks = accruing
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    stored = {s: _stored(p, p.tokens[s], b) for s, b in blocks.items()}
    when = web3.eth.get_block("latest")["timestamp"] + 2_000  # prices stay fresh (max age 1 h)
    expected_index = {s: _index_at(stored[s], when) for s in stored}
    assert expected_index["DAI"] > stored["DAI"][0] and expected_index["WETH"] > stored["WETH"][0]

    # Evaluate model and preview in a throw-away block at `when`...
    snapshot = _rpc("evm_snapshot", [])
    _rpc("evm_mine", [when])
    for symbol, index in expected_index.items():
        assert p.pool.getReserveData(p.tokens[symbol])[3] == index
    preview = tuple(p.pool.previewLiquidation(weth, dai, alice, MAX, {"from": liquidator}))
    _rpc("evm_revert", [snapshot])

    # ...then liquidate in a block at the same timestamp.
    _rpc("evm_setNextBlockTimestamp", [when])
    balance = dai.balanceOf(liquidator)
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    assert tx.timestamp == when
    event = tx.events["LiquidationCall"]
    assert (event["healthFactorBefore"], event["liquidationBonus"], event["debtRepaid"],
            event["collateralSeized"], event["protocolFee"]) == \
        (preview[0], preview[1], preview[2], preview[3], preview[5])
    assert balance - dai.balanceOf(liquidator) == preview[2]
    accrued = {str(e["asset"]): e["borrowIndex"] for e in tx.events["InterestAccrued"]}
    assert accrued == {str(weth): expected_index["WETH"], str(dai): expected_index["DAI"]}
    # Stored now: the model reads the same state as the chain at this block.
    assert p.pool.getReserveData(dai)[3] == expected_index["DAI"]


def test_model_matches_the_chain_after_interest_accrued(accruing, alice, liquidator):
    """Indexes stored by a poke in a block at `when`, then the liquidation in another block at the
    same timestamp: the model, reading the stored state, matches the chain to the wei."""
    p, _ = accruing
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    when = web3.eth.get_block("latest")["timestamp"] + 1_500
    for symbol in ("DAI", "WETH", "USDC"):
        c = p.pool.getReserveData(p.tokens[symbol])[0]
        _rpc("evm_setNextBlockTimestamp", [when])
        p.pool.updateReserveConfig(p.tokens[symbol], c, {"from": p.deployer})
    _rpc("evm_setNextBlockTimestamp", [when])
    tx, _ = liquidate_and_check(p, weth, dai, alice, MAX, liquidator)
    assert tx.timestamp == when
    assert "InterestAccrued" not in tx.events, "indexes were already stored at this timestamp"
