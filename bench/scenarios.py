"""The crash scenarios of issues 15 and 18 beside crash_50/crash_1000, each measured by the
independent observer (bench/observer.py) and selectable with `bench/keeper.py --only NAME`:

- **crash_50_rival**: bench/rival.py (plain `liquidate` calls, a fixed 5 gwei tip) runs beside the
  keeper from the same start. `races_won_share`: episodes whose first liquidation is the keeper's,
  over the episodes anyone liquidated; `next_block_share`: over the episodes the keeper won
  (`next_block_share_all_episodes`: over all).
- **restart_gap**: the keeper is stopped, WETH drops, the keeper is restarted on its database
  `downtime` blocks later; `first_liquidation_blocks`: the keeper's first liquidation's block minus
  the head at its restart.
- **crash_50_slow_rpc**: 12 s blocks, the keeper behind two tests/keeper/rpc_proxy.py endpoints
  (150 ms latency, HTTP 429, intermittent 503s and connection resets); `next_block_share` from the
  observer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.crash_run import CrashOptions, run_crash

ROOT = Path(__file__).resolve().parents[1]
#: Two endpoints in RPC_URL (the keeper fails over between them), each slow and faulty on its own rhythm,
#: as tests/keeper/test_rpc_failover.py drives them. One such endpoint alone would do too: since commit
#: 18261fa a single HTTP endpoint's 429s and 5xx are asked again after a pause (keeper/providers.py,
#: tests/keeper/test_rpc_failover.py::test_one_rate_limited_endpoint_is_retried_not_fatal); two also
#: measure the failover between them, as an operator with two providers runs it.
SLOW_RPC_FAULTS = (
    {"latency_s": 0.15, "rate_limit_every": 5, "reset_every": 7},
    {"latency_s": 0.15, "error_every": 4},
)


def rival_benchmark(workdir: Path, healthy: int, block_time: int, timeout: float) -> dict[str, Any]:
    from bench.keeper import crash_report

    run = run_crash(workdir / "crash_50_rival", CrashOptions(50, healthy, block_time, timeout, rival=True))
    result = crash_report(run)
    result["next_block_share_all_episodes"] = result["next_block_share"]
    result["next_block_share"] = result["keeper_next_block_share"]
    return result


def restart_gap_benchmark(
    workdir: Path, healthy: int, block_time: int, timeout: float, downtime: int = 5
) -> dict[str, Any]:
    from bench.keeper import crash_report

    run = run_crash(
        workdir / "restart_gap", CrashOptions(50, healthy, block_time, timeout, downtime_blocks=downtime)
    )
    result = crash_report(run)
    assert run.restart_block is not None
    mine = [
        liq.block
        for liq in run.observation.liquidations
        if liq.liquidator == run.keeper_address and liq.block > run.restart_block
    ]
    result["downtime_blocks"] = downtime
    result["restart_block"] = run.restart_block
    result["liquidatable_at_restart"] = sum(
        1
        for e in run.observation.episodes
        if e.start_block <= run.restart_block and (e.first is None or e.first.block > run.restart_block)
    )
    result["first_liquidation_blocks"] = (min(mine) - run.restart_block) if mine else None
    return result


@contextmanager
def faulty_proxy(url: str) -> Iterator[str]:
    """Two tests/keeper/rpc_proxy.py proxies in front of `url`, with SLOW_RPC_FAULTS; yields RPC_URL."""
    sys.path.insert(0, str(ROOT / "tests" / "keeper"))
    try:
        from rpc_proxy import Faults, RpcProxy
    finally:
        sys.path.remove(str(ROOT / "tests" / "keeper"))
    proxies = [RpcProxy(url, Faults(**faults)).start() for faults in SLOW_RPC_FAULTS]
    try:
        yield ",".join(p.url for p in proxies)
    finally:
        for proxy in proxies:
            proxy.stop()


def slow_rpc_benchmark(workdir: Path, healthy: int, timeout: float) -> dict[str, Any]:
    from bench.keeper import crash_report

    opts = CrashOptions(50, healthy, 12, max(timeout, 300), keeper_url=faulty_proxy)
    result = crash_report(run_crash(workdir / "crash_50_slow_rpc", opts))
    result["proxy_faults"] = [dict(f) for f in SLOW_RPC_FAULTS]
    return result
