"""The Slither gate (tools/slither_baseline.py): findings are matched by check and elements without
line numbers; a new or untriaged high/medium finding, or an unlisted unanalysed function, fails."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import slither_baseline as sb  # noqa: E402


def function_element(contract: str, signature: str, file: str, lines: list[int]) -> dict:
    return {
        "type": "function",
        "name": signature.split("(")[0],
        "source_mapping": {"filename_relative": file, "lines": lines},
        "type_specific_fields": {"parent": {"type": "contract", "name": contract}, "signature": signature},
    }


def node_element(function: dict, code: str, line: int) -> dict:
    return {
        "type": "node",
        "name": code,
        "source_mapping": {"filename_relative": function["source_mapping"]["filename_relative"],
                           "lines": [line]},
        "type_specific_fields": {"parent": function},
    }


def result(check: str, impact: str, elements: list[dict], line: int = 10) -> dict:
    return {
        "check": check,
        "impact": impact,
        "confidence": "Medium",
        "description": f"{check} in X (contracts/X.sol#{line}-{line + 5})\nmore",
        "elements": elements,
    }


GET_PRICE = function_element("PriceOracle", "getPrice(address)", "contracts/oracle/PriceOracle.sol", [70, 71])
UNUSED_RETURN = result(
    "unused-return", "Medium", [GET_PRICE, node_element(GET_PRICE, "feed.latestRoundData()", 72)]
)
TIMESTAMP = result("timestamp", "Low", [GET_PRICE])


def slither_output(*results: dict) -> dict:
    return {"success": True, "error": None, "results": {"detectors": list(results)}}


def triaged(*results: dict, verdict: str = "accepted") -> sb.Baseline:
    findings = sb.findings_from_slither(slither_output(*results))
    return sb.Baseline([sb.Triaged(f, verdict, "reason") for f in findings])


def moved(res: dict, offset: int) -> dict:
    """The same finding with every line number shifted."""
    shifted = copy.deepcopy(res)
    shifted["description"] = shifted["description"].replace("#10-15", f"#{10 + offset}-{15 + offset}")
    for element in shifted["elements"]:
        element["source_mapping"]["lines"] = [n + offset for n in element["source_mapping"]["lines"]]
    return shifted


def test_a_finding_that_moved_lines_is_the_same_finding():
    baseline = triaged(UNUSED_RETURN)
    comparison = sb.compare(sb.findings_from_slither(slither_output(moved(UNUSED_RETURN, 40))), baseline)
    assert not comparison.failed and not comparison.new and not comparison.gone


def test_the_summary_drops_line_numbers():
    (finding,) = sb.findings_from_slither(slither_output(UNUSED_RETURN))
    assert finding.summary == "unused-return in X (contracts/X.sol)"
    assert finding.elements == (
        "function PriceOracle.getPrice(address) (contracts/oracle/PriceOracle.sol)",
        "node PriceOracle.getPrice(address): feed.latestRoundData() (contracts/oracle/PriceOracle.sol)",
    )


def test_a_medium_finding_on_changed_code_is_new_and_fails():
    changed = copy.deepcopy(UNUSED_RETURN)
    changed["elements"][1]["name"] = "other.latestRoundData()"
    comparison = sb.compare(sb.findings_from_slither(slither_output(changed)), triaged(UNUSED_RETURN))
    assert [f.check for f in comparison.failures] == ["unused-return"]
    assert [t.finding.check for t in comparison.gone] == ["unused-return"]


@pytest.mark.parametrize(
    "impact,fails", [("High", True), ("Medium", True), ("Low", False), ("Informational", False)]
)
def test_only_a_new_high_or_medium_finding_fails(impact, fails):
    new = result("some-check", impact, [GET_PRICE])
    comparison = sb.compare(sb.findings_from_slither(slither_output(new)), sb.Baseline())
    assert len(comparison.new) == 1
    assert comparison.failed is fails


def test_a_high_or_medium_finding_left_todo_fails():
    baseline = triaged(UNUSED_RETURN, TIMESTAMP, verdict=sb.UNTRIAGED)
    comparison = sb.compare(sb.findings_from_slither(slither_output(UNUSED_RETURN, TIMESTAMP)), baseline)
    assert [f.check for f in comparison.failures] == ["unused-return"]


def test_a_second_identical_finding_is_new():
    comparison = sb.compare(sb.findings_from_slither(slither_output(UNUSED_RETURN, UNUSED_RETURN)),
                            triaged(UNUSED_RETURN))
    assert len(comparison.new) == 1 and comparison.failed


def test_an_unanalysed_function_fails_until_listed_with_a_reason():
    log = ("Impossible to generate IR for LendingPool.supply (contracts/LendingPool.sol#164-194):\n"
           " 'NoneType' object has no attribute 'parameters'\n")
    unanalysed = sb.unanalysed_from_log(log)
    assert unanalysed == ["LendingPool.supply (contracts/LendingPool.sol)"]
    assert sb.compare([], sb.Baseline(), unanalysed).new_unanalysed == unanalysed
    todo = sb.Baseline(unanalysed=[sb.Unanalysed(unanalysed[0], sb.UNTRIAGED)])
    assert sb.compare([], todo, unanalysed).failed
    listed = sb.Baseline(unanalysed=[sb.Unanalysed(unanalysed[0], "a reason")])
    assert not sb.compare([], listed, unanalysed).failed


def test_update_keeps_verdicts_adds_todo_and_drops_what_is_gone(tmp_path):
    gone = result("gone-check", "Medium", [GET_PRICE])
    baseline = triaged(UNUSED_RETURN, gone)
    current = sb.findings_from_slither(slither_output(moved(UNUSED_RETURN, 3), TIMESTAMP))
    new = sb.updated(current, baseline, ["A.f (contracts/A.sol)"])
    assert [(t.finding.check, t.verdict) for t in new.findings] == [
        ("unused-return", "accepted"),
        ("timestamp", sb.UNTRIAGED),
    ]
    assert new.unanalysed == [sb.Unanalysed("A.f (contracts/A.sol)", sb.UNTRIAGED)]
    path = tmp_path / "baseline.json"
    path.write_text(sb.dump(new, "0.11.6"))
    assert sb.load(path) == new


def test_a_baseline_with_an_unknown_verdict_is_refused(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(sb.dump(triaged(TIMESTAMP), "0.11.6").replace('"accepted"', '"fine"'))
    with pytest.raises(sb.BaselineError, match="verdict 'fine' of timestamp"):
        sb.load(path)


def test_the_committed_baseline_has_a_verdict_and_a_reason_for_everything():
    """`make audit`'s promise: every finding in audit/slither-baseline.json is triaged."""
    path = ROOT / "audit" / "slither-baseline.json"
    baseline = sb.load(path)
    assert baseline.findings, "the baseline lists Slither's findings"
    untriaged = [t.finding.summary for t in baseline.findings if t.verdict == sb.UNTRIAGED or not t.reason]
    untriaged += [u.function for u in baseline.unanalysed if u.reason in (sb.UNTRIAGED, "")]
    assert not untriaged, f"triage these in {path.name}: {untriaged}"
    assert json.loads(path.read_text())["slither"]
