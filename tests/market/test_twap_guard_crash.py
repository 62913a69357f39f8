"""The market-driven crash with the TWAP guard (`ScenarioOptions(twap_guard=True)`): a 5-minute TWAP of
the WETH/USDC and WBTC/USDC pools as the oracle's secondary feeds, bound 20%. The crash (40% in 4
blocks of 2 s) outruns the TWAP, so the breaker holds WETH and WBTC prices for most of it; the run must
still finish settled, with the keeper's records agreeing with the observer's reading of the chain
(the liquidations that land in a block whose end the breaker holds included) and no zombie account."""

from __future__ import annotations

from keeper.maths import UNREADABLE_HEALTH_FACTOR
from scripts.market.scenario import ScenarioOptions, run_scenario

WAD = 10**18


def test_a_guarded_crash_is_held_by_the_breaker_then_settles_with_the_records_agreeing(tmp_path):
    result = run_scenario(ScenarioOptions(borrowers=30, seed=7, steps=16, twap_guard=True), tmp_path)

    observation = result.observation
    assert observation.unreadable > 0, "the breaker held WETH or WBTC prices during the crash"
    assert observation.liquidations, "the keeper liquidated once the prices answered"
    assert result.mismatches == []
    assert result.delay_mismatches == []
    assert observation.still_liquidatable == []
    assert max(observation.zombies.values(), default=0) == 0
    after = result.health_after.values()
    assert all(hf >= WAD and hf != UNREADABLE_HEALTH_FACTOR for hf in after), "settled and priced at the end"
