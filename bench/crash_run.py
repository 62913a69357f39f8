"""One crash on a fresh node, watched by `liqkeeper run` (and optionally a rival), then read back
by the independent observer (bench/observer.py): the figures every crash scenario of
`bench/keeper.py` reports, and the disagreements of the keeper's records with the chain.

The population: `liquidatable` WETH-collateral borrowers just above HF 1 among `healthy` others;
one `setPrice` drops WETH 5% and makes all of them liquidatable in one block."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.observer import Observation, Observer, figures
from bench.records_check import records_mismatch

log = logging.getLogger("bench.crash")

#: Wraps the node's URL for the keeper (e.g. a fault-injecting proxy); yields the URL it should use.
UrlWrapper = Callable[[str], AbstractContextManager[str]]


@dataclass
class CrashOptions:
    liquidatable: int
    healthy: int
    block_time: int
    timeout: float
    rival: bool = False  # bench/rival.py runs beside the keeper from the same start
    downtime_blocks: int = (
        0  # > 0: the keeper is stopped before the drop and restarted this many blocks after
    )
    keeper_url: UrlWrapper | None = None
    keeper_args: list[str] = field(default_factory=lambda: ["--poll-interval", "0.05"])
    flash: bool = False  # the keeper holds no debt token and liquidates with flash swaps (--mode flash)


@dataclass
class CrashResult:
    observation: Observation
    figures: dict[str, Any]
    mismatches: list[str]
    update_block: int
    restart_block: int | None
    keeper_records: list[dict[str, Any]]
    keeper_address: str
    victims: list[str]


def run_crash(workdir: Path, opts: CrashOptions) -> CrashResult:
    """Runs the crash; observes from the block before the drop to the head when the keeper stopped."""
    from bench.keeper import (  # bench/keeper.py imports this module lazily too
        CRASH_FALL,
        KEEPER_INDEX,
        PRICES,
        Chain,
        random_positions,
        wait_until_approved,
    )
    from bench.rival import RivalProcess
    from scripts.deployer import contract
    from scripts.devnode import dev_key
    from scripts.keeper_process import KeeperProcess
    from scripts.population import borrower_address

    rng = random.Random(opts.liquidatable)
    workdir.mkdir(parents=True, exist_ok=True)
    chain = Chain.start(workdir / "chain", accounts=4 + len(FLASH_ARBS), flash=opts.flash)
    keeper: KeeperProcess | None = None
    rival: RivalProcess | None = None
    try:
        victims = [
            chain.position(
                borrower_address(0xC0, i),
                "WETH",
                math.exp(rng.uniform(math.log(10_000), math.log(150_000))),
                rng.choice(("USDC", "DAI")),
                rng.uniform(1.005, 1.04),
            )
            for i in range(opts.liquidatable)
        ]
        others = random_positions(rng, chain, 0xD0, opts.healthy, (1.3, 2.0))
        w3 = chain.w3
        keeper_address = w3.eth.accounts[KEEPER_INDEX]
        rival_address = w3.eth.accounts[RivalProcess.INDEX]
        chain.fund(victims + others, keeper=None if opts.flash else keeper_address)
        arbitrageurs = open_arbitrageurs(chain) if opts.flash else []
        if opts.rival:
            chain.fund_liquidator(rival_address)
        chain.seeder.seed(victims + others)
        users = [p.borrower for p in victims]
        chain.interval_mining(opts.block_time)
        wrapper = opts.keeper_url or (lambda url: nullcontext(url))
        with wrapper(chain.node.url) as keeper_url:
            args = [*opts.keeper_args, "--mode", "flash"] if opts.flash else opts.keeper_args
            keeper = KeeperProcess(keeper_url, chain.deployment_path, workdir, dev_key(KEEPER_INDEX), args)
            keeper.start(timeout=180)
            if not opts.flash:  # a flash keeper approves nothing: its FlashLiquidator brings the debt
                wait_until_approved(chain, keeper_address, keeper, timeout=max(60, 20 * opts.block_time))
            if opts.rival:
                rival = RivalProcess(
                    chain.node.url, chain.deployment_path, workdir, dev_key(RivalProcess.INDEX)
                )
                rival.start()
            if opts.downtime_blocks:
                code = keeper.stop()
                if code != 0:
                    raise RuntimeError(f"the keeper exited with {code}; see {keeper.log_path}")
            head = w3.eth.block_number
            while w3.eth.block_number == head:  # start right after a block, as a price update would
                time.sleep(0.02)
            feed = contract(w3, "MockPriceFeed", chain.feeds["WETH"])
            price = round(PRICES["WETH"] * (1 - CRASH_FALL) * 1e8)
            tx = feed.functions.setPrice(price).transact({"from": w3.eth.accounts[0], "gas": 100_000})
            for arb in arbitrageurs:  # the pools follow in the same block
                arb.send(price)
            update_block = int(w3.eth.wait_for_transaction_receipt(tx, timeout=120)["blockNumber"])
            lens = contract(w3, "LiquidationLens", chain.lens)
            made = lens.functions.getLiquidatable(users).call(block_identifier=update_block)[0]
            if len(made) != opts.liquidatable:
                raise RuntimeError(
                    f"the crash made {len(made)} accounts liquidatable, not {opts.liquidatable}"
                )
            log.info("crash of %d: WETH -%d%% in block %d", opts.liquidatable, CRASH_FALL * 100, update_block)
            restart_block = None
            if opts.downtime_blocks:
                while w3.eth.block_number < update_block + opts.downtime_blocks:
                    time.sleep(0.1)
                restart_block = w3.eth.block_number
                keeper.start(timeout=180, fresh=False)
                log.info("keeper restarted at block %d", restart_block)
            wait_until_cleared(w3, lens, users, keeper, opts)
            end_block = w3.eth.block_number
            code = keeper.stop()
            keeper = None
            if code != 0:
                raise RuntimeError(f"the keeper exited with {code}; see {workdir / 'keeper.log'}")
        if rival is not None:
            rival.stop()
            rival = None
        observer = Observer(chain.node.url, chain.deployment_path)
        obs = observer.observe(update_block - 1, end_block, watch=[keeper_address])
        db = workdir / "keeper.sqlite"
        mismatches = [str(d) for d in records_mismatch(obs, db, keeper_address)]
        from bench.records_check import keeper_records

        records = keeper_records(db)
        result = figures(obs, keeper=keeper_address, accounts=users)
        result["block_time_seconds"] = opts.block_time
        result["records_mismatch"] = len(mismatches)
        return CrashResult(
            obs, result, mismatches, update_block, restart_block, records, keeper_address, users
        )
    finally:
        if rival is not None:
            rival.stop()
        if keeper is not None:
            keeper.stop(timeout=10)
        chain.stop()


#: The pools an arbitrageur moves to the crash's price in the block of the update (flash crash).
FLASH_ARBS = (("WETH", "USDC"), ("WETH", "DAI"))


def open_arbitrageurs(chain: Any) -> list[Any]:
    """One funded arbitrageur per WETH pool (the accounts after the keeper's, supplier's and rival's)."""
    from bench.keeper import PRICES
    from keeper.deployment import load_deployment
    from scripts.market.arbitrageur import Arbitrageur
    from scripts.market.pool_prices import UsdPool
    from scripts.market.transactions import UnlockedAccount

    deployment = load_deployment(chain.deployment_path)
    assert deployment.uniswap is not None
    arbitrageurs = []
    for i, (asset, stable) in enumerate(FLASH_ARBS):
        pool = UsdPool.of(deployment, asset, stable)
        account = UnlockedAccount(chain.w3, chain.w3.eth.accounts[4 + i], priority_fee_wei=0)
        risky = int(100_000_000 / PRICES[asset] * 10**pool.risky_decimals)  # $100M to sell
        arbitrageurs.append(Arbitrageur.open(account, deployment.uniswap.router, pool, risky, 0))
    return arbitrageurs


def wait_until_cleared(w3: Any, lens: Any, users: list[str], keeper: Any, opts: CrashOptions) -> None:
    """Until no victim is liquidatable at the head for two blocks (and one block more for the last
    receipts), or the timeout."""
    deadline = time.time() + opts.timeout
    clear_since = None
    while time.time() < deadline:
        if not keeper.running():
            raise RuntimeError(f"the keeper stopped; see {keeper.log_path}")
        try:
            head = w3.eth.block_number
            left = lens.functions.getLiquidatable(users).call(block_identifier=head)[0]
        except (OSError, requests.RequestException) as exc:  # a node too busy to answer: ask again
            log.warning("lens read failed (%s); retrying", exc)
            time.sleep(1)
            continue
        if left:
            clear_since = None
        elif clear_since is None:
            clear_since = head
        elif head >= clear_since + 2:
            return
        time.sleep(max(0.25, opts.block_time / 4))
    log.warning("crash not cleared within %.0f s", opts.timeout)
