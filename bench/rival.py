"""A rival liquidator for the benchmarks (issue 15): imports nothing from `keeper/`.

Every block it reads every borrower's health factor through the lens (borrowers from the pool's
`Borrow` logs, as the observer finds them) and sends a plain `liquidate(collateral, debt, user,
max, false)` with a fixed 5 gwei priority fee for every account it sees liquidatable, once per
account until that account is seen healthy again. The pair is the account's first collateral and
first debt reserve (the lens's `getPositions` bitmap). Its debt tokens and approvals are set up by
the bench beforehand.

    python bench/rival.py --rpc-url URL --deployment FILE   (key in RIVAL_PRIVATE_KEY)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from web3 import Web3  # noqa: E402

from bench.observer import WAD, Observer  # noqa: E402

log = logging.getLogger("bench.rival")

TIP_WEI = 5 * 10**9
LIQUIDATION_GAS = 1_500_000
MAX_UINT = 2**256 - 1


class Rival:
    def __init__(self, rpc_url: str, deployment: Path, key: str):
        self.observer = Observer(rpc_url, deployment)
        self.w3 = self.observer.w3
        self.account = Account.from_key(key)
        self.reserves = list(self.observer.pool.functions.getReservesList().call())
        self.sent: set[str] = set()
        self.users: dict[str, None] = {}
        self.scanned = self.observer.deployment.deploy_block - 1
        self.nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
        self.chain_id = self.w3.eth.chain_id

    def step(self, block: int) -> None:
        if block > self.scanned:
            for entry in self.observer.pool.events.Borrow.get_logs(
                from_block=self.scanned + 1, to_block=block
            ):
                self.users.setdefault(Web3.to_checksum_address(entry["args"]["user"]), None)
            self.scanned = block
        users = list(self.users)
        if not users:
            return
        hfs = self.observer.health_factors(users, [block])[block]
        liquidatable = [u for u, hf in hfs.items() if hf is not None and hf < WAD]
        self.sent &= set(liquidatable)
        fresh = [u for u in liquidatable if u not in self.sent]
        if not fresh:
            return
        configs = self.observer.lens.functions.getPositions(fresh).call(block_identifier=block)[0]
        base_fee = int(self.w3.eth.get_block(block).get("baseFeePerGas") or 0)
        for user, config in zip(fresh, configs, strict=True):
            pair = self._pair(int(config))
            if pair is None:
                continue
            tx = self.observer.pool.functions.liquidate(
                pair[0], pair[1], user, MAX_UINT, False
            ).build_transaction(
                {
                    "from": self.account.address,
                    "nonce": self.nonce,
                    "gas": LIQUIDATION_GAS,
                    "maxPriorityFeePerGas": TIP_WEI,
                    "maxFeePerGas": 2 * base_fee + TIP_WEI,
                    "chainId": self.chain_id,
                }
            )
            signed = self.account.sign_transaction(tx)
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
            self.nonce += 1
            self.sent.add(user)
            log.info("rival sent liquidate user=%s block=%d", user, block)

    def _pair(self, config: int) -> tuple[str, str] | None:
        collateral = [a for i, a in enumerate(self.reserves) if config >> (2 * i + 1) & 1]
        debt = [a for i, a in enumerate(self.reserves) if config >> (2 * i) & 1]
        return (collateral[0], debt[0]) if collateral and debt else None

    def run(self, poll: float) -> None:
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        last = -1
        while not stopping:
            head = self.w3.eth.block_number
            if head != last:
                last = head
                try:
                    self.step(head)
                except Exception as exc:  # a failed read or send is retried next block
                    log.warning("rival step failed at block %d: %s", head, exc)
            time.sleep(poll)


class RivalProcess:
    """bench/rival.py as a child process (Anvil account INDEX)."""

    INDEX = 3

    def __init__(self, rpc_url: str, deployment: Path, out: Path, key: str):
        self.args = [
            sys.executable,
            str(Path(__file__)),
            "--rpc-url",
            rpc_url,
            "--deployment",
            str(deployment),
        ]
        self.key = key
        self.log_path = out / "rival.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as logfile:
            self.proc = subprocess.Popen(
                self.args,
                env={**os.environ, "RIVAL_PRIVATE_KEY": self.key},
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--deployment", type=Path, required=True)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    key = os.environ.get("RIVAL_PRIVATE_KEY")
    if not key:
        print("rival: RIVAL_PRIVATE_KEY is not set", file=sys.stderr)
        return 2
    Rival(args.rpc_url, args.deployment, key).run(args.poll_interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
