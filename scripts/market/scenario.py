"""One market-driven crash, start to finish, on a fresh Anvil: the run the demo shows, the study
replays side by side, and the benchmarks measure.

1. Anvil on a free port with interval mining for the crash (stopped on exit, Ctrl-C included).
2. Deploy the protocol with Uniswap V3 (`MARKET_UNISWAP`: every pool has an arbitrageur) and a
   FlashLiquidator owned by the keeper; seed borrowers (seeded random, reproducible) over WETH, WBTC
   and USDC collateral and USDC and DAI debt, health factors from 1.0 to 2.0, some near the dust line.
   The keeper holds no debt token at all: it liquidates through flash swaps.
3. Fund the market's actors (`engine.CrashMarket`), start `liqkeeper run`, and drive the seeded
   reference path block by block (`engine.run_crash`) until nothing is liquidatable, no deficit is
   unsettled and the keeper has nothing pending.
4. Stop the keeper; read the crash back with the independent observer (bench/observer.py): episodes,
   liquidations with their fills, zombies and the insurance fund per block, and the disagreements of
   the keeper's own records with the chain.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from web3 import Web3

from bench.observer import Observation, Observer, figures
from bench.records_check import delay_mismatch, keeper_records, records_mismatch
from keeper.deployment import Deployment
from keeper.maths import UNREADABLE_HEALTH_FACTOR
from scripts.deployer import Sender, contract, default_plan, deploy
from scripts.devnode import AnvilNode, dev_key
from scripts.keeper_process import KeeperProcess
from scripts.market.engine import (
    MARKET_UNISWAP,
    RISKY,
    CrashMarket,
    MarketConfig,
    StepRecord,
    Timeline,
    run_crash,
)
from scripts.market.measure import LiquidationRow, liquidation_rows, run_figures, trigger_blocks
from scripts.market.paths import PricePath, make_path
from scripts.population import Seeder, Sizing, seeding_web3
from scripts.twap import install_twap_guard

log = logging.getLogger(__name__)

WAD = 10**18
KEEPER_INDEX = 1
SUPPLIER_INDEX = 2
FIRST_BORROWER = 3
MARKET_ACTORS = 6
COLLATERAL_CHOICES = (("WETH", 0.45), ("WBTC", 0.35), ("USDC", 0.20))
SUPPLIER_LIQUIDITY = (("USDC", 60_000_000), ("DAI", 60_000_000), ("WETH", 5_000))  # tokens
#: The shortest interval between two of Anvil's blocks, seconds: it stamps blocks in whole seconds of
#: wall time, so interval mining every 2 s can put two blocks 1 s apart. The TWAP feeds keep one
#: observation per second of their window (301 for 300 s), so no block pattern shortens their history.
ANVIL_MIN_BLOCK_INTERVAL = 1


@dataclass(frozen=True)
class BorrowerPlan:
    index: int
    collateral: str
    debt: str
    collateral_usd: float
    health_factor: float


def plan_borrowers(rng: random.Random, count: int) -> list[BorrowerPlan]:
    """Reproducible positions: log-uniform sizes ($1.5k-$250k, every 6th near the dust line),
    health factors uniform in [1.0, 2.0]."""
    plans = []
    symbols = [s for s, _ in COLLATERAL_CHOICES]
    weights = [w for _, w in COLLATERAL_CHOICES]
    for i in range(count):
        collateral = rng.choices(symbols, weights)[0]
        debt = "DAI" if collateral == "USDC" else rng.choice(("USDC", "DAI"))
        if i % 6 == 0:
            size = rng.uniform(1_300, 2_600)
        else:
            size = math.exp(rng.uniform(math.log(1_500), math.log(250_000)))
        plans.append(BorrowerPlan(FIRST_BORROWER + i, collateral, debt, size, rng.uniform(1.005, 2.0)))
    return plans


@dataclass(frozen=True)
class ScenarioOptions:
    """One crash. `keeper_flags` are added to `liqkeeper run` (e.g. a throttle); `target_health_factor`
    overrides the deployment's (WAD)."""

    borrowers: int = 300
    seed: int = 7
    block_time: int = 2
    shape: str = "crash_bounce"
    depth_bps: Mapping[str, int] = field(default_factory=lambda: {"WETH": 4_000, "WBTC": 3_500})
    steps: int = 30
    market: MarketConfig = field(default_factory=MarketConfig)
    pool_depth_usd: float = 10_000_000.0  # within +-2% of the start price, per pool
    pool_full_range_usd: float = 100_000_000.0  # over the whole price range, per pool
    keeper_flags: tuple[str, ...] = ()
    target_health_factor: int | None = None
    max_extra_blocks: int = 60
    # A run with the TWAP guard (`scripts.twap.install_twap_guard`) is the same seeded crash, chain clock
    # and keeper, with a TWAP of the WETH/USDC and WBTC/USDC pools as WETH's and WBTC's secondary feed:
    # they are priced only while the publisher's feed and the TWAP agree within the bound. Installed
    # before the crash: the pools keep one observation a second, the clock moves forward by what their
    # history lacks of one window (at most 300 s; interest on that is ~1e-6 of a debt), nothing trades.
    # The window is the feed's minimum, the shortest lag. The bound, 20%, lets a market move ~30% in one
    # window at a steady pace (the TWAP trails by half the move) and refuses a primary 20% or more off
    # the pool's recent average, so a one-block push or a feed 30-40% off is caught. The default crash
    # falls 40% in 7 blocks (14 s), faster than any accepted window follows: the breaker holds WETH and
    # WBTC prices (liquidations, and the health factors of accounts using them) from about the 4th
    # block until the TWAP is within 20% again (about the 27th-30th of 30), and the run measures what
    # that hold costs and saves. A bound letting this crash through would be over 60%, no guard at all.
    twap_guard: bool = False
    twap_window: int = 300  # seconds
    twap_max_deviation_bps: int = 2_000


