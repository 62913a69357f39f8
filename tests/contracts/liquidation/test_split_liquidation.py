"""Split liquidations below LB * CF (issue 14, item 8), measured. Below the health factor at which a
liquidation stops raising it (here WETH: LB 105% * CF 80% = 0.84), every call lowers the health factor
and so raises the next call's bonus: many small calls seize more than one maximal call and leave more
bad debt. The protocol accepts it (ILendingPool.liquidate's NatSpec says why: the bonus never passes
maxLiquidationBonus, and refusing partial calls there would contradict protocol.md section 5's allowed
end states). Above that line splitting earns nothing: the bonus falls with every call."""

import brownie
from liquidation_helpers import MAX, open_position, reserve_state

E18 = 10**18


def _liquidate_in_calls(p, user, chunk, liquidator) -> tuple[int, int, int, int]:
    """Liquidates `user` (WETH collateral, DAI debt) in calls of `chunk` DAI (max when the dust rule
    requires the rest at once); (calls, liquidator profit, bonus paid, bad debt), values with $1 = 1e26."""
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    r_weth = reserve_state(p, weth)
    calls = profit = bonus = bad_debt = 0
    while p.health_factor(user) < E18 and p.pool.getUserShares(user, weth)[0] > 0:
        try:
            tx = p.pool.liquidate(weth, dai, user, chunk, False, {"from": liquidator})
        except brownie.exceptions.VirtualMachineError as error:
            assert error.revert_msg == "MustNotLeaveDust: ", error.revert_msg
            tx = p.pool.liquidate(weth, dai, user, MAX, False, {"from": liquidator})
        calls += 1
        event = tx.events["LiquidationCall"]
        received = (event["collateralSeized"] - event["protocolFee"]) * r_weth.price
        paid = event["debtRepaid"] * 10**8
        profit += received - paid
        bonus += event["collateralSeized"] * r_weth.price - paid
        if "DeficitReported" in tx.events:
            bad_debt += sum(e["amount"] for e in tx.events["DeficitReported"]) * 10**8
    return calls, profit, bonus, bad_debt


def test_below_lb_times_cf_many_small_calls_seize_more_than_one(market, alice, bob, liquidator):
    """The review's case: two identical accounts (100 WETH, 159,000 DAI, HF 0.755 at WETH $1,500)."""
    p = market
    for user in (alice, bob):
        open_position(p, user, {"WETH": 100 * E18}, {"DAI": 159_000 * E18}, prices={"WETH": 1_500 * 10**8})
    assert 754 * 10**15 < p.health_factor(alice) < 755 * 10**15
    one = _liquidate_in_calls(p, alice, MAX, liquidator)
    split = _liquidate_in_calls(p, bob, 5_000 * E18, liquidator)
    print(
        f"\nbelow LB*CF: one call: profit ${one[1] / 1e26:,.2f}, bad debt ${one[3] / 1e26:,.2f}; "
        f"{split[0]} calls of 5,000 DAI: profit ${split[1] / 1e26:,.2f}, bad debt ${split[3] / 1e26:,.2f}"
    )
    assert one[0] == 1 and split[0] > 20
    assert split[1] > one[1], "splitting earns the liquidator more"
    assert split[3] > one[3], "and leaves more bad debt"


def test_above_lb_times_cf_splitting_earns_nothing_more(market, alice, bob, liquidator):
    """HF 0.95: each partial call raises the health factor and lowers the next bonus, so the split
    liquidation pays at most what one call to the target pays, for the same debt."""
    p = market
    for user in (alice, bob):
        open_position(p, user, {"WETH": 100 * E18}, {"DAI": 126_000 * E18}, prices={"WETH": 1_500 * 10**8})
    assert 952 * 10**15 < p.health_factor(alice) < 953 * 10**15
    weth, dai = p.tokens["WETH"], p.tokens["DAI"]
    tx = p.pool.liquidate(weth, dai, alice, MAX, False, {"from": liquidator})
    repaid = tx.events["LiquidationCall"]["debtRepaid"]
    one_bonus = tx.events["LiquidationCall"]["collateralSeized"] * 1_500 * 10**8 - repaid * 10**8
    r = reserve_state(p, weth)
    split_bonus = 0
    left = repaid
    while left > 0 and p.health_factor(bob) < E18:
        tx = p.pool.liquidate(weth, dai, bob, min(5_000 * E18, left), False, {"from": liquidator})
        event = tx.events["LiquidationCall"]
        left -= event["debtRepaid"]
        split_bonus += event["collateralSeized"] * r.price - event["debtRepaid"] * 10**8
    print(f"\nabove LB*CF: one call bonus ${one_bonus / 1e26:,.2f}, split bonus ${split_bonus / 1e26:,.2f}")
    assert split_bonus <= one_bonus
