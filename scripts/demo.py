"""`make demo`: the whole product on a real local chain, start to finish.

1. Start Anvil on a free port (stopped on exit, Ctrl-C included).
2. Deploy the protocol and seed borrowers (seeded random, reproducible) over WETH, WBTC and USDC
   collateral (18, 8 and 6 decimals) and USDC and DAI debt, with health factors from 1.0 to 2.0
   and some positions near the $1,000 dust line.
3. Switch Anvil to interval mining and start `liqkeeper run` as a subprocess.
4. Replay a crash through MockPriceFeed.setPrice: WETH -40% and WBTC -35% over 30 blocks, with
   rebounds.
5. Wait until nothing is liquidatable and every deficit is settled; stop the keeper (SIGTERM).
6. Read the crash back with the independent observer (bench/observer.py): the liquidation figures
   of the chain, next to what the keeper's own records say, and every disagreement between them
   (inclusion block, amounts, outcome, winner, and the delay from the first liquidatable block).
7. Write the report directory (records, JSON summary, PNG charts) and print the summary. Exit 1,
   with one line, when the keeper's records disagree with the chain.

Run: `python scripts/demo.py [--borrowers 300] [--seed 7] [--out reports/demo]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from web3 import Web3  # noqa: E402

from bench.observer import Observer, figures  # noqa: E402
from bench.records_check import delay_mismatch, records_mismatch  # noqa: E402
from keeper.deployment import Deployment  # noqa: E402
from keeper.report import hf_distribution_chart, price_path_chart, summarize, write_records_report  # noqa: E402
from keeper.store import Store  # noqa: E402
from scripts.deployer import Sender, contract, default_plan, deploy  # noqa: E402
from scripts.devnode import AnvilNode, dev_key  # noqa: E402
from scripts.keeper_process import KeeperProcess  # noqa: E402
from scripts.population import Seeder, Sizing, seeding_web3  # noqa: E402

log = logging.getLogger("demo")

WAD = 10**18
MAX_UINT = 2**256 - 1
KEEPER_INDEX = 1
SUPPLIER_INDEX = 2
FIRST_BORROWER = 3
COLLATERAL_CHOICES = (("WETH", 0.45), ("WBTC", 0.35), ("USDC", 0.20))
CRASH = {"WETH": 0.40, "WBTC": 0.35}  # peak-to-trough fall over the crash
SUPPLIER_LIQUIDITY = (("USDC", 60_000_000), ("DAI", 60_000_000), ("WETH", 5_000))  # tokens


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


def crash_path(rng: random.Random, start: dict[str, float], blocks: int = 30) -> list[dict[str, float]]:
    """Per block, prices falling to (1 - CRASH) of the start with rebounds of a few percent; WBTC also
    gaps down 30% in one block at block 12 (a flash crash), which is what creates deficits."""
    path = []
    for t in range(1, blocks + 1):
        step: dict[str, float] = {}
        for symbol, fall in CRASH.items():
            trend = 1 - fall * (t / blocks) ** 0.8
            rebound = 0.025 * math.sin(t * 1.3) + rng.uniform(-0.01, 0.01)
            level = max(trend + rebound * (t < blocks), 1 - fall)
            if symbol == "WBTC" and 12 <= t < 22:
                level = min(level, 0.58 + 0.005 * (t - 12))
            step[symbol] = start[symbol] * level
        path.append(step)
    return path


class Chain:
    """Transactions from Anvil's unlocked accounts, without waiting for each receipt."""

    def __init__(self, w3: Web3, url: str, deployment: Deployment):
        self.w3 = w3
        self.url = url
        self.deployment = deployment
        self.pool = contract(w3, "LendingPool", deployment.pool)
        self.lens = contract(w3, "LiquidationLens", deployment.lens)
        self.tokens = {a.symbol: contract(w3, "MockERC20", a.address) for a in deployment.assets}
        self.feeds = {a.symbol: contract(w3, "MockPriceFeed", a.feed) for a in deployment.assets}
        self.decimals = {a.symbol: a.decimals for a in deployment.assets}

    def send(self, sender: str, fn: Any, gas: int = 600_000) -> Any:
        return fn.transact({"from": sender, "gas": gas})

    def units(self, symbol: str, amount: float) -> int:
        return int(amount * 10 ** self.decimals[symbol])

    def health_factors(self, users: list[str]) -> dict[str, int]:
        result: dict[str, int] = {}
        for start in range(0, len(users), 500):
            chunk = users[start : start + 500]
            result.update(zip(chunk, self.lens.functions.getHealthFactors(chunk).call(), strict=True))
        return result


