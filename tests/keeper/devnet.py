"""Test support for the keeper: a real Anvil node on a free port, the protocol deployed on it with
scripts/deployer.py, and helpers that act as borrowers and as the oracle's owner."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from scripts.deployer import Deployment, Sender, contract, default_plan, deploy, write_deployment

ROOT = Path(__file__).resolve().parents[2]
MNEMONIC = "test test test test test test test test test test test junk"
MAX_UINT = 2**256 - 1

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
    """An Anvil process this test owns; `kill` and `restart` simulate an outage (state is kept
    through --state dumps)."""

    def __init__(
        self,
        port: int | None = None,
        block_time: float | None = None,
        extra: list[str] | None = None,
    ):
        self.port = port or free_port()
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
            "12",
            "--silent",
            "--gas-limit",
            "30000000",
            *self.extra,
        ]
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ}
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 1})).is_connected():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"anvil did not start on port {self.port}")

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
            "12",
            "--wallet.mnemonic",
            MNEMONIC,
            "--miner.blockGasLimit",
            "30000000",
            "--logging.quiet",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 1})).is_connected():
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"ganache did not start on port {self.port}")


@dataclass
class Devnet:
    """A deployed protocol with helpers. Borrowers are Anvil's unlocked accounts 1..;
    account 0 deploys and owns the feeds; the keeper uses its own key (account 10)."""

    w3: Web3
    deployment: Deployment
    deployment_path: Path
    owner: Sender

    @classmethod
    def create(cls, node: AnvilNode, directory: Path) -> Devnet:
        w3 = node.web3()
        owner = Sender(w3, address=w3.eth.accounts[0])
        deployment = deploy(w3, owner, default_plan(), network="anvil-test")
        path = write_deployment(deployment, directory)
        return cls(w3=w3, deployment=deployment, deployment_path=path, owner=owner)

    def token(self, symbol: str) -> Any:
        return contract(self.w3, "MockERC20", self.deployment.assets[symbol]["address"])

    def feed(self, symbol: str) -> Any:
        return contract(self.w3, "MockPriceFeed", self.deployment.assets[symbol]["feed"])

    @property
    def pool(self) -> Any:
        return contract(self.w3, "LendingPool", self.deployment.pool)

    def units(self, symbol: str, amount: float) -> int:
        return round(amount * 10 ** self.deployment.assets[symbol]["decimals"])

    def sender(self, address: str) -> Sender:
        return Sender(self.w3, address=address)

    def fund(self, address: str, symbol: str, amount: int) -> None:
        self.owner.transact(self.token(symbol).functions.mint(address, amount))

    def supply(self, user: str, symbol: str, amount: int) -> None:
        s = self.sender(user)
        token = self.token(symbol)
        s.transact(token.functions.mint(user, amount))
        s.transact(token.functions.approve(self.deployment.pool, MAX_UINT))
        s.transact(self.pool.functions.supply(token.address, amount, user))

    def borrow(self, user: str, symbol: str, amount: int) -> None:
        self.sender(user).transact(self.pool.functions.borrow(self.token(symbol).address, amount))

    def set_price(self, symbol: str, price_usd: float) -> int:
        """Publishes a price; returns the block it landed in."""
        receipt = self.owner.transact(self.feed(symbol).functions.setPrice(round(price_usd * 1e8)))
        return int(receipt["blockNumber"])

    def health_factor(self, user: str) -> int:
        return self.pool.functions.getUserAccountData(user).call()[2]

    def position(self, user: str, symbol: str) -> tuple[int, int, bool]:
        return tuple(self.pool.functions.getUserPosition(user, self.token(symbol).address).call())

    def borrower(
        self,
        index: int,
        collateral: str,
        amount: float,
        debt: str,
        hf: float,
        collateral_price: float,
        debt_price: float = 1.0,
        cf: float = 0.8,
    ) -> str:
        """Account `index` supplies `amount` of `collateral` and borrows `debt` so that its health
        factor is `hf` at the given prices."""
        user = self.w3.eth.accounts[index]
        self.supply(user, collateral, self.units(collateral, amount))
        debt_value = amount * collateral_price * cf / hf
        self.borrow(user, debt, self.units(debt, debt_value / debt_price))
        return user
