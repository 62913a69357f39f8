"""Keeper benchmarks (issue 7), on real Anvil nodes that mine on an interval as a chain does.

    python bench/keeper.py                      # everything (about 15 minutes), into bench/results.json
    python bench/keeper.py --only sweep         # or crash_50, crash_1000, crash_50_rival, restart_gap,
                                                # ganache_crash_50, crash_50_slow_rpc
    python bench/keeper.py --block-time 2 --gas-limit 30000000

- **sweep**: 10,000 borrowers (seeded in bulk, see `scripts/population.py`); the time and the RPC calls
  the keeper's own `PoolReader.health_factors` takes to read the health factor of the first 1,000
  and of all 10,000 at the head block through `LiquidationLens`, as its full sweep does. Median of
  several runs; every figure is checked against `getUserAccountData` on a sample.
- **crash_50** and **crash_1000**: that many WETH-collateral borrowers just above HF 1 among
  healthy ones; `liqkeeper run` (a child process, HTTP polling) watches; one `setPrice` drops WETH
  5% and makes all of them liquidatable in one block (bench/crash_run.py). Every liquidation figure
  comes from the independent observer (bench/observer.py), which reads the chain itself: health
  factors at every block through the lens, `LiquidationCall` logs, receipts. Delay = inclusion
  block - the first block the account was liquidatable; `next_block_share` is the share of the
  liquidation episodes first liquidated in the block right after. For 1,000 accounts the block gas
  limit caps a block at about 170 liquidations, so `capacity_share` counts a liquidation as on
  time when it landed no later than the earliest block the gas limit allowed: the k-th (in
  inclusion order) cannot land before block ceil(gas of the first k / gas limit) after the update.
  Only the keeper knows its wall-clock figures (`latency_ms_*`, `detect_to_send_ms_*`), taken from
  its records; `keeper_records` shows what its records say, and `records_mismatch` counts the
  liquidations on which they disagree with the chain (block, amounts, outcome, winner).
- **crash_50_rival**, **restart_gap**, **crash_50_slow_rpc** (bench/scenarios.py) and
  **ganache_crash_50** (bench/ganache_crash.py): see those modules.

Goals (reported, never asserted): a 10,000-account sweep under 1 s in at most 25 RPC calls;
`next_block_share` >= 95% for 50 accounts; `capacity_share` >= 95% for 1,000.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from web3 import HTTPProvider, Web3  # noqa: E402

from keeper.contracts import Contracts  # noqa: E402
from keeper.deployment import load_deployment  # noqa: E402
from keeper.pool_reader import PoolReader  # noqa: E402
from keeper.report import percentile, summarize  # noqa: E402
from keeper.rpc_batch import RpcCounter  # noqa: E402
from scripts.deployer import Sender, contract, default_plan, deploy  # noqa: E402
from scripts.devnode import AnvilNode  # noqa: E402
from scripts.keeper_process import KeeperProcess  # noqa: E402
from scripts.market.engine import MARKET_UNISWAP  # noqa: E402
from scripts.population import Position, Seeder, Sizing, borrower_address, seeding_web3  # noqa: E402

log = logging.getLogger("bench.keeper")

RESULTS_PATH = ROOT / "bench" / "results.json"
WAD = 10**18
KEEPER_INDEX = 1
SUPPLIER_INDEX = 2
GOALS = {
    "sweep_10k_seconds": ("<=", 1.0),
    "sweep_10k_rpc_calls": ("<=", 25),
    "crash_50.next_block_share": (">=", 0.95),
    "crash_1000.capacity_share": (">=", 0.95),
    "crash_1000_flash.capacity_share": (">=", 0.95),
    "crash_50_rival.races_won_share": (">=", 0.9),
    "crash_50_rival.next_block_share": (">=", 0.95),
    "crash_50_rival.records_mismatch": ("<=", 0),
    "restart_gap.first_liquidation_blocks": ("<=", 2),
    "ganache_crash_50.liquidated_within_5_blocks_share": (">=", 1.0),
    "ganache_crash_50.still_liquidatable": ("<=", 0),
    "crash_50_slow_rpc.next_block_share": (">=", 0.95),
}
SCENARIOS = (
    "sweep",
    "crash_50",
    "crash_1000",
    "crash_1000_flash",
    "crash_50_rival",
    "restart_gap",
    "ganache_crash_50",
    "crash_50_slow_rpc",
)
#: The flash crash's market: the crash pools (scripts/market/engine.py) with $2B within +-2% of the price,
#: so that a thousand liquidations' sales move them by well under their bonus, and arbitrageurs move them
#: to the new price in the block of the price update.
FLASH_POOLS = replace(MARKET_UNISWAP, depth_usd=2_000_000_000.0, full_range_usd=200_000_000.0)
#: Prices at seeding (USD); the crash moves WETH only.
PRICES = {"WETH": 2_000.0, "WBTC": 60_000.0, "USDC": 1.0, "DAI": 1.0}
CRASH_FALL = 0.05
COLLATERAL_MIX = (("WETH", 0.45), ("WBTC", 0.35), ("USDC", 0.20))


class CountingProvider(HTTPProvider):
    """Counts JSON-RPC calls (each entry of a batch counts) and HTTP requests."""

    def __init__(self, url: str):
        super().__init__(url, request_kwargs={"timeout": 60})
        self.calls = 0
        self.requests = 0

    def make_request(self, method: Any, params: Any) -> Any:
        self.calls += 1
        self.requests += 1
        return super().make_request(method, params)

    def make_batch_request(self, batch: Any) -> Any:
        self.calls += len(batch)
        self.requests += 1
        return super().make_batch_request(batch)


@dataclass
class Chain:
    """A deployed protocol on a fresh Anvil, with a supplier that seeds borrowers."""

    node: AnvilNode
    w3: Web3
    deployment_path: Path
    seeder: Seeder
    sizing: Sizing
    tokens: dict[str, str]
    feeds: dict[str, str]
    lens: str
    pool: str

    @classmethod
    def start(cls, workdir: Path, accounts: int = 4, flash: bool = False) -> Chain:
        """A fresh node and deployment; with `flash`, Uniswap V3 pools deep enough that the crash's
        liquidations are limited by block gas, not by the market (FLASH_POOLS), and a FlashLiquidator
        owned by the keeper."""
        node = AnvilNode(accounts=accounts, extra=["--block-base-fee-per-gas", "0"])
        node.start()
        try:
            w3 = node.web3()
            deployer = Sender(w3, address=w3.eth.accounts[0])
            plan = default_plan()
            if flash:
                plan = replace(plan, uniswap=FLASH_POOLS, flash_owner=w3.eth.accounts[KEEPER_INDEX])
            deployment = deploy(w3, deployer, plan, network="bench").write(workdir / "deployments")
            return cls(
                node=node,
                w3=w3,
                deployment_path=deployment.path,
                seeder=Seeder(seeding_web3(node.url), deployment, w3.eth.accounts[SUPPLIER_INDEX]),
                sizing=Sizing.of(deployment, PRICES),
                tokens={a.symbol: a.address for a in deployment.assets},
                feeds={a.symbol: a.feed for a in deployment.assets},
                lens=deployment.lens,
                pool=deployment.pool,
            )
        except BaseException:
            node.stop()
            raise

    def position(
        self, borrower: str, collateral: str, collateral_usd: float, debt: str, hf: float
    ) -> Position:
        return self.sizing.position(borrower, collateral, collateral_usd, debt, hf)

    def fund(self, positions: Sequence[Position], keeper: str | None = None) -> None:
        """Mints the supplier every collateral plus debt liquidity (and the keeper debt tokens)."""
        self.seeder.provide(positions, {s: self.sizing.units(s, 2e9) for s in ("USDC", "DAI")})
        if keeper is not None:
            self.seeder.mint(keeper, {s: self.sizing.units(s, 500_000_000) for s in ("USDC", "DAI")})

    def fund_liquidator(self, liquidator: str) -> None:
        """Debt tokens for another liquidator (an unlocked account), with the pool approved."""
        self.seeder.mint(liquidator, {s: self.sizing.units(s, 500_000_000) for s in ("USDC", "DAI")})
        for symbol in ("USDC", "DAI"):
            token = contract(self.w3, "MockERC20", self.tokens[symbol])
            tx = token.functions.approve(self.pool, 2**256 - 1).transact({"from": liquidator, "gas": 100_000})
            self.w3.eth.wait_for_transaction_receipt(tx, timeout=60)

    def interval_mining(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_setAutomine", [False])
        answer = self.w3.provider.make_request("evm_setIntervalMining", [seconds])
        if answer.get("error"):
            raise RuntimeError(f"anvil refused interval mining: {answer['error']}")

    def stop(self) -> None:
        self.node.stop()


def random_positions(rng: random.Random, chain: Chain, namespace: int, count: int, hf: tuple[float, float]):
    symbols = [s for s, _ in COLLATERAL_MIX]
    weights = [w for _, w in COLLATERAL_MIX]
    positions = []
    for i in range(count):
        collateral = rng.choices(symbols, weights)[0]
        debt = "DAI" if collateral == "USDC" else rng.choice(("USDC", "DAI"))
        size = math.exp(rng.uniform(math.log(5_000), math.log(200_000)))
        positions.append(
            chain.position(borrower_address(namespace, i), collateral, size, debt, rng.uniform(*hf))
        )
    return positions


def median_run(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


# sweep


def sweep_benchmark(workdir: Path, borrowers: int, repeat: int, block_time: int) -> dict[str, Any]:
    rng = random.Random(11)
    chain = Chain.start(workdir)
    try:
        positions = random_positions(rng, chain, 0xA0, borrowers, (1.1, 2.0))
        chain.fund(positions)
        started = time.perf_counter()
        chain.seeder.seed(positions)
        log.info("sweep: seeded %d borrowers in %.1f s", borrowers, time.perf_counter() - started)
        chain.interval_mining(block_time)

        provider = CountingProvider(chain.node.url)
        w3 = Web3(provider)
        deployment = load_deployment(chain.deployment_path)
        contracts = Contracts.at(w3, deployment.pool, deployment.oracle, deployment.lens)
        reader = PoolReader(w3, contracts, deployment, RpcCounter())
        users = [p.borrower for p in positions]
        result: dict[str, Any] = {}
        for subset in (users[:1_000], users):
            label = f"{len(subset) // 1000}k" if len(subset) % 1000 == 0 else str(len(subset))

            def sweep(subset: list[str] = subset) -> tuple[int, dict[str, int]]:
                head = w3.eth.block_number
                return head, reader.health_factors(subset, head)

            sweep(subset)  # warm the connection
            calls_before, requests_before = provider.calls, provider.requests
            seconds, times, (head, hfs) = median_run(sweep, repeat)
            calls = (provider.calls - calls_before) // repeat
            http = (provider.requests - requests_before) // repeat
            check_sample(w3, chain.pool, head, hfs, rng)
            result[f"sweep_{label}_seconds"] = round(seconds, 4)
            result[f"sweep_{label}_rpc_calls"] = calls
            result[f"sweep_{label}_http_requests"] = http
            result[f"sweep_{label}_runs_seconds"] = [round(t, 4) for t in times]
            log.info(
                "sweep %s: median %.3f s over %d runs, %d RPC calls in %d HTTP requests",
                label,
                seconds,
                repeat,
                calls,
                http,
            )
        return result
    finally:
        chain.stop()


def check_sample(w3: Web3, pool_address: str, head: int, hfs: dict[str, int], rng: random.Random) -> None:
    """The lens's figures equal the pool's own `getUserAccountData` at the same block, on a sample."""
    pool = contract(w3, "LendingPool", pool_address)
    for user in rng.sample(sorted(hfs), 20):
        expected = pool.functions.getUserAccountData(user).call(block_identifier=head)[2]
        if hfs[user] != expected:
            raise RuntimeError(f"sweep read HF {hfs[user]} for {user}, the pool says {expected}")
    if any(hf < WAD for hf in hfs.values()):
        raise RuntimeError("the sweep population should be healthy")


# crashes


def crash_benchmark(
    workdir: Path, liquidatable: int, healthy: int, block_time: int, timeout: float, flash: bool = False
) -> dict[str, Any]:
    """crash_50 / crash_1000 / crash_1000_flash: the observer's figures (the same keys as before), the
    keeper's wall-clock figures from its own records, and `records_mismatch`. With `flash` the keeper
    holds no debt token and liquidates through its FlashLiquidator (`--mode flash`)."""
    from bench.crash_run import CrashOptions, run_crash

    name = f"crash_{liquidatable}" + ("_flash" if flash else "")
    run = run_crash(workdir / name, CrashOptions(liquidatable, healthy, block_time, timeout, flash=flash))
    return crash_report(run)


def crash_report(run: Any) -> dict[str, Any]:
    """The observer's figures of a run, the keeper's clock figures (latency_ms, detect_to_send_ms: only
    the keeper knows them), and what the keeper's own records say, under `keeper_records`."""
    own = crash_figures(
        run.keeper_records,
        set(run.victims),
        run.update_block,
        len(run.victims),
        run.observation.gas_limit,
        run.figures["block_time_seconds"],
    )
    result = dict(run.figures)
    for key in ("latency_ms_p50", "latency_ms_p95", "detect_to_send_ms_p50", "detect_to_send_ms_p95"):
        result[key] = own[key]
    result["records_mismatch_examples"] = run.mismatches[:10]
    theirs = summarize(run.keeper_records)
    result["keeper_records"] = {
        k: theirs[k]
        for k in (
            "accounts_liquidated",
            "liquidations",
            "lost_to_competitors",
            "reverted",
            "next_block_share",
            "delay_blocks_p50",
            "delay_blocks_p95",
        )
    }
    for line in run.mismatches[:10]:
        log.warning("records mismatch: %s", line)
    return result


