"""The only place that knows nonces and fees: simulates, signs, sends, replaces stuck transactions
within a budget, classifies node errors, and follows every transaction by hash until it is mined
or replaced, across restarts (the SQLite store keeps the signed bytes)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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
from keeper.rpc_batch import RawCall, RpcCounter, error_reason, raw_call, send_batch
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


@dataclass(frozen=True)
class Send:
    """One transaction to send: what it is for, its call, its gas limit and the most its fees may
    cost (replacements stop there)."""

    intent: str
    call: ContractFunction | RawCall
    gas_limit: int
    budget_wei: int
    value: int = 0


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
#: A transaction's gas limit is raised to the highest of our queue up to this many times its own.
QUEUE_GAS_RAISE_LIMIT = 2
#: Gas limit of the zero-value transfer that fills a nonce a refused transaction left open.
NONCE_FILL_GAS = 21_000


def _rejection(response: dict[str, Any]) -> NodeRejected | None:
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
        # Our confirmed nonce at the last poll, and the block where it last advanced: while our
        # queue keeps being mined, a transaction behind it is waiting for block space, not stuck.
        self._confirmed_seen: int | None = None
        self._queue_moved_block = -1
        # The highest gas limit in our pending queue; a new transaction gets at least this one.
        # Anvil builds a block by skipping a transaction whose gas limit no longer fits, then drops
        # a later nonce that would fit as "nonce too high", with the rest of the queue: gas limits
        # that never decrease along the queue cannot fit where their predecessor did not.
        self._queue_gas_floor = 0

    @property
    def address(self) -> str | None:
        return self.account.address if self.account else None

    # nonces

    def sync_nonce(self) -> int:
        """The next nonce: the node's pending count, or past our own pending transactions."""
        assert self.account is not None
        self.rpc.add()
        node_pending = self.w3.eth.get_transaction_count(self.account.address, "pending")
        pending = self.store.txs(PENDING)
        self.nonce = max([node_pending, *(t.nonce + 1 for t in pending)])
        self._queue_gas_floor = max([self._queue_gas_floor, *(t.gas_limit for t in pending)])
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

    def _signed(self, kind: str, send: Send, nonce: int, fees: Fees, block: int) -> TxRecord:
        """`send` signed at `nonce`, as the pending record the store keeps (with its raw bytes)."""
        assert self.account is not None
        call = raw_call(send.call)
        tx: dict[str, Any] = {
            "to": call.to,
            "data": call.data,
            "value": send.value,
            "gas": send.gas_limit,
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
        return TxRecord(
            hash=Web3.to_hex(signed.hash),
            nonce=nonce,
            kind=kind,
            intent=send.intent,
            status=PENDING,
            raw=Web3.to_hex(signed.raw_transaction),
            max_fee=fees.max_fee,
            tip=fees.tip,
            gas_limit=send.gas_limit,
            sent_block=block,
            sent_ms=int(self.clock() * 1000),
            note=f"budget_wei={send.budget_wei}",
        )

    def _broadcast(self, raw: str) -> None:
        """`eth_sendRawTransaction` straight through the provider: web3.py's middleware would add
        ~3 ms of validation a transaction, which a burst of hundreds of liquidations cannot spare."""
        self.rpc.add()
        try:
            response = self.w3.provider.make_request(RPCEndpoint("eth_sendRawTransaction"), [raw])
        except Exception as exc:
            raise NodeRejected(classify(str(exc)), str(exc)) from None
        rejected = _rejection(response)
        if rejected is not None:
            raise rejected

    def _broadcast_many(self, raws: list[str]) -> list[NodeRejected | None]:
        """Every raw transaction in one JSON-RPC batch; per transaction the node's refusal or None.
        A node that fails the whole request refuses every transaction with the same reason."""
        if len(raws) == 1:
            try:
                self._broadcast(raws[0])
            except NodeRejected as rejected:
                return [rejected]
            return [None]
        self.rpc.add()
        try:
            responses = send_batch(self.w3, [("eth_sendRawTransaction", [raw]) for raw in raws])
        except Exception as exc:
            return [NodeRejected(classify(str(exc)), str(exc)) for _ in raws]
        return [_rejection(response) for response in responses]

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
        """Signs and sends `fn`; its record, None in dry-run mode or when the node kept refusing it.
        Raises FundsError when the node says the account cannot pay for it."""
        result = self.submit_many(kind, [Send(intent, fn, gas_limit, budget_wei)], block, fees)[0]
        if isinstance(result, FundsError):
            raise result
        return result

    def submit_many(
        self,
        kind: str,
        sends: Sequence[Send],
        block: int,
        fees: Fees | None = None,
        on_signed: Callable[[list[TxRecord]], None] | None = None,
    ) -> list[TxRecord | FundsError | None]:
        """Signs `sends` at consecutive nonces and broadcasts them in one JSON-RPC batch; per send
        its record, a FundsError when the node says the account cannot pay, or None (dry run, or
        refused after the retries). The records (and whatever `on_signed` writes) are stored in one
        commit before anything leaves, so a crash mid-batch finds every transaction on restart.

        Nonces stay gap-free: a send the node refuses is retried at its own nonce when the fix is
        the fee, moved to a fresh nonce when its nonce was taken elsewhere, and when it cannot be
        sent at all while later nonces were accepted, its nonce is filled by a zero-value transfer
        to ourselves, so the transactions behind it are not stuck."""
        if not sends:
            return []
        if self.dry_run or self.account is None:
            for send in sends:
                log.info("dry_run_skip_send intent=%s gas_limit=%d", send.intent, send.gas_limit)
            return [None] * len(sends)
        start = self.nonce if self.nonce is not None else self.sync_nonce()
        fees = fees or self.current_fees()
        sends = self._never_below_the_queue(sends)
        records = [self._signed(kind, send, start + i, fees, block) for i, send in enumerate(sends)]
        with self.store.transaction():
            for record in records:
                self.store.add_tx(record)
            if on_signed is not None:
                on_signed(records)
        rejections = self._broadcast_many([r.raw for r in records])
        results: list[TxRecord | FundsError | None] = list(records)
        refused = [i for i, rejected in enumerate(rejections) if rejected is not None]
        self.nonce = start + len(sends)
        accepted = [r.gas_limit for r, rejected in zip(records, rejections, strict=True) if rejected is None]
        self._queue_gas_floor = max([self._queue_gas_floor, *accepted])
        if refused:
            with self.store.transaction():
                for i in refused:
                    self.store.delete_tx(records[i].hash)
            self._after_refusals(kind, sends, records, rejections, refused, block, fees, results)
        for result in results:
            if isinstance(result, TxRecord):
                self.sent += 1
                log.info(
                    "tx_sent intent=%s hash=%s nonce=%d max_fee_gwei=%.3f tip_gwei=%.3f gas_limit=%d",
                    result.intent,
                    result.hash,
                    result.nonce,
                    result.max_fee / GWEI,
                    result.tip / GWEI,
                    result.gas_limit,
                )
        return results

    def _never_below_the_queue(self, sends: Sequence[Send]) -> list[Send]:
        """`sends` with gas limits raised to the highest one before them in our queue, up to twice
        their own (an outlier must not make every later transaction reserve its gas)."""
        raised = []
        highest = self._queue_gas_floor
        for send in sends:
            if send.gas_limit < highest <= QUEUE_GAS_RAISE_LIMIT * send.gas_limit:
                send = replace(send, gas_limit=highest)
            highest = max(highest, send.gas_limit)
            raised.append(send)
        return raised

    def _after_refusals(
        self,
        kind: str,
        sends: Sequence[Send],
        records: list[TxRecord],
        rejections: list[NodeRejected | None],
        refused: list[int],
        block: int,
        fees: Fees,
        results: list[TxRecord | FundsError | None],
    ) -> None:
        """Retries the refused sends of a batch, in nonce order, and leaves no nonce gap behind."""
        used = {records[i].nonce for i, rejected in enumerate(rejections) if rejected is None}
        moved: list[tuple[int, NodeRejected]] = []
        holes: list[int] = []
        for i in refused:
            rejected = rejections[i]
            assert rejected is not None
            self._log_rejection(sends[i].intent, records[i].nonce, rejected, 1)
            if rejected.kind in NONCE_TAKEN:
                used.add(records[i].nonce)  # someone else's transaction holds it: no gap
                moved.append((i, rejected))
                continue
            result = self._send_fixing(kind, sends[i], records[i].nonce, fees, block, rejected, pinned=True)
            results[i] = result
            if isinstance(result, TxRecord):
                used.add(result.nonce)
            else:
                holes.append(records[i].nonce)
        top = max(used, default=records[0].nonce - 1)
        for nonce in holes:
            if nonce < top:
                self._fill_nonce(nonce, fees, block)
        self.nonce = top + 1
        for i, rejected in moved:
            results[i] = self._send_fixing(
                kind, sends[i], records[i].nonce, fees, block, rejected, pinned=False
            )

    def _send_fixing(
        self,
        kind: str,
        send: Send,
        nonce: int,
        fees: Fees,
        block: int,
        rejected: NodeRejected,
        *,
        pinned: bool,
    ) -> TxRecord | FundsError | None:
        """Up to two more attempts after `rejected`, each first fixing what the node complained of:
        a taken nonce is resynced (unless `pinned`: then only the fee may change), an underpriced
        replacement or a fee below the base fee is bumped. The record once sent, else why not."""
        for attempt in (2, 3):
            if rejected.kind == "insufficient_funds":
                break
            if rejected.kind in NONCE_TAKEN and not pinned:
                previous = nonce
                nonce = self.sync_nonce()
                if rejected.kind == "replacement_underpriced" and nonce == previous:
                    fees = fees.bumped(self.fee_bump)  # the node holds a transaction at our nonce
            elif rejected.kind == "fee_below_base":
                fees = fees.at_least(self.current_fees()).bumped(self.fee_bump)
            else:
                break
            record = self._signed(kind, send, nonce, fees, block)
            self.store.add_tx(record)
            try:
                self._broadcast(record.raw)
            except NodeRejected as again:
                self.store.delete_tx(record.hash)
                self._log_rejection(send.intent, nonce, again, attempt)
                rejected = again
                continue
            self.nonce = max(self.nonce or 0, nonce + 1)
            self._queue_gas_floor = max(self._queue_gas_floor, record.gas_limit)
            return record
        if rejected.kind == "insufficient_funds":
            return FundsError(f"account {self.address} cannot pay gas for {send.intent}")
        log.error("send_gave_up intent=%s nonce=%d kind=%s", send.intent, nonce, rejected.kind)
        return None

    def _fill_nonce(self, nonce: int, fees: Fees, block: int) -> None:
        """A zero-value transfer to ourselves at `nonce`, so that our accepted transactions with
        higher nonces can be mined; followed like any other transaction."""
        assert self.account is not None
        filler = Send(f"fill:{nonce}", RawCall(self.account.address, "0x", ()), NONCE_FILL_GAS, 0)
        record = self._signed("fill", filler, nonce, fees, block)
        self.store.add_tx(record)
        try:
            self._broadcast(record.raw)
        except NodeRejected as rejected:
            self.store.delete_tx(record.hash)
            log.error("nonce_gap nonce=%d kind=%s: later transactions wait for it", nonce, rejected.kind)
            return
        log.warning("nonce_filled nonce=%d hash=%s", nonce, record.hash)

    def _log_rejection(self, intent: str, nonce: int, rejected: NodeRejected, attempt: int) -> None:
        log.warning(
            "send_rejected intent=%s nonce=%d kind=%s attempt=%d message=%r",
            intent,
            nonce,
            rejected.kind,
            attempt,
            str(rejected)[:160],
        )

    # following

    def poll(self, head: int) -> list[Outcome]:
        """Checks every pending transaction: mined with `confirmations` blocks (success or revert),
        replaced, or stuck (no block took one of ours for `replace_after_blocks` blocks since it
        was sent). One read of the confirmed nonce, then one batch of receipts for the
        nonces below it only: a nonce the chain has not reached cannot have been mined."""
        pending = self.store.txs(PENDING)
        if not pending:
            self._queue_gas_floor = 0
            return []
        by_nonce: dict[int, list[TxRecord]] = {}
        for record in pending:
            by_nonce.setdefault(record.nonce, []).append(record)
        confirmed: int | None = None
        if self.account is not None:
            self.rpc.add()
            confirmed = self.w3.eth.get_transaction_count(self.account.address, "latest")
            if self._confirmed_seen is not None and confirmed > self._confirmed_seen:
                self._queue_moved_block = head
            self._confirmed_seen = confirmed
        # The first and last transactions of our queue, which the node must still hold: a node may
        # drop queued ones (Anvil drops the rest of a sender's queue when a later nonce fits a block
        # its predecessor's gas limit did not).
        queued = [n for n in by_nonce if confirmed is not None and n >= confirmed]
        probes = (
            [max(by_nonce[n], key=lambda r: r.sent_ms).hash for n in {min(queued), max(queued)}]
            if queued
            else []
        )
        receipts, all_known = self._receipts(
            [
                r.hash
                for n, records in by_nonce.items()
                if confirmed is None or n < confirmed
                for r in records
            ],
            probes,
        )
        if not all_known:
            assert confirmed is not None
            self._rebroadcast_queue(by_nonce, confirmed)
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
            # Waiting since it was sent or since our queue last moved, whichever is later: in a burst
            # that fills blocks, the 600th transaction waits its turn and its fee is not the reason.
            if head - max(latest.sent_block, self._queue_moved_block) >= self.replace_after_blocks:
                self._replace(latest, head)
        if len(outcomes) == len(by_nonce) and self.pending_count() == 0:
            self._queue_gas_floor = 0
        return outcomes

    def _receipts(self, hashes: list[str], probes: Sequence[str] = ()) -> tuple[dict[str, Any], bool]:
        """Receipts of `hashes` in one batch, formatted as web3.py's get_transaction_receipt does
        (None for a transaction not mined or unknown to the node); and whether the node knows every
        transaction of `probes` (asked in the same batch; an error answer counts as known)."""
        payload = [("eth_getTransactionReceipt", [h]) for h in hashes]
        payload += [("eth_getTransactionByHash", [h]) for h in probes]
        if not payload:
            return {}, True
        self.rpc.add()
        responses = send_batch(self.w3, payload)
        answers = responses[len(hashes) :]
        known = all(a.get("error") is not None or a.get("result") is not None for a in answers)
        responses = responses[: len(hashes)]
        receipts: dict[str, Any] = {}
        for tx_hash, response in zip(hashes, responses, strict=True):
            if response.get("error"):
                raise RuntimeError(f"eth_getTransactionReceipt({tx_hash}): {response['error']}")
            result = response.get("result")
            receipts[tx_hash] = AttributeDict.recursive(receipt_formatter(result)) if result else None
        return receipts, known

    def _rebroadcast_queue(self, by_nonce: dict[int, list[TxRecord]], confirmed: int) -> None:
        """The node forgot the next transaction of our queue: every pending one from there goes out
        again (the same signed bytes, so the same hashes), in nonce order, in one batch."""
        queue = [max(by_nonce[n], key=lambda r: r.sent_ms) for n in sorted(by_nonce) if n >= confirmed]
        refused = [r for r in self._broadcast_many([r.raw for r in queue]) if r is not None]
        log.warning(
            "node_dropped_txs first_nonce=%d rebroadcast=%d refused=%d", confirmed, len(queue), len(refused)
        )

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
        to, data, value = decode_call(record.raw)
        again = Send(record.intent, RawCall(to, data, ()), record.gas_limit, budget, value)
        replacement = self._signed(record.kind, again, record.nonce, fees, head)
        try:
            self._broadcast(replacement.raw)
        except NodeRejected as rejected:
            log.warning("replacement_rejected hash=%s kind=%s", record.hash, rejected.kind)
            return None
        with self.store.transaction():
            self.store.add_tx(replacement)
            self.store.update_tx(record.hash, status=REPLACED, replaced_by=replacement.hash)
        self.replacements += 1
        log.info(
            "tx_replaced old=%s new=%s nonce=%d max_fee_gwei=%.3f tip_gwei=%.3f",
            record.hash,
            replacement.hash,
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