def seed(chain: Chain, plans: list[BorrowerPlan], prices: dict[str, float]) -> list[str]:
    """The planned positions through the shared seeder (`scripts/population.py`): the supplier's
    liquidity, the keeper's debt tokens, then every borrower's collateral and borrow."""
    accounts = chain.w3.eth.accounts
    sizing = Sizing.of(chain.deployment, prices)
    positions = [
        sizing.position(accounts[p.index], p.collateral, p.collateral_usd, p.debt, p.health_factor)
        for p in plans
    ]
    seeder = Seeder(seeding_web3(chain.url), chain.deployment, accounts[SUPPLIER_INDEX])
    liquidity = {s: chain.units(s, a) for s, a in SUPPLIER_LIQUIDITY}
    seeder.provide(positions, liquidity)
    seeder.mint(accounts[KEEPER_INDEX], {s: chain.units(s, 30_000_000) for s in ("USDC", "DAI")})
    seeder.seed(positions)
    return [p.borrower for p in positions]


def wait_for_block(w3: Web3, after: int, timeout: float = 30) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        number = w3.eth.block_number
        if number > after:
            return number
        time.sleep(0.05)
    raise RuntimeError("the node stopped producing blocks")


@dataclass(frozen=True)
class DemoOptions:
    borrowers: int = 300
    seed: int = 7
    block_time: int = 2  # seconds per block during the crash
    out: Path = ROOT / "reports" / "demo"
    settle_timeout: float = 120  # seconds to wait, after the crash, for nothing left to do


def run(args: argparse.Namespace) -> int:
    """The demo as `make demo` runs it: the crash, the summary printed, and exit 1 with one line when
    the keeper's records disagree with the chain."""
    summary = crash_demo(DemoOptions(args.borrowers, args.seed, args.block_time, args.out))
    print(render_summary(summary))
    return verdict(summary, args.out)


def verdict(summary: dict[str, Any], out: Path) -> int:
    """0 when the keeper's records agree with the chain (the independent observer); else 1, with one
    line saying where the disagreements are listed."""
    observed = summary["observer"]
    disagreeing = observed["records_mismatch"] + observed["delay_mismatch"]
    if not disagreeing:
        return 0
    log.error(
        "the keeper's records disagree with the chain: %d field(s) of its liquidations, %d delay(s); "
        "see observer.records_mismatch_examples in %s",
        observed["records_mismatch"],
        observed["delay_mismatch"],
        out / "summary.json",
    )
    return 1


