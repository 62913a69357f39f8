"""Every liqkeeper metric the alerting rules use is one the keeper exports (keeper/metrics.py), so a
renamed metric cannot leave an alert that never fires. The rules' behaviour is unit-tested by
promtool (liqkeeper.test.yml)."""

from __future__ import annotations

import re
from importlib import resources

from keeper.metrics import Metrics

SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def exported_series() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


def test_the_rules_use_only_metrics_the_keeper_exports():
    rules = resources.files("keeper").joinpath("alerts", "liqkeeper.rules.yml").read_text()
    used = set(re.findall(r"\bliqkeeper_[a-z_]+\b", rules))

    assert used, "the rules name no liqkeeper metric"
    assert used - exported_series() == set()
