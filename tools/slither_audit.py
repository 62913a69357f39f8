"""`make audit`: Slither on contracts/ through the solc-js shim, offline, gated by the triaged baseline.

    python tools/slither_audit.py                        # analyse, compare with audit/slither-baseline.json
    python tools/slither_audit.py --update               # analyse, rewrite the baseline (new: verdict TODO)
    python tools/slither_audit.py --slither-json FILE    # compare an existing `slither --json` output

Slither's crytic-compile compiles one standard-JSON input that holds every file under contracts/,
with the compiler settings of brownie-config.yaml (remappings, EVM version, viaIR, optimizer). It
runs the shim `.solc/solc-v<version>` as `solc --version` and `solc --standard-json --allow-paths
<root>`, as it drives a native solc. Nothing is downloaded: the shim is passed as `--solc` and
registered as solc-select's only installed version (in this interpreter's environment), and the
HTTP(S) proxies point at a closed local port, so any download attempt fails at once.
OpenZeppelin (node_modules) and the test mocks (contracts/mocks) are filtered out.

Writes build/audit/ (the input, slither.json, slither.log). Exit codes: 0 no new or untriaged high
or medium finding; 1 the gate failed; 2 the analysis could not run (one line says why).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import slither_baseline as baseline_lib

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "audit" / "slither-baseline.json"
OUT_DIR = ROOT / "build" / "audit"
#: Regex of paths whose findings are not reported: dependencies and devnet/test doubles.
FILTER_PATHS = "node_modules|contracts/mocks"
#: A closed port: a download attempted through an HTTP(S) proxy fails at once.
CLOSED_PROXY = "http://127.0.0.1:9"
SLITHER_TIMEOUT_SECONDS = 1800

log = logging.getLogger("audit")


class AuditError(Exception):
    """The analysis could not run; the message is one readable line."""


@dataclass(frozen=True)
class CompilerSettings:
    """The compiler settings of brownie-config.yaml."""

    version: str
    evm_version: str
    via_ir: bool
    optimizer_runs: int | None
    remappings: tuple[str, ...]


def compiler_settings(root: Path) -> CompilerSettings:
    config = yaml.safe_load((root / "brownie-config.yaml").read_text())["compiler"]
    solc = config["solc"]
    optimizer = solc.get("optimizer", {})
    return CompilerSettings(
        version=str(solc["version"]),
        evm_version=str(config.get("evm_version", "shanghai")),
        via_ir=bool(solc.get("viaIR", False)),
        optimizer_runs=int(optimizer["runs"]) if optimizer.get("enabled") else None,
        remappings=tuple(solc.get("remappings", [])),
    )


def standard_input(root: Path, settings: CompilerSettings) -> dict:
    """A solc standard-JSON input with every contract source; crytic-compile adds the outputs."""
    sources = sorted(p.relative_to(root).as_posix() for p in (root / "contracts").rglob("*.sol"))
    compiler: dict = {
        "remappings": list(settings.remappings),
        "evmVersion": settings.evm_version,
        "viaIR": settings.via_ir,
        "optimizer": {"enabled": settings.optimizer_runs is not None},
    }
    if settings.optimizer_runs is not None:
        compiler["optimizer"]["runs"] = settings.optimizer_runs
    return {"language": "Solidity", "sources": {s: {"urls": [s]} for s in sources}, "settings": compiler}


def offline_env(shim: Path, version: str) -> dict[str, str]:
    """The environment Slither runs in: solc-select (under this interpreter's prefix) knows the shim as
    its only version, and downloads have nowhere to go."""
    prefix = Path(sys.prefix)
    select_dir = prefix / ".solc-select"
    artifact = select_dir / "artifacts" / f"solc-{version}" / f"solc-{version}"
    artifact.parent.mkdir(parents=True, exist_ok=True)
    if not artifact.is_symlink() or artifact.resolve() != shim.resolve():
        artifact.unlink(missing_ok=True)
        artifact.symlink_to(shim.resolve())
    (select_dir / "global-version").write_text(version)
    env = dict(os.environ)
    env.update(
        VIRTUAL_ENV=str(prefix),
        SOLC_VERSION=version,
        HTTP_PROXY=CLOSED_PROXY,
        HTTPS_PROXY=CLOSED_PROXY,
        http_proxy=CLOSED_PROXY,
        https_proxy=CLOSED_PROXY,
        NO_PROXY="",
        no_proxy="",
    )
    env["PATH"] = os.pathsep.join([str(prefix / "bin"), env.get("PATH", "")])
    return env


def slither_executable() -> Path:
    candidate = Path(sys.prefix) / "bin" / "slither"
    found = candidate if candidate.exists() else shutil.which("slither")
    if not found:
        raise AuditError("slither is not installed: run `make setup` (slither-analyzer is a dev extra)")
    return Path(found)


def slither_version(slither: Path) -> str:
    result = subprocess.run([str(slither), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"


def run_slither(root: Path, slither: Path) -> tuple[dict, str]:
    """Slither's `--json` output for contracts/ and its log (kept in build/audit/)."""
    settings = compiler_settings(root)
    shim = root / ".solc" / f"solc-v{settings.version}"
    if not shim.exists():
        raise AuditError(f"no solc shim at {shim.relative_to(root)}: run `make setup`")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    input_path = OUT_DIR / "standard-input.json"
    input_path.write_text(json.dumps(standard_input(root, settings), indent=1))
    report = OUT_DIR / "slither.json"
    report.unlink(missing_ok=True)
    command = [
        str(slither), str(input_path.relative_to(root)),
        "--compile-force-framework", "solc-json",
        "--solc", str(shim),
        "--filter-paths", FILTER_PATHS,
        "--json", str(report.relative_to(root)),
        "--disable-color",
    ]
    log.info("audit: %s", " ".join(command))
    try:
        done = subprocess.run(
            command, cwd=root, env=offline_env(shim, settings.version), capture_output=True, text=True,
            timeout=SLITHER_TIMEOUT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        raise AuditError(f"slither did not finish within {SLITHER_TIMEOUT_SECONDS} s") from None
    log_path = OUT_DIR / "slither.log"
    log_path.write_text(done.stdout + done.stderr)
    if not report.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        where = log_path.relative_to(root)
        raise AuditError(f"slither wrote no report (exit {done.returncode}): {last}; see {where}")
    output = json.loads(report.read_text())
    if not output.get("success"):
        error = " ".join(str(output.get("error") or "unknown error").split())
        raise AuditError(f"slither failed: {error[:300]}; see {log_path.relative_to(root)}")
    return output, done.stdout + done.stderr


def _describe(finding: baseline_lib.Finding) -> str:
    return f"{finding.impact.lower()} {finding.check}: {finding.summary}"


def report(comparison: baseline_lib.Comparison, current: list[baseline_lib.Finding]) -> int:
    counts = baseline_lib.counts_by_impact(current)
    by_impact = ", ".join(f"{impact.lower()} {count}" for impact, count in counts.items())
    log.info("audit: %d findings (%s)", len(current), by_impact)
    for finding in comparison.failures:
        state = "untriaged (verdict TODO)" if finding in comparison.untriaged else "new, not in the baseline"
        log.error("audit: %s, %s", _describe(finding), state)
    for finding in comparison.new:
        if not finding.gating:
            log.warning("audit: new (not gating) %s", _describe(finding))
    for triaged in comparison.gone:
        log.info("audit: no longer found, drop it with --update: %s", _describe(triaged.finding))
    for function in comparison.new_unanalysed:
        log.error("audit: slither could not analyse %s (no detector sees inside it): not triaged", function)
    if comparison.failed:
        log.error(
            "audit: %d high/medium finding(s) and %d unanalysed function(s) need triage: fix them, or run "
            "`python tools/slither_audit.py --update` and give each TODO in %s a verdict and a reason",
            len(comparison.failures), len(comparison.new_unanalysed), BASELINE.relative_to(ROOT),
        )
        return 1
    log.info("audit: every high and medium finding is triaged in %s", BASELINE.relative_to(ROOT))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline from this run")
    parser.add_argument("--slither-json", type=Path, help="compare this `slither --json` output instead")
    parser.add_argument("--slither-log", type=Path, help="with --slither-json: slither's stderr of that run")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        slither = slither_executable()
        if args.slither_json:
            output = json.loads(args.slither_json.read_text())
            log_text = args.slither_log.read_text() if args.slither_log else ""
        else:
            output, log_text = run_slither(ROOT, slither)
        current = baseline_lib.findings_from_slither(output)
        unanalysed = baseline_lib.unanalysed_from_log(log_text)
        baseline = baseline_lib.load(args.baseline)
    except (AuditError, baseline_lib.BaselineError, OSError, ValueError) as error:
        log.error("audit: %s", error)
        return 2
    if args.update:
        new_baseline = baseline_lib.updated(current, baseline, unanalysed)
        args.baseline.parent.mkdir(parents=True, exist_ok=True)
        args.baseline.write_text(baseline_lib.dump(new_baseline, slither_version(slither)))
        todo = sum(1 for e in new_baseline.findings if e.verdict == baseline_lib.UNTRIAGED)
        todo += sum(1 for u in new_baseline.unanalysed if u.reason == baseline_lib.UNTRIAGED)
        log.info(
            "audit: wrote %d findings and %d unanalysed functions to %s, %d to triage (TODO)",
            len(new_baseline.findings), len(new_baseline.unanalysed), args.baseline, todo,
        )
        return 0
    return report(baseline_lib.compare(current, baseline, unanalysed), current)


if __name__ == "__main__":
    sys.exit(main())