@dataclass
class ScenarioResult:
    """What one crash did, read from the chain by the observer, beside the engine's timeline and the
    keeper's own records."""

    options: ScenarioOptions
    deployment: Deployment
    keeper: str
    first_block: int
    last_block: int
    observation: Observation
    figures: dict[str, Any]  # the observer's timing figures (bench/observer.py `figures`)
    rows: list[LiquidationRow]  # every liquidation measured against the market (measure.py)
    run: dict[str, Any]  # the run's execution-quality figures (measure.run_figures)
    timeline: Timeline
    records: list[dict[str, Any]]
    mismatches: list[str]  # the keeper's records against the chain: fields of its liquidations
    delay_mismatches: list[str]  # ... and their delays (inclusion - first liquidatable block)
    fund_usd: dict[int, float]
    health_before: dict[str, int]
    health_after: dict[str, int]
    path: PricePath
    wall_seconds: float


class _Borrowers:
    """The seeded accounts, read through the lens."""

    def __init__(self, w3: Web3, deployment: Deployment, users: list[str]):
        self.lens = contract(w3, "LiquidationLens", deployment.lens)
        self.pool = contract(w3, "LendingPool", deployment.pool)
        self.users = users
        self.assets = [a.address for a in deployment.assets]

    def health_factors(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for start in range(0, len(self.users), 500):
            chunk = self.users[start : start + 500]
            result.update(zip(chunk, self.lens.functions.getHealthFactors(chunk).call(), strict=True))
        return result

    def liquidatable(self) -> int:
        """Accounts below 1, and accounts the chain cannot value (the TWAP guard's breaker holding an
        asset they use): neither is settled."""
        return sum(1 for hf in self.health_factors().values() if hf < WAD or hf == UNREADABLE_HEALTH_FACTOR)

    def deficits(self) -> int:
        return sum(self.pool.functions.deficit(a).call() for a in self.assets)


def seed(w3_url: str, deployment: Deployment, accounts: list[str], plans: list[BorrowerPlan]) -> list[str]:
    """The planned positions through the shared seeder (`scripts/population.py`): the supplier's
    liquidity, then every borrower's collateral and borrow. The keeper gets nothing."""
    w3 = Web3(Web3.HTTPProvider(w3_url))
    oracle = contract(w3, "PriceOracle", deployment.oracle)
    prices = {a.symbol: oracle.functions.getPrice(a.address).call() / 1e8 for a in deployment.assets}
    sizing = Sizing.of(deployment, prices)
    positions = [
        sizing.position(accounts[p.index], p.collateral, p.collateral_usd, p.debt, p.health_factor)
        for p in plans
    ]
    seeder = Seeder(seeding_web3(w3_url), deployment, accounts[SUPPLIER_INDEX])
    decimals = {a.symbol: a.decimals for a in deployment.assets}
    seeder.provide(positions, {s: int(a * 10 ** decimals[s]) for s, a in SUPPLIER_LIQUIDITY})
    seeder.seed(positions)
    return [p.borrower for p in positions]


def run_scenario(
    options: ScenarioOptions, out: Path, on_step: Callable[[StepRecord], None] | None = None
) -> ScenarioResult:
    """Runs one crash in `out` (deployment file, keeper database and log); see the module docstring."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    rng = random.Random(options.seed)
    accounts_needed = FIRST_BORROWER + options.borrowers + MARKET_ACTORS
    node = AnvilNode(accounts=accounts_needed, extra=["--block-base-fee-per-gas", "0"])
    keeper: KeeperProcess | None = None
    try:
        node.start()
        w3 = node.web3()
        accounts = w3.eth.accounts
        keeper_address = accounts[KEEPER_INDEX]
        uniswap = replace(
            MARKET_UNISWAP, depth_usd=options.pool_depth_usd, full_range_usd=options.pool_full_range_usd
        )
        plan = replace(default_plan(), uniswap=uniswap, flash_owner=keeper_address)
        if options.target_health_factor is not None:
            plan = replace(plan, target_health_factor=options.target_health_factor)
        deployment = deploy(w3, Sender(w3, address=accounts[0]), plan, network="crash").write(
            out / "deployments"
        )
        assert deployment.path is not None
        users = seed(node.url, deployment, accounts, plan_borrowers(rng, options.borrowers))
        borrowers = _Borrowers(w3, deployment, users)
        before = borrowers.health_factors()
        oracle = contract(w3, "PriceOracle", deployment.oracle)
        start = {
            a: int(oracle.functions.getPrice(deployment.asset_by_symbol(a).address).call()) for a in RISKY
        }
        path = make_path(options.shape, start, dict(options.depth_bps), options.steps, options.seed)
        actors = accounts[FIRST_BORROWER + options.borrowers :]
        market = CrashMarket.open(w3, deployment, options.market, accounts[0], actors, options.steps, start)
        log.info(
            "seeded %d borrowers in %.0f s (health factors %.3f-%.3f); %s crash over %d blocks",
            len(users),
            time.time() - started,
            min(before.values()) / 1e18,
            max(before.values()) / 1e18,
            options.shape,
            options.steps,
        )

        if options.twap_guard:
            install_twap_guard(
                w3,
                Sender(w3, address=accounts[0]),
                deployment,
                window=options.twap_window,
                block_time=ANVIL_MIN_BLOCK_INTERVAL,
                max_deviation_bps=options.twap_max_deviation_bps,
            )

        w3.provider.make_request("evm_setAutomine", [False])
        answer = w3.provider.make_request("evm_setIntervalMining", [options.block_time])
        if answer.get("error"):
            raise RuntimeError(f"anvil refused interval mining: {answer['error']}")
        flags = [
            "--poll-interval",
            "0.05",
            "--mode",
            "flash",
            "--clear-dust-and-deficits",
            *options.keeper_flags,
        ]
        keeper = KeeperProcess(node.url, deployment.path, out, dev_key(KEEPER_INDEX), flags)
        keeper.start()
        first = w3.eth.block_number

        def settled(_: StepRecord) -> bool:
            if not keeper.running():
                raise RuntimeError(f"the keeper stopped; see {out / 'keeper.log'}")
            pending = keeper.metric("liqkeeper_pending_transactions") or 0
            return pending == 0 and borrowers.liquidatable() == 0 and borrowers.deficits() == 0

        timeline = run_crash(
            market, path, settled=settled, max_extra_blocks=options.max_extra_blocks, on_step=on_step
        )
        last = w3.eth.block_number
        code = keeper.stop()
        keeper = None
        if code != 0:
            raise RuntimeError(f"the keeper exited with {code}; see {out / 'keeper.log'}")
        observer = Observer(node.url, deployment.path)
        observation = observer.observe(first, last, watch=[keeper_address])
        mismatches = [str(d) for d in records_mismatch(observation, out / "keeper.sqlite", keeper_address)]
        delays = [str(d) for d in delay_mismatch(observation, out / "keeper.sqlite", keeper_address)]
        addresses = {a.address: a for a in deployment.assets}
        symbols = {a: info.symbol for a, info in addresses.items()}
        decimals = {a: info.decimals for a, info in addresses.items()}
        end_prices = {a: price for (a, _), price in observer.prices(addresses, [last]).items()}
        weth = deployment.asset_by_symbol("WETH").address
        triggers = trigger_blocks(observation)
        trigger_prices = (
            observer.prices({a for a, _ in triggers}, {b for _, b in triggers}) if triggers else {}
        )
        rows = liquidation_rows(
            observation, timeline, symbols, decimals, trigger_prices, end_prices[weth] / 1e8
        )
        fund = observer.fund_value_usd(deployment.fee_receiver, list(range(first, last + 1)))
        return ScenarioResult(
            options=options,
            deployment=deployment,
            keeper=keeper_address,
            first_block=first,
            last_block=last,
            observation=observation,
            figures=figures(observation, keeper=keeper_address),
            rows=rows,
            run=run_figures(rows, observation, timeline, fund, end_prices, decimals),
            timeline=timeline,
            records=keeper_records(out / "keeper.sqlite"),
            mismatches=mismatches,
            delay_mismatches=delays,
            fund_usd=fund,
            health_before=before,
            health_after=borrowers.health_factors(),
            path=path,
            wall_seconds=round(time.time() - started, 1),
        )
    finally:
        if keeper is not None:
            keeper.stop(timeout=10)
        node.stop()
