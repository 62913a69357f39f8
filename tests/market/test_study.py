"""A small execution-quality study (scripts/study.py): the same seeded market-driven crash replayed on
two fresh chains, the keeper dumping each liquidation and throttling it. Its summary holds the keys
outside checks read for every run, and its invariants: no zombie account at any block, every
liquidation's fill recorded from the chain, the keeper's records agreeing with the observer."""

from __future__ import annotations

import json

from scripts.market.scenario import ScenarioOptions
from scripts.study import RUN_KEYS, STUDY_MARKET, STUDY_SHAPE, VARIANTS, run_study


def test_a_small_study_keeps_its_invariants_in_every_run(tmp_path):
    variants = tuple(v for v in VARIANTS if v.name in ("dump", "throttle_25"))
    base = ScenarioOptions(
        borrowers=30, seed=11, block_time=1, steps=16, shape=STUDY_SHAPE, market=STUDY_MARKET
    )

    summary = run_study(base, variants, tmp_path)

    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert set(summary["runs"]) == {"dump", "throttle_25"}
    for name, run in summary["runs"].items():
        assert set(RUN_KEYS) <= set(run), name
        assert run["liquidations"] > 0, f"{name}: the crash liquidated nobody"
        assert run["zombies_max"] == 0, name
        assert run["fills_recorded_share"] == 1.0, f"{name}: a liquidation without its fill"
        assert (run["records_mismatch"], run["delay_mismatch"]) == (0, 0), name
        assert run["still_liquidatable"] == 0, name
    for chart in ("fill_vs_trigger.png", "insurance_fund.png", "strategies.png", "price_path_dump.png"):
        assert (tmp_path / chart).stat().st_size > 0
