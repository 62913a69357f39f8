"""The only place that knows nonces and fees: simulates, signs, sends, replaces stuck transactions
within a budget, classifies node errors, and follows every transaction by hash until it is mined
or replaced, across restarts (the SQLite store keeps the signed bytes)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import rlp
from eth_account.signers.local import LocalAccount
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.method_formatters import receipt_formatter
from web3.contract.contract import ContractFunction
from web3.datastructures import AttributeDict
from web3.types import RPCEndpoint

from keeper.chain import revert_reason
from keeper.errors import FundsError, SimulationError
from keeper.pool_reader import RpcCounter
from keeper.rpc_batch import RawCall, error_reason, raw_call, send_batch
from keeper.store import DROPPED, FAILED, MINED, PENDING, REPLACED, Store, TxRecord

log = logging.getLogger(__name__)

GWEI = 10**9


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


@dataclass(frozen=True)
class Outcome:
    """A transaction that reached a final state in this poll, and when its receipt was read (ms)."""

    record: TxRecord
    receipt: Any | None
    seen_ms: int


def decode_call(raw: str) -> tuple[str, str]:
    """The `to` address and calldata of a signed transaction (typed or legacy)."""
    payload = bytes.fromhex(raw[2:] if raw.startswith("0x") else raw)
    if payload[0] < 0x7F:  # EIP-2718 typed transaction
        fields = TypedTransaction.from_bytes(HexBytes(payload)).as_dict()
        to, data = fields["to"], fields["data"]
    else:
        # [nonce, gasPrice, gas, to, value, data, v, r, s]
        items = rlp.decode(payload)
        to, data = items[3], items[5]
    return Web3.to_checksum_address(to), Web3.to_hex(data)


class NodeRejected(Exception):
    """The node refused a raw transaction; `kind` classifies why."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


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
    if "fee cap" in text and "base fee" in text:
        return "fee_below_base"
    return "other"


