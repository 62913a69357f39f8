"""Transactions from an account the node signs for (Anvil's unlocked or impersonated accounts), in
the two forms a block-by-block engine needs: `send` returns the hash at once, so several actors'
transactions can wait in the node's pool and be mined into the same block under interval mining;
`wait` / `transact` block until the receipt.

The node assigns nonces (Anvil counts the transactions of the account already pending), and the gas
limit is given by the caller rather than estimated: an estimate runs against the latest block, not
against the transactions queued before it in the same block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.types import TxReceipt

#: Enough for `setPrice`, `approve` and `mint`.
SMALL_TX_GAS = 150_000


class TransactionReverted(Exception):
    """A transaction was mined and reverted; the message names it."""


@dataclass(frozen=True)
class UnlockedAccount:
    """An address the node signs for, and the connection to reach it.

    @param w3 the node's connection
    @param address the account (checksummed on creation)
    @param receipt_timeout_seconds how long `wait` waits for a receipt
    @param priority_fee_wei the tip it pays per gas (with a max fee of twice the base fee above it);
        None leaves the fees to the node"""

    w3: Web3
    address: str
    receipt_timeout_seconds: float = 120.0
    priority_fee_wei: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", Web3.to_checksum_address(self.address))

    def send(self, fn: Any, gas: int) -> str:
        """Sends the contract call `fn` (a web3 ContractFunction with its arguments) now, without
        waiting for it to be mined; returns its hash as 0x-hex."""
        tx: dict[str, Any] = {"from": self.address, "gas": gas}
        if self.priority_fee_wei is not None:
            base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas") or 0)
            tx["maxPriorityFeePerGas"] = self.priority_fee_wei
            tx["maxFeePerGas"] = 2 * base_fee + self.priority_fee_wei
        return fn.transact(tx).to_0x_hex()

    def wait(self, tx_hash: str) -> TxReceipt:
        """The receipt of `tx_hash` once mined, reverted or not (`status` 0 for a revert)."""
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.receipt_timeout_seconds)

    def wait_ok(self, tx_hash: str) -> TxReceipt:
        """The receipt of `tx_hash` once mined; raises `TransactionReverted` if it reverted."""
        receipt = self.wait(tx_hash)
        if receipt["status"] != 1:
            raise TransactionReverted(f"transaction {tx_hash} from {self.address} reverted")
        return receipt

    def transact(self, fn: Any, gas: int = SMALL_TX_GAS) -> TxReceipt:
        """Sends `fn` and waits for a successful receipt."""
        return self.wait_ok(self.send(fn, gas))
