"""Thousands of borrowers on an Anvil node, fast: the keeper benchmarks need 10,000 real positions,
and four transactions per borrower through web3.py would take minutes.

Every borrower is an address of its own (no key: Anvil impersonates it). A funded supplier supplies
the collateral on the borrower's behalf (which enables it as collateral), then the borrower borrows
from its own address. Both rounds go out as JSON-RPC batches of `eth_sendTransaction` with automine
off and are mined in large blocks, then the block gas limit is put back. Every transaction's receipt
is checked: a seeding failure stops the benchmark instead of skewing it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

log = logging.getLogger(__name__)

MAX_UINT = 2**256 - 1
BATCH = 1_000
SEEDING_GAS_LIMIT = 1_000_000_000
SUPPLY_GAS = 250_000
BORROW_GAS = 400_000


@dataclass(frozen=True)
class Position:
    """One borrower: `collateral_amount` of one asset, `debt_amount` of another (token units)."""

    borrower: str
    collateral: str
    collateral_amount: int
    debt: str
    debt_amount: int


def borrower_address(namespace: int, index: int) -> str:
    """A deterministic address no key controls; `namespace` keeps populations apart."""
    return Web3.to_checksum_address(f"0x{namespace:08x}{index:032x}")


def calldata(signature: str, types: Sequence[str], args: Sequence[Any]) -> str:
    return "0x" + (function_signature_to_4byte_selector(signature) + encode(list(types), list(args))).hex()


class Rpc:
    """Raw JSON-RPC over one HTTP session: single calls and batches, errors raised."""

    def __init__(self, url: str):
        self.url = url
        self.session = requests.Session()
        self._id = 0

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        payload = []
        for method, params in calls:
            self._id += 1
            payload.append({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        answers = self.session.post(self.url, json=payload, timeout=600).json()
        by_id = {a["id"]: a for a in answers}
        results = []
        for request in payload:
            answer = by_id[request["id"]]
            if "error" in answer:
                raise RuntimeError(f"{request['method']} failed: {answer['error']}")
            results.append(answer["result"])
        return results


class Seeder:
    """Seeds positions on a deployed protocol (see `scripts/deployer.py`)."""

    def __init__(self, rpc: Rpc, pool: str, tokens: dict[str, str], supplier: str):
        self.rpc = rpc
        self.pool = pool
        self.tokens = tokens
        self.supplier = supplier

    def _send_all(self, txs: Iterable[dict[str, Any]]) -> None:
        """Sends in batches with automine off, mining each batch before the next (Anvil's pool slows
        down as it fills: 10,000 queued transactions took minutes), then checks every receipt."""
        hashes: list[str] = []
        pending: list[tuple[str, list[Any]]] = []
        blocks = 0
        for tx in txs:
            pending.append(("eth_sendTransaction", [{**tx, "gasPrice": "0x0"}]))
            if len(pending) == BATCH:
                hashes += self.rpc.batch(pending)
                blocks += self._mine_pool()
                pending = []
        if pending:
            hashes += self.rpc.batch(pending)
            blocks += self._mine_pool()
        log.info("sent %d, mined %d blocks", len(hashes), blocks)
        for start in range(0, len(hashes), BATCH):
            receipts = self.rpc.batch(
                [("eth_getTransactionReceipt", [h]) for h in hashes[start : start + BATCH]]
            )
            failed = [r["transactionHash"] for r in receipts if r is None or int(r["status"], 16) != 1]
            if failed:
                raise RuntimeError(f"{len(failed)} seeding transactions reverted, first {failed[0]}")

    def _mine_pool(self) -> int:
        """Mines until the node's pool is empty; the number of blocks."""
        mined = 0
        while int(self.rpc.call("txpool_status", [])["pending"], 16):
            self.rpc.call("evm_mine", [])
            mined += 1
        return mined

    def fund_supplier(self, amounts: dict[str, int]) -> None:
        """Mints and approves what the supplier supplies, and supplies the liquidity borrowers draw."""
        pair = ("address", "uint256")
        txs = []
        for symbol, amount in amounts.items():
            token = self.tokens[symbol]
            mint = calldata("mint(address,uint256)", pair, (self.supplier, amount))
            approve = calldata("approve(address,uint256)", pair, (self.pool, MAX_UINT))
            txs += [self._tx(self.supplier, token, mint), self._tx(self.supplier, token, approve)]
        self._with_big_blocks(lambda: self._send_all(self._numbered(txs)))

    def supply_liquidity(self, amounts: dict[str, int]) -> None:
        txs = [self._supply(symbol, amount, self.supplier) for symbol, amount in amounts.items()]
        self._with_big_blocks(lambda: self._send_all(self._numbered(txs)))

    def seed(self, positions: Sequence[Position]) -> None:
        """Supplies every collateral on behalf of its borrower, then has every borrower borrow."""

        def run() -> None:
            self.rpc.call("anvil_autoImpersonateAccount", [True])
            self._send_all(
                self._numbered(self._supply(p.collateral, p.collateral_amount, p.borrower) for p in positions)
            )
            borrow = "borrow(address,uint256)"
            self._send_all(
                {
                    **self._tx(
                        p.borrower,
                        self.pool,
                        calldata(borrow, ("address", "uint256"), (self.tokens[p.debt], p.debt_amount)),
                        BORROW_GAS,
                    ),
                    "nonce": "0x0",
                }
                for p in positions
            )
            self.rpc.call("anvil_autoImpersonateAccount", [False])

        self._with_big_blocks(run)
        log.info("seeded %d borrowers", len(positions))

    def _supply(self, symbol: str, amount: int, on_behalf_of: str) -> dict[str, Any]:
        data = calldata(
            "supply(address,uint256,address)",
            ("address", "uint256", "address"),
            (self.tokens[symbol], amount, on_behalf_of),
        )
        return self._tx(self.supplier, self.pool, data, SUPPLY_GAS)

    @staticmethod
    def _tx(sender: str, to: str, data: str, gas: int = 100_000) -> dict[str, Any]:
        return {"from": sender, "to": to, "data": data, "gas": hex(gas)}

    def _numbered(self, txs: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """The supplier's transactions with explicit consecutive nonces (they go out in one batch)."""
        nonce = int(self.rpc.call("eth_getTransactionCount", [self.supplier, "pending"]), 16)
        for offset, tx in enumerate(txs):
            yield {**tx, "nonce": hex(nonce + offset)}

    def _with_big_blocks(self, work: Any) -> None:
        """Runs `work` with automine off and a large block gas limit; restores both afterwards."""
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        limit = int(block["gasLimit"], 16)
        self.rpc.call("evm_setAutomine", [False])
        self.rpc.call("evm_setBlockGasLimit", [hex(SEEDING_GAS_LIMIT)])
        try:
            work()
        finally:
            self.rpc.call("evm_setBlockGasLimit", [hex(limit)])
            self.rpc.call("evm_mine", [])
            self.rpc.call("evm_setAutomine", [True])