def crash_demo(opts: DemoOptions) -> dict[str, Any]:
    """Steps 1 to 7 of the module docstring; the summary (also written to `out/summary.json`)."""
    out: Path = opts.out
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(opts.seed)
    started = time.time()
    node = AnvilNode(accounts=FIRST_BORROWER + opts.borrowers, extra=["--block-base-fee-per-gas", "0"])
    keeper: KeeperProcess | None = None
    try:
        node.start()
        w3 = node.web3()
        log.info("anvil on %s (%d accounts)", node.url, FIRST_BORROWER + opts.borrowers)
        sender = Sender(w3, address=w3.eth.accounts[0])
        deployment = deploy(w3, sender, default_plan(), network="demo").write(out / "deployments")
        path = deployment.path
        chain = Chain(w3, node.url, deployment)
        prices = {s: chain.feeds[s].functions.latestAnswer().call() / 1e8 for s in chain.feeds}
        log.info(
            "deployed pool %s; seeding %d borrowers (seed %d)", deployment.pool, opts.borrowers, opts.seed
        )
        plans = plan_borrowers(rng, opts.borrowers)
        users = seed(chain, plans, prices)
        before = chain.health_factors(users)
        log.info(
            "seeded in %.0f s: %d borrowers, health factors %.3f-%.3f",
            time.time() - started,
            len(users),
            min(before.values()) / 1e18,
            max(before.values()) / 1e18,
        )

        w3.provider.make_request("evm_setAutomine", [False])
        answer = w3.provider.make_request("evm_setIntervalMining", [opts.block_time])
        if answer.get("error"):
            raise RuntimeError(f"anvil refused interval mining: {answer['error']}")
        keeper = KeeperProcess(
            node.url,
            path,
            out,
            dev_key(KEEPER_INDEX),
            ["--poll-interval", "0.05", "--clear-dust-and-deficits"],
        )
        keeper.start()
        log.info(
            "keeper running (metrics on 127.0.0.1:%d); crash begins, %g s blocks",
            keeper.metrics_port,
            opts.block_time,
        )

        owner = w3.eth.accounts[0]
        price_path: list[dict[str, Any]] = []
        block = w3.eth.block_number
        crash_from = block
        for step in crash_path(rng, prices):
            for symbol, price in step.items():
                chain.send(owner, chain.feeds[symbol].functions.setPrice(round(price * 1e8)), gas=100_000)
            block = wait_for_block(w3, block)
            price_path.append({"block": block, **step})
            liquidated = keeper.metric("liqkeeper_liquidations_total") or 0
            log.info(
                "block %d  WETH $%.0f  WBTC $%.0f  liquidations mined %d",
                block,
                step["WETH"],
                step["WBTC"],
                liquidated,
            )

        quiet = 0
        deadline = time.time() + opts.settle_timeout
        while quiet < 3 and time.time() < deadline:
            if not keeper.running():
                raise RuntimeError(f"the keeper stopped; see {out / 'keeper.log'}")
            block = wait_for_block(w3, block)
            open_accounts = sum(1 for hf in chain.health_factors(users).values() if hf < WAD)
            deficits = sum(chain.pool.functions.deficit(t.address).call() for t in chain.tokens.values())
            pending = keeper.metric("liqkeeper_pending_transactions") or 0
            quiet = quiet + 1 if open_accounts == 0 and deficits == 0 and pending == 0 else 0
            log.info(
                "block %d  liquidatable %d  unsettled deficit %s  pending tx %d",
                block,
                open_accounts,
                "yes" if deficits else "no",
                pending,
            )
        crash_to = w3.eth.block_number
        code = keeper.stop()
        keeper = None
        if code != 0:
            raise RuntimeError(f"the keeper exited with {code}; see {out / 'keeper.log'}")
        chain_truth = observe(node.url, path, crash_from, crash_to, w3.eth.accounts[KEEPER_INDEX], out)

        after = chain.health_factors(users)
        store = Store(out / "keeper.sqlite")
        records = store.liquidations()
        store.close()
        settled = settled_deficits(w3, chain, deployment.deploy_block)
        text = write_records_report(records, out)
        price_path_chart(price_path, records, out / "price_path.png")
        hf_distribution_chart(before, after, out / "health_factors.png")
        summary = summarize(records)
        summary["observer"] = chain_truth
        summary.update(
            {
                "borrowers": len(users),
                "seed": opts.seed,
                "liquidatable_at_end": sum(1 for hf in after.values() if hf < WAD),
                "deficits_settled_usd": settled,
                "blocks": len(price_path),
                "block_time_seconds": opts.block_time,
                "wall_seconds": round(time.time() - started, 1),
            }
        )
        (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (out / "price_path.json").write_text(json.dumps(price_path, indent=2) + "\n")
        log.info("report in %s (records.json, summary.json, table.txt, *.png)", out)
        del text
        return summary
    finally:
        if keeper is not None:
            keeper.stop(timeout=10)
        node.stop()


def observe(url: str, deployment: Path, first: int, last: int, keeper: str, out: Path) -> dict[str, Any]:
    """The independent observer's figures over the crash (bench/observer.py) and the disagreements
    of the keeper's records with it."""
    obs = Observer(url, deployment).observe(first, last, watch=[keeper])
    result = figures(obs, keeper=keeper)
    mismatches = [str(d) for d in records_mismatch(obs, out / "keeper.sqlite", keeper)]
    delays = [str(d) for d in delay_mismatch(obs, out / "keeper.sqlite", keeper)]
    for line in (mismatches + delays)[:10]:
        log.warning("keeper record disagrees with the chain: %s", line)
    result["records_mismatch"] = len(mismatches)
    result["delay_mismatch"] = len(delays)
    result["records_mismatch_examples"] = (mismatches + delays)[:20]
    result["liquidations"] = len(obs.liquidations)
    result["debt_repaid_usd"] = round(sum(liq.debt_repaid_usd for liq in obs.liquidations), 2)
    result["collateral_seized_usd"] = round(sum(liq.collateral_seized_usd for liq in obs.liquidations), 2)
    result["blocks"] = [first, last]
    return result


def settled_deficits(w3: Web3, chain: Chain, from_block: int) -> float:
    """USD value of DeficitCovered and DeficitSocialized since deployment."""
    total = 0.0
    price = {t.address: chain.feeds[s].functions.latestAnswer().call() for s, t in chain.tokens.items()}
    symbol = {t.address: s for s, t in chain.tokens.items()}
    for event in (chain.pool.events.DeficitCovered, chain.pool.events.DeficitSocialized):
        for entry in event().get_logs(from_block=from_block):
            asset = entry["args"]["asset"]
            total += entry["args"]["amount"] * price[asset] / 1e8 / 10 ** chain.decimals[symbol[asset]]
    return round(total, 2)


def render_summary(s: dict[str, Any]) -> str:
    def fmt(value: Any, unit: str = "") -> str:
        if value is None:
            return "n/a"
        return f"{value:,}{unit}" if isinstance(value, int) else f"{value:,.2f}{unit}"

    o = s["observer"]
    share, own_share = o["next_block_share"], s["next_block_share"]
    bonus_pct = None if s["bonus_bps_mean"] is None else (s["bonus_bps_mean"] - 10_000) / 100

    def pct(value: float | None) -> str:
        return fmt(None if value is None else 100 * value, "%")

    rows = [
        ("borrowers seeded", str(s["borrowers"])),
        ("chain (independent observer):", ""),
        ("  accounts liquidatable", str(o["accounts_liquidatable"])),
        ("  accounts liquidated", str(o["accounts_liquidated"])),
        ("  liquidation episodes", str(o["episodes"])),
        ("  liquidations (all liquidators)", str(o["liquidations"])),
        ("  first liquidation by the keeper", pct(o["races_won_share"])),
        ("  keeper txs reverted (gas)", f"{o['keeper_reverted_txs']} ({fmt(o['keeper_reverted_gas'])})"),
        ("  debt repaid", "$" + fmt(o["debt_repaid_usd"])),
        ("  collateral seized (inclusion prices)", "$" + fmt(o["collateral_seized_usd"])),
        ("  liquidated in the next block", pct(share)),
        ("  liquidated within 5 blocks", pct(o["liquidated_within_5_blocks_share"])),
        ("  delay blocks p50 / p95", f"{fmt(o['latency_blocks_p50'])} / {fmt(o['latency_blocks_p95'])}"),
        ("  still liquidatable at the end", str(o["still_liquidatable"])),
        ("  assets with unsettled deficit", str(o["deficits_unsettled"])),
        ("  keeper records disagreeing", f"{o['records_mismatch']} (delays: {o['delay_mismatch']})"),
        ("keeper's own records:", ""),
        ("  accounts liquidated", f"{s['accounts_liquidated']} ({s['liquidations']} liquidations)"),
        ("  sent but reverted / lost", f"{s['reverted']} / {s['lost_to_competitors']}"),
        ("  debt repaid", "$" + fmt(s["debt_repaid_usd"])),
        ("  collateral seized", "$" + fmt(s["collateral_seized_usd"])),
        ("  bonus paid", f"${fmt(s['bonus_paid_usd'])} (mean bonus {fmt(bonus_pct, '%')})"),
        ("  protocol fees to insurance fund", "$" + fmt(s["protocol_fees_usd"])),
        ("  deficits reported", f"{s['deficits_reported']} (${fmt(s['deficit_usd'])})"),
        ("  mined in the block after update", pct(own_share)),
        ("  delay blocks p50 / p95", f"{fmt(s['delay_blocks_p50'])} / {fmt(s['delay_blocks_p95'])}"),
        ("  delay ms p50 / p95", f"{fmt(s['delay_wall_ms_p50'])} / {fmt(s['delay_wall_ms_p95'])}"),
        ("deficits settled", "$" + fmt(s["deficits_settled_usd"])),
        ("still liquidatable at the end", str(s["liquidatable_at_end"])),
        ("wall time", f"{s['wall_seconds']} s"),
    ]
    return "\n".join(["", "liqengine demo summary", *(f"  {label:38} {value}" for label, value in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--borrowers", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--block-time", type=int, default=2, help="seconds per block during the crash")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "demo")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("scripts.deployer").setLevel(logging.WARNING)
    logging.getLogger("scripts.population").setLevel(logging.WARNING)
    try:
        return run(args)
    except KeyboardInterrupt:
        log.info("interrupted: node and keeper stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
