"""Slither findings compared with the triaged baseline (audit/slither-baseline.json).

A finding is identified by its detector (`check`) and its elements, each named by kind, qualified
name and file, without line numbers: moving code does not make a finding new, changing the code a
finding points at does. The gate fails on a high or medium finding that is not in the baseline, or
that is in it with the verdict still `TODO`, and on a function Slither could not analyse ("Impossible
to generate IR") that the baseline does not list: no detector sees inside such a function.
`tools/slither_audit.py` runs Slither and calls this.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Impacts that fail the gate when a finding of that impact is new or untriaged.
GATING_IMPACTS = frozenset({"High", "Medium"})
#: Slither's impacts, most severe first.
IMPACTS = ("High", "Medium", "Low", "Informational", "Optimization")
#: The verdict `--update` gives a finding nobody has triaged yet.
UNTRIAGED = "TODO"
VERDICTS = frozenset({"false positive", "accepted", UNTRIAGED})

_LINES = re.compile(r"#\d+(?:-\d+)?")
_NO_IR = re.compile(r"Impossible to generate IR for (\S+) \(([^#)]+)")


class BaselineError(Exception):
    """A baseline file that cannot be read; the message is one readable line."""


@dataclass(frozen=True)
class Finding:
    """One Slither result, identified without line numbers."""

    check: str
    impact: str
    confidence: str
    elements: tuple[str, ...]
    summary: str

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.check, self.elements

    @property
    def gating(self) -> bool:
        return self.impact in GATING_IMPACTS


@dataclass(frozen=True)
class Triaged:
    """A baseline entry: a finding and what a reviewer decided about it."""

    finding: Finding
    verdict: str
    reason: str


@dataclass(frozen=True)
class Unanalysed:
    """A function Slither could not translate to its IR, and why that is accepted."""

    function: str
    reason: str


@dataclass
class Baseline:
    """The committed triage: findings with verdicts, and the functions Slither cannot analyse."""

    findings: list[Triaged] = field(default_factory=list)
    unanalysed: list[Unanalysed] = field(default_factory=list)


@dataclass
class Comparison:
    """Current findings against the baseline."""

    new: list[Finding] = field(default_factory=list)
    untriaged: list[Finding] = field(default_factory=list)
    gone: list[Triaged] = field(default_factory=list)
    new_unanalysed: list[str] = field(default_factory=list)

    @property
    def failures(self) -> list[Finding]:
        """New or untriaged findings of a gating impact."""
        return [f for f in [*self.new, *self.untriaged] if f.gating]

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.new_unanalysed)


def _qualified(node: dict) -> str:
    """`Contract.signature` for a function, `Contract` for a contract, the name otherwise."""
    fields = node.get("type_specific_fields", {})
    parent = fields.get("parent")
    if node.get("type") == "function":
        owner = parent.get("name", "?") if parent else "?"
        return f"{owner}.{fields.get('signature', node.get('name', '?'))}"
    if parent and node.get("type") != "contract":
        return f"{_qualified(parent)}.{node.get('name', '?')}"
    return str(node.get("name", "?"))


def element_id(element: dict) -> str:
    """`kind qualified-name (file)`; a node (a statement) is named by its function and its code."""
    kind = element.get("type", "?")
    file = element.get("source_mapping", {}).get("filename_relative", "?")
    if kind == "node":
        parent = element.get("type_specific_fields", {}).get("parent", {})
        code = " ".join(str(element.get("name", "")).split())
        return f"node {_qualified(parent)}: {code} ({file})"
    return f"{kind} {_qualified(element)} ({file})"


def finding_from_result(result: dict) -> Finding:
    """A `Finding` from one entry of Slither's `results.detectors`."""
    lines = result.get("description", "").strip().splitlines()
    return Finding(
        check=result["check"],
        impact=result["impact"],
        confidence=result["confidence"],
        elements=tuple(sorted(element_id(e) for e in result.get("elements", []))),
        summary=_LINES.sub("", lines[0]).strip() if lines else "",
    )


def findings_from_slither(output: dict) -> list[Finding]:
    """Every detector result of a Slither `--json` output, in a stable order."""
    results = output.get("results", {}).get("detectors", [])
    return sorted((finding_from_result(r) for r in results), key=_sort_key)


def _sort_key(finding: Finding) -> tuple:
    return IMPACTS.index(finding.impact) if finding.impact in IMPACTS else len(IMPACTS), finding.key


