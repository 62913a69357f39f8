"""The demo's own crash (scripts/market/scenario.py, as scripts/demo.py runs it: its borrower plan,
seeding, market-driven price path, `liqkeeper run --mode flash`, here with 1 s blocks) on a small
population: the keeper's records agree with the independent observer on every liquidation it made,
delays included, every liquidation's fill is recorded, no zombie appears, and the demo exits 1 with
one line when the records disagree."""

from __future__ import annotations

import logging

from scripts.demo import verdict, write_report
from scripts.market.scenario import ScenarioOptions, run_scenario


def test_the_demos_crash_is_recorded_as_the_observer_sees_it(tmp_path):
    result = run_scenario(ScenarioOptions(borrowers=40, seed=7, block_time=1, steps=20), tmp_path)
    summary = write_report(result, tmp_path)

    observed = summary["observer"]
    assert observed["records_mismatch"] == 0, observed["records_mismatch_examples"]
    assert observed["delay_mismatch"] == 0, observed["records_mismatch_examples"]
    assert observed["accounts_liquidated"] >= 5  # the comparison covered the crash's liquidations
    assert observed["still_liquidatable"] == 0
    assert observed["zombies_max"] == 0
    assert observed["fills_recorded_share"] == 1.0  # every liquidation went through a flash swap
    assert summary["debt_token_inventory_at_start_usd"] == 0.0
    assert verdict(summary, tmp_path) == 0


def test_the_demo_fails_with_one_line_when_the_records_disagree(tmp_path, caplog):
    summary = {"observer": {"records_mismatch": 2, "delay_mismatch": 1}}

    with caplog.at_level(logging.ERROR, logger="demo"):
        assert verdict(summary, tmp_path) == 1

    [line] = caplog.messages
    assert line.startswith(
        "the keeper's records disagree with the chain: 2 field(s) of its liquidations, 1 delay(s)"
    )
    assert str(tmp_path / "summary.json") in line
