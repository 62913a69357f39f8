"""`keeper.ganache_crash_50`: the 50-account crash on Ganache 7 (node_modules `ganache`, EVM
Shanghai) with a block every 2 s, measured by the independent observer.

Ganache has no interval mining to switch on after seeding and no bulk impersonation, so the
borrowers are Ganache's own unlocked accounts, seeded one transaction at a time while it mines
each transaction at once; then its miner is stopped and a timer mines a block (`evm_mine`) every
`block_time` seconds, so pending transactions wait for the next block as on a chain."""

from __future__ import annotations

import logging
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from web3 import Web3

from bench.crash_run import CrashOptions, wait_until_cleared
from bench.observer import Observer, figures
from bench.records_check import keeper_records, records_mismatch

log = logging.getLogger("bench.ganache")

ROOT = Path(__file__).resolve().parents[1]
BORROWER_FIRST_INDEX = 4
KEEPER_INDEX, SUPPLIER_INDEX = 1, 2


class BlockTimer:
    """Mines a block every `seconds` on a node whose own miner is stopped."""

    def __init__(self, w3: Any, seconds: float):
        self.w3, self.seconds = w3, seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="block-timer", daemon=True)

    def _run(self) -> None:
        while not self.stopped.wait(self.seconds):
            self.w3.provider.make_request("evm_mine", [])

    def start(self) -> None:
        answer = self.w3.provider.make_request("miner_stop", [])
        if answer.get("error"):
            raise RuntimeError(f"ganache refused miner_stop: {answer['error']}")
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=self.seconds + 5)


def ganache_benchmark(workdir: Path, block_time: int, timeout: float, count: int = 50) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "tests" / "keeper"))
    try:
        from devnet import Devnet, GanacheNode, dev_key
    finally:
        sys.path.remove(str(ROOT / "tests" / "keeper"))
    from bench.keeper import crash_report
    from scripts.keeper_process import KeeperProcess

    out = workdir / "ganache_crash_50"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(count)
    node = GanacheNode(accounts=BORROWER_FIRST_INDEX + count)
    node.start()
    keeper: KeeperProcess | None = None
    timer: BlockTimer | None = None
    try:
        net = Devnet.create(node, out / "deployments")
        w3 = net.w3
        supplier, keeper_address = w3.eth.accounts[SUPPLIER_INDEX], w3.eth.accounts[KEEPER_INDEX]
        for symbol in ("USDC", "DAI"):
            net.supply(supplier, symbol, net.units(symbol, 50_000_000))
            net.fund(keeper_address, symbol, net.units(symbol, 50_000_000))
        started = time.perf_counter()
        victims = [
            net.borrower(
                BORROWER_FIRST_INDEX + i,
                "WETH",
                rng.uniform(5, 75),
                rng.choice(("USDC", "DAI")),
                hf=rng.uniform(1.005, 1.04),
                collateral_price=2000,
            )
            for i in range(count)
        ]
        log.info("ganache: seeded %d borrowers in %.0f s", count, time.perf_counter() - started)
        timer = BlockTimer(w3, block_time)
        timer.start()
        keeper = KeeperProcess(
            node.url, net.deployment_path, out, dev_key(KEEPER_INDEX), ["--poll-interval", "0.05"]
        )
        keeper.start(timeout=180)
        wait_for_approvals(net, keeper_address, keeper)
        head = w3.eth.block_number
        while w3.eth.block_number == head:
            time.sleep(0.02)
        update_block = net.set_price("WETH", 1900)
        slow = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 120}))
        lens = slow.eth.contract(address=net.deployment.lens, abi=_lens_abi())
        made = lens.functions.getLiquidatable(victims).call(block_identifier=update_block)[0]
        if len(made) != count:
            raise RuntimeError(f"the crash made {len(made)} accounts liquidatable, not {count}")
        log.info("ganache crash: WETH -5%% in block %d", update_block)
        wait_until_cleared(slow, lens, victims, keeper, CrashOptions(count, 0, block_time, timeout))
        end_block = w3.eth.block_number
        code = keeper.stop()
        keeper = None
        if code != 0:
            raise RuntimeError(f"the keeper exited with {code}; see {out / 'keeper.log'}")
        obs = Observer(node.url, net.deployment_path).observe(
            update_block - 1, end_block, watch=[keeper_address]
        )
        mismatches = [str(d) for d in records_mismatch(obs, out / "keeper.sqlite", keeper_address)]
        result = figures(obs, keeper=keeper_address, accounts=victims)
        result["block_time_seconds"] = block_time
        result["records_mismatch"] = len(mismatches)
        from bench.crash_run import CrashResult

        run = CrashResult(
            obs,
            result,
            mismatches,
            update_block,
            None,
            keeper_records(out / "keeper.sqlite"),
            keeper_address,
            victims,
        )
        report = crash_report(run)
        report["node"] = "ganache 7 (node_modules), hardfork shanghai, evm_mine every block_time"
        return report
    finally:
        if keeper is not None:
            keeper.stop(timeout=10)
        if timer is not None:
            timer.stop()
        node.stop()


def wait_for_approvals(net: Any, owner: str, keeper: Any, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    tokens = [net.token(a.symbol) for a in net.deployment.assets]
    while any(t.functions.allowance(owner, net.deployment.pool).call() == 0 for t in tokens):
        if not keeper.running() or time.time() > deadline:
            raise RuntimeError(f"the keeper did not approve the pool; see {keeper.log_path}")
        time.sleep(0.2)


def _lens_abi() -> list[dict[str, Any]]:
    from bench.observer import abi

    return abi("LiquidationLens")