def wait_until_approved(chain: Chain, owner: str, keeper: KeeperProcess, timeout: float = 60) -> None:
    """The keeper approves the pool for every asset at start-up; the crash waits for that."""
    tokens = [contract(chain.w3, "MockERC20", address) for address in chain.tokens.values()]
    deadline = time.time() + timeout
    while any(t.functions.allowance(owner, chain.pool).call() == 0 for t in tokens):
        if not keeper.running() or time.time() > deadline:
            raise RuntimeError(f"the keeper did not approve the pool; see {keeper.log_path}")
        time.sleep(0.2)


def crash_figures(
    records: list[dict[str, Any]],
    victims: set[str],
    update_block: int,
    liquidatable: int,
    gas_limit: int,
    block_time: int,
) -> dict[str, Any]:
    done = [
        r for r in records if r["outcome"] == "liquidated" and r["user"] in victims and r["inclusion_block"]
    ]
    # One liquidation per account is the keeper's first; a second (a later top-up) does not count.
    first: dict[str, dict[str, Any]] = {}
    for r in sorted(done, key=lambda r: (r["inclusion_block"], r["tx_hash"])):
        first.setdefault(r["user"], r)
    ordered = sorted(first.values(), key=lambda r: r["inclusion_block"])
    delays = [r["inclusion_block"] - update_block for r in ordered]
    wall = [r["delay_wall_ms"] for r in ordered if r["delay_wall_ms"] is not None]
    detect = [r["detect_latency_ms"] for r in ordered if r["detect_latency_ms"] is not None]
    cumulative, on_time = 0, 0
    for r, delay in zip(ordered, delays, strict=True):
        cumulative += r["gas_used"]
        if delay <= math.ceil(cumulative / gas_limit):
            on_time += 1
    gas = [r["gas_used"] for r in ordered]
    return {
        "accounts_liquidatable": liquidatable,
        "accounts_liquidated": len(ordered),
        "next_block_share": round(sum(1 for d in delays if d == 1) / liquidatable, 4),
        "capacity_share": round(on_time / liquidatable, 4),
        "latency_blocks_p50": percentile(delays, 50),
        "latency_blocks_p95": percentile(delays, 95),
        "latency_ms_p50": percentile(wall, 50),
        "latency_ms_p95": percentile(wall, 95),
        "detect_to_send_ms_p50": percentile(detect, 50),
        "detect_to_send_ms_p95": percentile(detect, 95),
        "blocks_to_clear": max(delays) if delays else None,
        "liquidation_gas_mean": round(statistics.fmean(gas)) if gas else None,
        "block_gas_limit": gas_limit,
        "block_time_seconds": block_time,
    }


