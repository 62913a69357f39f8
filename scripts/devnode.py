"""Local chain processes for the demo, the benchmarks and the keeper tests: Anvil (and Ganache 7)
on a free loopback port, started and stopped by the caller."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from eth_account import Account
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]
MNEMONIC = "test test test test test test test test test test test junk"

Account.enable_unaudited_hdwallet_features()


def dev_key(index: int) -> str:
    """Anvil's default private key number `index`."""
    acct = Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return acct.key.to_0x_hex()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def anvil_binary() -> str:
    local = ROOT / "node_modules" / ".bin" / "anvil"
    found = str(local) if local.exists() else shutil.which("anvil")
    if not found:
        raise RuntimeError("anvil not found: run `make setup`")
    return found


class AnvilNode:
    """An Anvil process the caller owns, on a free port unless one is given."""

    def __init__(
        self,
        port: int | None = None,
        block_time: float | None = None,
        extra: list[str] | None = None,
        accounts: int = 12,
    ):
        self.port = port or free_port()
        self.accounts = accounts
        self.block_time = block_time
        self.extra = extra or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            anvil_binary(),
            "--port",
            str(self.port),
            "--accounts",
            str(self.accounts),
            "--silent",
            "--gas-limit",
            "30000000",
            *self.extra,
        ]
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        self._launch(cmd, "anvil", timeout=20)

    def _launch(self, cmd: list[str], name: str, timeout: float) -> None:
        """Starts the process and waits until its RPC answers."""
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ}
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 1})).is_connected():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def web3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 10}))


class GanacheNode(AnvilNode):
    """Ganache 7 with the Shanghai hardfork (the EVM the contracts target) and Anvil's mnemonic,
    so the same test keys work on both nodes."""

    def start(self) -> None:
        local = ROOT / "node_modules" / ".bin" / "ganache"
        cmd = [
            str(local),
            "--server.port",
            str(self.port),
            "--hardfork",
            "shanghai",
            "--chain.chainId",
            "1337",
            "--wallet.totalAccounts",
            str(self.accounts),
            "--wallet.mnemonic",
            MNEMONIC,
            "--miner.blockGasLimit",
            "30000000",
            "--logging.quiet",
        ]
        self._launch(cmd, "ganache", timeout=60)
