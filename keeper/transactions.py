"""What goes in and out of the dispatcher: the intents callers hand it, the typed outcome of each
(sent, dry run, refused with a reason, no funds), the transactions that reached a final state, EIP-1559
fees, and how the node's refusals are classified."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import rlp
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractFunction

from keeper.rpc_batch import RawCall
from keeper.store import TxRecord

#: Kinds of transaction; the dispatcher sizes each kind's gas limit and fee budget its own way.
LIQUIDATE = "liquidate"
SETTLE = "settle"
APPROVE = "approve"
FILL = "fill"
WITHDRAW = "withdraw"


class Memo(Protocol):
    """A note an intent's owner keeps with its transaction: the dispatcher stores it under `key` in
    the commit that stores the signed transaction (before anything leaves), rendered with the time
    the batch was signed."""

    @property
    def key(self) -> str: ...

    def render(self, signed_ms: int) -> str: ...


@dataclass(frozen=True)
class Intent:
    """What a caller asks the dispatcher to send. `key` names what it does (e.g.
    `liquidate:user:collateral:debt`, stored as the transaction's `intent`); `expected_gas` is the
    simulated estimate; `budget_wei` the most its fees may cost, which the dispatcher may raise to
    what its kind needs."""

    kind: str
    key: str
    call: ContractFunction | RawCall
    expected_gas: int
    budget_wei: int = 0
    memo: Memo | None = None


@dataclass(frozen=True)
class Send:
    """One transaction sized to send: what it is for, its call, its gas limit and the most its fees
    may cost (replacements stop there)."""

    intent: str
    call: ContractFunction | RawCall
    gas_limit: int
    budget_wei: int
    value: int = 0
    memo: Memo | None = None
    fees: Fees | None = None  # its own fees (a liquidation's bid), else its batch's


@dataclass(frozen=True)
class Sent:
    """Signed, stored and accepted by the node; `at_ms` is when its batch was signed."""

    key: str
    record: TxRecord
    at_ms: int


@dataclass(frozen=True)
class DryRun:
    """Simulated and sized, not signed (dry run, or no key)."""

    key: str
    gas_limit: int
    at_ms: int


@dataclass(frozen=True)
class Refused:
    """The node kept refusing it after the retries; nothing of it is pending."""

    key: str
    reason: str
    at_ms: int


@dataclass(frozen=True)
class NoFunds:
    """The keeper's ETH cannot pay its worst-case gas (our count, or the node's)."""

    key: str
    reason: str
    at_ms: int


@dataclass(frozen=True)
class Outbid:
    """Not sent: a rival's pending liquidation of the same account tips more than the bounds let
    this one bid, so it would only pay for a revert."""

    key: str
    reason: str
    at_ms: int


Dispatched = Sent | DryRun | Refused | NoFunds | Outbid


@dataclass(frozen=True)
class Finished:
    """A transaction that reached a final state in a poll (mined, failed or dropped), and when its
    receipt was read (ms)."""

    record: TxRecord
    receipt: Any | None
    seen_ms: int


@dataclass(frozen=True)
class Fees:
    """EIP-1559 fees, or a legacy gas price (`legacy`, with `max_fee` the gas price)."""

    max_fee: int
    tip: int
    legacy: bool

    def bumped(self, factor: Decimal) -> Fees:
        return Fees(
            max_fee=math.ceil(self.max_fee * factor) + 1,
            tip=math.ceil(self.tip * factor) + 1 if not self.legacy else 0,
            legacy=self.legacy,
        )

    def at_least(self, other: Fees) -> Fees:
        return Fees(max(self.max_fee, other.max_fee), max(self.tip, other.tip), self.legacy)


def decode_call(raw: str) -> tuple[str, str, int]:
    """The `to` address, calldata and value of a signed transaction (typed or legacy)."""
    payload = bytes.fromhex(raw[2:] if raw.startswith("0x") else raw)
    if payload[0] < 0x7F:  # EIP-2718 typed transaction
        fields = TypedTransaction.from_bytes(HexBytes(payload)).as_dict()
        to, data, value = fields["to"], fields["data"], fields["value"]
    else:
        # [nonce, gasPrice, gas, to, value, data, v, r, s]
        items = rlp.decode(payload)
        to, data, value = items[3], items[5], int.from_bytes(items[4], "big")
    return Web3.to_checksum_address(to), Web3.to_hex(data), int(value)


class NodeRejected(Exception):
    """The node refused a raw transaction; `kind` classifies why."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


#: Refusals that mean another transaction holds the nonce: the send moves to a fresh one.
NONCE_TAKEN = frozenset({"nonce_too_low", "replacement_underpriced"})


def rejection(response: dict[str, Any]) -> NodeRejected | None:
    """The node's refusal in an `eth_sendRawTransaction` response; None when it took the
    transaction (or already had it)."""
    error = response.get("error")
    if error is None:
        return None
    message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
    kind = classify(message)
    return None if kind == "already_known" else NodeRejected(kind, message)


def classify(message: str) -> str:
    text = message.lower()
    if "nonce too low" in text or "nonce is too low" in text or "old nonce" in text:
        return "nonce_too_low"
    if "underpriced" in text:
        return "replacement_underpriced"
    if "already known" in text or "known transaction" in text or "already imported" in text:
        return "already_known"
    if "insufficient funds" in text:
        return "insufficient_funds"
    if "base fee" in text and ("fee cap" in text or "max fee" in text):
        return "fee_below_base"
    return "other"