def unanalysed_from_log(text: str) -> list[str]:
    """`Contract.function (file)` of every function Slither's log says it could not translate to IR."""
    return sorted({f"{name} ({file})" for name, file in _NO_IR.findall(text)})


def compare(current: Sequence[Finding], baseline: Baseline, unanalysed: Sequence[str] = ()) -> Comparison:
    """Which current findings the baseline lacks or leaves untriaged, which entries are gone, and which
    unanalysed functions it does not list with a reason. Keys are counted, so a second identical
    finding is new while the baseline holds one."""
    remaining = Counter(t.finding.key for t in baseline.findings)
    verdicts: dict[tuple, str] = {t.finding.key: t.verdict for t in baseline.findings}
    listed = {u.function for u in baseline.unanalysed if u.reason != UNTRIAGED}
    comparison = Comparison(new_unanalysed=[f for f in unanalysed if f not in listed])
    for finding in current:
        if remaining[finding.key] > 0:
            remaining[finding.key] -= 1
            if verdicts[finding.key] == UNTRIAGED:
                comparison.untriaged.append(finding)
        else:
            comparison.new.append(finding)
    for triaged in baseline.findings:
        if remaining[triaged.finding.key] > 0:
            remaining[triaged.finding.key] -= 1
            comparison.gone.append(triaged)
    return comparison


def updated(current: Sequence[Finding], baseline: Baseline, unanalysed: Sequence[str] = ()) -> Baseline:
    """The baseline for this run: each finding keeps the verdict and reason it has in `baseline`
    (matched by key), a finding the baseline lacks gets `TODO`, and likewise the reason of an
    unanalysed function; entries no longer found are dropped."""
    known: dict[tuple, list[Triaged]] = {}
    for triaged in baseline.findings:
        known.setdefault(triaged.finding.key, []).append(triaged)
    findings = []
    for finding in current:
        previous = known.get(finding.key)
        if previous:
            entry = previous.pop(0)
            findings.append(Triaged(finding, entry.verdict, entry.reason))
        else:
            findings.append(Triaged(finding, UNTRIAGED, ""))
    reasons = {u.function: u.reason for u in baseline.unanalysed}
    return Baseline(findings, [Unanalysed(f, reasons.get(f, UNTRIAGED)) for f in unanalysed])


def counts_by_impact(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.impact for f in findings)
    return {impact: counts.get(impact, 0) for impact in IMPACTS}


def load(path: Path) -> Baseline:
    """The baseline at `path` (an empty baseline if the file does not exist)."""
    if not path.exists():
        return Baseline()
    try:
        data = json.loads(path.read_text())
        entries = [
            Triaged(
                Finding(
                    check=e["check"],
                    impact=e["impact"],
                    confidence=e["confidence"],
                    elements=tuple(e["elements"]),
                    summary=e.get("summary", ""),
                ),
                verdict=e["verdict"],
                reason=e.get("reason", ""),
            )
            for e in data["findings"]
        ]
        unanalysed = [Unanalysed(u["function"], u.get("reason", "")) for u in data.get("unanalysed", [])]
    except (ValueError, KeyError, TypeError) as error:
        raise BaselineError(f"{path}: not a Slither baseline ({error!r})") from None
    for entry in entries:
        if entry.verdict not in VERDICTS:
            raise BaselineError(
                f"{path}: verdict {entry.verdict!r} of {entry.finding.check} is not one of {sorted(VERDICTS)}"
            )
    return Baseline(entries, unanalysed)


def dump(baseline: Baseline, slither_version: str) -> str:
    """The baseline file's text: one entry per finding, most severe first."""
    findings = [
        {
            "check": t.finding.check,
            "impact": t.finding.impact,
            "confidence": t.finding.confidence,
            "summary": t.finding.summary,
            "elements": list(t.finding.elements),
            "verdict": t.verdict,
            "reason": t.reason,
        }
        for t in sorted(baseline.findings, key=lambda t: _sort_key(t.finding))
    ]
    document = {
        "about": "Triaged Slither findings; `make audit` fails on a high or medium finding not listed here "
        "or listed with verdict TODO, and on an unanalysed function not listed. Update: python "
        "tools/slither_audit.py --update, then triage every TODO (see audit/slither-triage.md).",
        "slither": slither_version,
        "unanalysed": [{"function": u.function, "reason": u.reason} for u in baseline.unanalysed],
        "findings": findings,
    }
    return json.dumps(document, indent=2) + "\n"