class Dispatcher:
    def __init__(
        self,
        w3: Web3,
        account: LocalAccount | None,
        store: Store,
        rpc: RpcCounter,
        *,
        max_gas_gwei: Decimal,
        fee_bump: Decimal,
        replace_after_blocks: int,
        dry_run: bool,
        confirmations: int = 1,
        clock: Callable[[], float] = time.time,
    ):
        self.w3 = w3
        self.account = account
        self.store = store
        self.rpc = rpc
        self.max_fee_cap = int(max_gas_gwei * GWEI)
        self.fee_bump = fee_bump
        self.replace_after_blocks = replace_after_blocks
        self.dry_run = dry_run
        self.confirmations = max(1, confirmations)
        self.clock = clock
        self.chain_id = w3.eth.chain_id
        self.nonce: int | None = None
        self.replacements = 0
        self.sent = 0
        self._budget_exhausted: set[int] = set()

    @property
    def address(self) -> str | None:
        return self.account.address if self.account else None

    # nonces

    def sync_nonce(self) -> int:
        """The next nonce: the node's pending count, or past our own pending transactions."""
        assert self.account is not None
        self.rpc.add()
        node_pending = self.w3.eth.get_transaction_count(self.account.address, "pending")
        ours = [t.nonce for t in self.store.txs(PENDING)]
        self.nonce = max([node_pending, *(n + 1 for n in ours)])
        return self.nonce

    # fees

    def current_fees(self) -> Fees:
        self.rpc.add()
        block = self.w3.eth.get_block("latest")
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            self.rpc.add()
            price = min(self.w3.eth.gas_price, self.max_fee_cap)
            return Fees(max_fee=price, tip=0, legacy=True)
        tip = min(GWEI, self.max_fee_cap)
        max_fee = min(2 * base_fee + tip, self.max_fee_cap)
        return Fees(max_fee=max_fee, tip=min(tip, max_fee), legacy=False)

    # simulation

    def simulate(self, fn: ContractFunction | RawCall, sender: str) -> int:
        """eth_call then estimateGas on the exact calldata; the gas estimate, or SimulationError."""
        result = self.simulate_many([fn], sender)[0]
        if isinstance(result, SimulationError):
            raise result
        return result

    def simulate_many(
        self, fns: Sequence[ContractFunction | RawCall], sender: str
    ) -> list[int | SimulationError]:
        """`eth_call` and `eth_estimateGas` of every call's exact calldata at the latest block, all in
        one JSON-RPC batch; per call the gas estimate, or the SimulationError naming the revert.

        The latest block, not "pending": on a node holding many of our own transactions, a
        "pending" call re-executes them all first (Anvil: ~35 ms a call with 200 queued), and the
        accounts in one batch are independent, each liquidated once (in-flight intents are skipped)."""
        payload: list[tuple[str, list[Any]]] = []
        for call in map(raw_call, fns):
            tx = {"from": sender, "to": call.to, "data": call.data}
            payload += [("eth_call", [tx, "latest"]), ("eth_estimateGas", [tx, "latest"])]
        if not payload:
            return []
        self.rpc.add()
        try:
            responses = send_batch(self.w3, payload)
        except Exception as exc:
            return [SimulationError(revert_reason(exc)) for _ in fns]
        results: list[int | SimulationError] = []
        for call, estimate in zip(responses[::2], responses[1::2], strict=True):
            failed = call.get("error") or estimate.get("error")
            if failed:
                results.append(SimulationError(error_reason(failed)))
            else:
                results.append(int(estimate["result"], 16))
        return results

    # sending

    def _sign(self, fn_to: str, data: str, nonce: int, gas_limit: int, fees: Fees) -> tuple[str, str]:
        assert self.account is not None
        tx: dict[str, Any] = {
            "to": fn_to,
            "data": data,
            "value": 0,
            "gas": gas_limit,
            "nonce": nonce,
            "chainId": self.chain_id,
        }
        if fees.legacy:
            tx["gasPrice"] = fees.max_fee
        else:
            tx["maxFeePerGas"] = fees.max_fee
            tx["maxPriorityFeePerGas"] = fees.tip
            tx["type"] = 2
        signed = self.account.sign_transaction(tx)
        return Web3.to_hex(signed.hash), Web3.to_hex(signed.raw_transaction)

    def _broadcast(self, raw: str) -> None:
        """`eth_sendRawTransaction` straight through the provider: web3.py's middleware would add
        ~3 ms of validation a transaction, which a burst of hundreds of liquidations cannot spare."""
        self.rpc.add()
        try:
            response = self.w3.provider.make_request(RPCEndpoint("eth_sendRawTransaction"), [raw])
        except Exception as exc:
            raise NodeRejected(classify(str(exc)), str(exc)) from None
        error = response.get("error")
        if error is None:
            return
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        kind = classify(message)
        if kind != "already_known":
            raise NodeRejected(kind, message)

    def submit(
        self,
        kind: str,
        intent: str,
        fn: ContractFunction | RawCall,
        gas_limit: int,
        budget_wei: int,
        block: int,
        fees: Fees | None = None,
    ) -> TxRecord | None:
        """Signs and sends `fn`; returns its record, or None in dry-run mode."""
        if self.dry_run or self.account is None:
            log.info("dry_run_skip_send intent=%s gas_limit=%d", intent, gas_limit)
            return None
        if self.nonce is None:
            self.sync_nonce()
        fees = fees or self.current_fees()
        call = raw_call(fn)
        for attempt in range(3):
            assert self.nonce is not None
            tx_hash, raw = self._sign(call.to, call.data, self.nonce, gas_limit, fees)
            try:
                self._broadcast(raw)
            except NodeRejected as rejected:
                log.warning(
                    "send_rejected intent=%s nonce=%d kind=%s attempt=%d",
                    intent,
                    self.nonce,
                    rejected.kind,
                    attempt + 1,
                )
                if rejected.kind == "nonce_too_low":
                    self.sync_nonce()
                    continue
                if rejected.kind == "replacement_underpriced":
                    previous = self.nonce
                    self.sync_nonce()
                    if self.nonce == previous:
                        fees = fees.bumped(self.fee_bump)
                    continue
                if rejected.kind == "fee_below_base":
                    fees = fees.at_least(self.current_fees()).bumped(self.fee_bump)
                    continue
                if rejected.kind == "insufficient_funds":
                    raise FundsError(f"account {self.address} cannot pay gas for {intent}") from None
                raise
            record = TxRecord(
                hash=tx_hash,
                nonce=self.nonce,
                kind=kind,
                intent=intent,
                status=PENDING,
                raw=raw,
                max_fee=fees.max_fee,
                tip=fees.tip,
                gas_limit=gas_limit,
                sent_block=block,
                sent_ms=int(self.clock() * 1000),
                note=f"budget_wei={budget_wei}",
            )
            self.store.add_tx(record)
            self.nonce += 1
            self.sent += 1
            log.info(
                "tx_sent intent=%s hash=%s nonce=%d max_fee_gwei=%.3f tip_gwei=%.3f gas_limit=%d",
                intent,
                tx_hash,
                record.nonce,
                fees.max_fee / GWEI,
                fees.tip / GWEI,
                gas_limit,
            )
            return record
        log.error("send_gave_up intent=%s", intent)
        return None

    # following

    def poll(self, head: int) -> list[Outcome]:
        """Checks every pending transaction: mined with `confirmations` blocks (success or revert),
        replaced, or stuck. One read of the confirmed nonce, then one batch of receipts for the
        nonces below it only: a nonce the chain has not reached cannot have been mined."""
        pending = self.store.txs(PENDING)
        if not pending:
            return []
        by_nonce: dict[int, list[TxRecord]] = {}
        for record in pending:
            by_nonce.setdefault(record.nonce, []).append(record)
        confirmed: int | None = None
        if self.account is not None:
            self.rpc.add()
            confirmed = self.w3.eth.get_transaction_count(self.account.address, "latest")
        receipts = self._receipts(
            [r.hash for n, records in by_nonce.items() if confirmed is None or n < confirmed for r in records]
        )
        seen_ms = int(self.clock() * 1000)
        outcomes: list[Outcome] = []
        for nonce, records in sorted(by_nonce.items()):
            mined = next(((r, receipts[r.hash]) for r in records if receipts.get(r.hash) is not None), None)
            if mined is not None:
                record, receipt = mined
                if head - int(receipt["blockNumber"]) + 1 < self.confirmations:
                    continue  # included, not yet final: neither replaced nor reported
                status = MINED if receipt["status"] == 1 else FAILED
                self.store.update_tx(record.hash, status=status, mined_block=receipt["blockNumber"])
                for other in records:
                    if other.hash != record.hash:
                        self.store.update_tx(other.hash, status=REPLACED, replaced_by=record.hash)
                record.status, record.mined_block = status, receipt["blockNumber"]
                outcomes.append(Outcome(record, receipt, seen_ms))
                log.info(
                    "tx_mined hash=%s nonce=%d status=%s block=%d gas_used=%d",
                    record.hash,
                    nonce,
                    status,
                    receipt["blockNumber"],
                    receipt["gasUsed"],
                )
                continue
            if confirmed is not None and confirmed > nonce:
                # Another transaction with this nonce was mined (a clash or a forgotten replacement).
                for record in records:
                    self.store.update_tx(record.hash, status=DROPPED, note="nonce used by another tx")
                    outcomes.append(Outcome(record, None, seen_ms))
                log.warning("tx_dropped nonce=%d reason=nonce_used_elsewhere", nonce)
                continue
            latest = max(records, key=lambda r: r.sent_ms)
            if head - latest.sent_block >= self.replace_after_blocks:
                self._replace(latest, head)
        return outcomes

    def _receipts(self, hashes: list[str]) -> dict[str, Any]:
        """Receipts of `hashes` in one batch, formatted as web3.py's get_transaction_receipt does;
        None for a transaction not mined (or unknown to the node)."""
        if not hashes:
            return {}
        self.rpc.add()
        responses = send_batch(self.w3, [("eth_getTransactionReceipt", [h]) for h in hashes])
        receipts: dict[str, Any] = {}
        for tx_hash, response in zip(hashes, responses, strict=True):
            if response.get("error"):
                raise RuntimeError(f"eth_getTransactionReceipt({tx_hash}): {response['error']}")
            result = response.get("result")
            receipts[tx_hash] = AttributeDict.recursive(receipt_formatter(result)) if result else None
        return receipts

    def _budget(self, record: TxRecord) -> int:
        note = record.note or ""
        for part in note.split():
            if part.startswith("budget_wei="):
                return int(part.split("=", 1)[1])
        return 0

    def _replace(self, record: TxRecord, head: int) -> TxRecord | None:
        """Same nonce, fees up by the bump (and at least the market), never past the budget."""
        market = self.current_fees()
        old = Fees(record.max_fee, record.tip, market.legacy)
        fees = old.bumped(self.fee_bump).at_least(market)
        fees = Fees(min(fees.max_fee, self.max_fee_cap), min(fees.tip, self.max_fee_cap), fees.legacy)
        budget = self._budget(record)
        if fees.max_fee * record.gas_limit > budget or fees.max_fee <= record.max_fee:
            if record.nonce not in self._budget_exhausted:
                self._budget_exhausted.add(record.nonce)
                log.warning(
                    "replacement_skipped hash=%s nonce=%d reason=budget max_fee_gwei=%.3f budget_wei=%d",
                    record.hash,
                    record.nonce,
                    fees.max_fee / GWEI,
                    budget,
                )
            self._rebroadcast(record)
            return None
        to, data = decode_call(record.raw)
        tx_hash, raw = self._sign(to, data, record.nonce, record.gas_limit, fees)
        try:
            self._broadcast(raw)
        except NodeRejected as rejected:
            log.warning("replacement_rejected hash=%s kind=%s", record.hash, rejected.kind)
            return None
        replacement = TxRecord(
            hash=tx_hash,
            nonce=record.nonce,
            kind=record.kind,
            intent=record.intent,
            status=PENDING,
            raw=raw,
            max_fee=fees.max_fee,
            tip=fees.tip,
            gas_limit=record.gas_limit,
            sent_block=head,
            sent_ms=int(self.clock() * 1000),
            note=record.note,
        )
        self.store.add_tx(replacement)
        self.store.update_tx(record.hash, status=REPLACED, replaced_by=tx_hash)
        self.replacements += 1
        log.info(
            "tx_replaced old=%s new=%s nonce=%d max_fee_gwei=%.3f tip_gwei=%.3f",
            record.hash,
            tx_hash,
            record.nonce,
            fees.max_fee / GWEI,
            fees.tip / GWEI,
        )
        return replacement

    def _rebroadcast(self, record: TxRecord) -> None:
        try:
            self._broadcast(record.raw)
        except NodeRejected:
            pass

    def reopen(self, records: list[TxRecord], head: int) -> None:
        """Transactions a reorg took off chain: broadcast their signed bytes again (same hash and
        nonce; a node may have dropped them) and count the blocks before a replacement from `head`."""
        for record in records:
            self.store.update_tx(record.hash, sent_block=head)
            self._rebroadcast(record)
            log.info("tx_reopened hash=%s nonce=%d intent=%s", record.hash, record.nonce, record.intent)

    def recover(self, head: int) -> list[Outcome]:
        """On startup: finish our own pending transactions (receipts, or rebroadcast the raw bytes
        a restarted node may have forgotten), then sync the nonce past them."""
        outcomes = self.poll(head)
        for record in self.store.txs(PENDING):
            self._rebroadcast(record)
            log.info("tx_resumed hash=%s nonce=%d intent=%s", record.hash, record.nonce, record.intent)
        if self.account is not None:
            self.sync_nonce()
        return outcomes

    def pending_count(self) -> int:
        return len(self.store.txs(PENDING))
