"""No escape from a reported loss (protocol.md v2 section 6): from the transaction that reports a deficit
the loss is in the share price, so two equal suppliers end equal whoever withdraws first. (Its own
module: the fixtures of the other deficit tests bring deep DAI liquidity that would dilute the loss.)"""

from liquidation_helpers import MAX, open_position

E18 = 10**18


def test_two_equal_suppliers_end_equal_whoever_withdraws_first(protocol, alice, bob, carol, liquidator):
    """The review's case: Bob and Carol supply 10,000 DAI each, Alice's 10 WETH cannot cover her
    16,000 DAI at WETH $1,000 and ~6,476 DAI is written off. Bob withdraws everything right after the
    liquidation: he and Carol get the same (v1: Bob took 10,000 before settleDeficit and Carol was left
    with 3,523.81)."""
    p = protocol
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    p.supply(bob, "DAI", 10_000 * E18)
    p.supply(carol, "DAI", 10_000 * E18)
    open_position(p, alice, {"WETH": 10 * E18}, {"DAI": 16_000 * E18}, prices={"WETH": 1_000 * 10**8})
    p.mint_and_approve(liquidator, "DAI", 20_000 * E18)
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    written_off = tx.events["DeficitReported"][0]["amount"]
    assert 6_476 * E18 < written_off < 6_477 * E18
    assert tx.events["DeficitSocialized"][0]["amount"] == written_off

    bob_gets = p.pool.withdraw(dai, MAX, bob, {"from": bob}).return_value
    carol_has = p.pool.getUserPosition(carol, dai)[0]
    # Equal to the share rounding of the virtual offset (1e6 units), not to the 6,476 DAI loss.
    assert abs(bob_gets - carol_has) <= 10**6
    # Together they claim what is left, to within the virtual offset too (below a share price of 1 the
    # virtual assets are worth a little more than the virtual shares they stand for).
    assert bob_gets < 6_762 * E18 and 2 * bob_gets <= 20_000 * E18 - written_off + 10**6