# output


def goal_status(results: dict[str, Any]) -> dict[str, str]:
    status = {}
    for key, (op, bound) in GOALS.items():
        value: Any = results
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        met = value <= bound if op == "<=" else value >= bound
        status[key] = f"{'met' if met else 'missed'} ({value} {op} {bound})"
    return status


def print_table(results: dict[str, Any]) -> None:
    print("\nKeeper benchmarks (Anvil, interval mining)")
    for key in ("sweep_1k_seconds", "sweep_1k_rpc_calls", "sweep_10k_seconds", "sweep_10k_rpc_calls"):
        if key in results:
            print(f"  {key:28} {results[key]}")
    for name in SCENARIOS[1:]:
        if name not in results:
            continue
        print(f"  {name}:")
        for key, value in results[name].items():
            print(f"    {key:26} {value}")
    for key, text in goal_status(results).items():
        print(f"  goal {key}: {text}")


def scenario_results(only: set[str], workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The scenarios of bench/scenarios.py that `only` names, each with its run time."""
    from bench import scenarios
    from bench.ganache_crash import ganache_benchmark

    runs = {
        "crash_50_rival": lambda: scenarios.rival_benchmark(
            workdir, args.healthy, args.block_time, args.timeout
        ),
        "restart_gap": lambda: scenarios.restart_gap_benchmark(
            workdir, args.healthy, args.block_time, args.timeout
        ),
        "ganache_crash_50": lambda: ganache_benchmark(workdir, args.block_time, args.timeout),
        "crash_50_slow_rpc": lambda: scenarios.slow_rpc_benchmark(workdir, args.healthy, args.timeout),
    }
    out: dict[str, Any] = {}
    for name, run in runs.items():
        if name in only:
            started = time.perf_counter()
            out[name] = run()
            out[name]["run_seconds"] = round(time.perf_counter() - started)
            log.info("%s done in %.0f s", name, time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=SCENARIOS, action="append")
    parser.add_argument("--block-time", type=int, default=2, help="seconds between blocks (default 2)")
    parser.add_argument("--sweep-borrowers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5, help="sweep runs; the median is reported")
    parser.add_argument("--healthy", type=int, default=1_000, help="healthy borrowers beside each crash's")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for a crash to clear")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "reports" / "bench", help="keeper logs and databases of each run"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("scripts.deployer").setLevel(logging.WARNING)
    only = set(args.only or SCENARIOS)
    results = json.loads(RESULTS_PATH.read_text()) if RESULTS_PATH.exists() else {}
    keeper: dict[str, Any] = {}
    workdir: Path = args.out
    workdir.mkdir(parents=True, exist_ok=True)
    if "sweep" in only:
        keeper.update(sweep_benchmark(workdir, args.sweep_borrowers, args.repeat, args.block_time))
    for count in (50, 1000):
        if f"crash_{count}" in only:
            keeper[f"crash_{count}"] = crash_benchmark(
                workdir, count, args.healthy, args.block_time, args.timeout
            )
    if "crash_1000_flash" in only:
        keeper["crash_1000_flash"] = crash_benchmark(
            workdir, 1000, args.healthy, args.block_time, args.timeout, flash=True
        )
    keeper.update(scenario_results(only, workdir, args))
    merged = {**results.get("keeper", {}), **keeper}
    results["keeper"] = merged
    results["keeper_conditions"] = {
        "node": "anvil from node_modules, a fresh node per benchmark, interval mining, base fee 0 at start",
        "block_time_seconds": args.block_time,
        "sweep_borrowers": args.sweep_borrowers,
        "sweep_repeat": args.repeat,
        "crash": f"WETH -{CRASH_FALL:.0%} in one setPrice; victims HF 1.005-1.04 on WETH",
        "healthy_borrowers_per_crash": args.healthy,
        "keeper": "liqkeeper run, HTTP polling every 0.05 s",
        "goals": {k: f"{op} {bound}" for k, (op, bound) in GOALS.items()},
        "goal_status": goal_status(merged),
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    RESULTS_PATH.write_text(json.dumps(results, indent=2) + "\n")
    print_table(merged)
    print(f"\nWrote keeper figures to {RESULTS_PATH.relative_to(ROOT)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
