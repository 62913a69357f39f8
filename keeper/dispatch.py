"""The only place that knows gas limits, fee margins, budgets, dry-run and nonces. Callers hand it
intents (a call, its expected gas and a budget) and get a typed outcome for each: sent, dry run,
refused with a reason, or no funds. It signs, sends, replaces stuck transactions within their budget,
classifies node errors, and follows every transaction by hash until it is mined or replaced, across
restarts (the SQLite store keeps the signed bytes)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3._utils.method_formatters import receipt_formatter
from web3.datastructures import AttributeDict
from web3.types import RPCEndpoint

from keeper.bidding import BidPolicy
from keeper.config import Settings
from keeper.rivals import RivalWatch
from keeper.rpc_batch import RawCall, RpcCounter, raw_call, send_batch
from keeper.store import DROPPED, FAILED, MINED, PENDING, REPLACED, Store, TxRecord
from keeper.transactions import (
    FILL,
    LIQUIDATE,
    NONCE_TAKEN,
    SETTLE,
    Dispatched,
    DryRun,
    Fees,
    Finished,
    Intent,
    NodeRejected,
    NoFunds,
    Outbid,
    Refused,
    Send,
    Sent,
    classify,
    decode_call,
    rejection,
)
from keeper.wallet import Wallet

if TYPE_CHECKING:
    from keeper.chain import ChainContext

log = logging.getLogger(__name__)

GWEI = 10**9
#: A transaction's gas limit is raised to the highest of our queue up to this many times its own.
QUEUE_GAS_RAISE_LIMIT = 2
#: Gas limit of the zero-value transfer that fills a nonce a refused transaction left open.
NONCE_FILL_GAS = 21_000


class Dispatcher:
    def __init__(
        self,
        w3: Web3,
        account: LocalAccount | None,
        store: Store,
        rpc: RpcCounter,
        wallet: Wallet,
        *,
        max_gas_gwei: Decimal,
        fee_bump: Decimal,
        replace_after_blocks: int,
        dry_run: bool,
        gas_limit_liquidation: int,
        confirmations: int = 1,
        clock: Callable[[], float] = time.time,
        bid_share: Decimal = Decimal(0),
        on_replaced: Callable[[], None] = lambda: None,
    ):
        self.w3 = w3
        self.account = account
        self.store = store
        self.rpc = rpc
        self.wallet = wallet
        self.max_fee_cap = int(max_gas_gwei * GWEI)
        self.fee_bump = fee_bump
        self.replace_after_blocks = replace_after_blocks
        self.dry_run = dry_run
        self.gas_limit_liquidation = gas_limit_liquidation
        self.confirmations = max(1, confirmations)
        self.clock = clock
        self.on_replaced = on_replaced  # told of every same-nonce replacement (the metric)
        self.bidding = BidPolicy(bid_share, self.max_fee_cap)
        self._suggests_tip: bool | None = None  # eth_maxPriorityFeePerGas answered (None: not asked)
        self.rivals = RivalWatch(w3, rpc)
        self.chain_id = w3.eth.chain_id
        self.nonce: int | None = None
        self.replacements = 0
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
        #: The latest block's gas limit, read with the fees (30M until read).
        self.block_gas_limit = 30_000_000

    @classmethod
    def of(
        cls,
        ctx: ChainContext,
        store: Store,
        rpc: RpcCounter,
        wallet: Wallet,
        settings: Settings,
        clock: Callable[[], float],
        on_replaced: Callable[[], None],
    ) -> Dispatcher:
        """The dispatcher the settings describe, signing with the validated account (if any)."""
        return cls(
            ctx.w3,
            ctx.account,
            store,
            rpc,
            wallet,
            max_gas_gwei=settings.max_gas_gwei,
            fee_bump=settings.fee_bump,
            replace_after_blocks=settings.replace_after_blocks,
            dry_run=settings.dry_run,
            gas_limit_liquidation=settings.gas_limit_liquidation,
            confirmations=settings.confirmations,
            clock=clock,
            on_replaced=on_replaced,
            bid_share=settings.bid_share,
        )

    @property
    def address(self) -> str | None:
        return self.account.address if self.account else None

    @property
    def signing(self) -> bool:
        """Whether intents are signed and sent: a key, and not a dry run."""
        return self.account is not None and not self.dry_run

    def in_flight(self) -> set[str]:
        """The intents of our pending transactions: none of them is sent a second time."""
        return self.store.in_flight_intents()

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

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

    # fees, gas limits and budgets

    def current_fees(self) -> Fees:
        self.rpc.add()
        block = self.w3.eth.get_block("latest")
        self.block_gas_limit = int(block.get("gasLimit") or 0) or self.block_gas_limit
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            self.rpc.add()
            price = min(self.w3.eth.gas_price, self.max_fee_cap)
            return Fees(max_fee=price, tip=0, legacy=True)
        tip = min(GWEI, self.max_fee_cap)
        max_fee = min(2 * base_fee + tip, self.max_fee_cap)
        return Fees(max_fee=max_fee, tip=min(tip, max_fee), legacy=False)

    def suggested_tip(self) -> int:
        """The node's suggested minimum tip (`eth_maxPriorityFeePerGas`), 0 when it has none; a node
        that does not answer it is not asked again."""
        if self._suggests_tip is False:
            return 0
        self.rpc.add()
        try:
            response = self.w3.provider.make_request(RPCEndpoint("eth_maxPriorityFeePerGas"), [])
        except Exception:
            response = {"error": "no answer"}
        result = response.get("result") if response.get("error") is None else None
        self._suggests_tip = result is not None
        return int(result, 16) if isinstance(result, str) else int(result or 0)

    def sized(self, intent: Intent, fees: Fees) -> Send:
        """The transaction for an intent: its gas limit from the expected gas, and the fee budget its
        replacements stop at. A liquidation gets a quarter more gas plus 20k, at most
        max(the liquidation gas limit, expected + 20k), and a budget of at least twice its first
        worst-case fee; settleDeficit and approvals get 30% more plus 10k, and settleDeficit a budget
        of four fees of its expected gas."""
        gas = intent.expected_gas
        if intent.kind == LIQUIDATE:
            gas_limit = min(int(gas * 1.25) + 20_000, max(self.gas_limit_liquidation, gas + 20_000))
            budget = max(intent.budget_wei, 2 * fees.max_fee * gas_limit)
        else:
            gas_limit = int(gas * 1.3) + 10_000
            budget = intent.budget_wei
            if intent.kind == SETTLE:
                budget = max(budget, 4 * fees.max_fee * gas)
        return Send(intent.key, intent.call, gas_limit, budget, memo=intent.memo)

    def round(self, block: int, fees: Fees | None = None) -> Round:
        """The sends of one block, at one fee quote (the market's unless given)."""
        return Round(self, block, fees or self.current_fees())

    # signing and sending

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
            sent_ms=self._now_ms(),
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
        rejected = rejection(response)
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
        return [rejection(response) for response in responses]

    def submit_many(
        self, kind: str, sends: Sequence[Send], block: int, fees: Fees | None = None
    ) -> list[Dispatched]:
        """Signs `sends` (already sized) at consecutive nonces and broadcasts them in one JSON-RPC
        batch; per send its outcome: sent, dry run, refused by the node after the retries, or no funds
        when the node says the account cannot pay. The records and the sends' memos are stored in one
        commit before anything leaves, so a crash mid-batch finds every transaction on restart.

        Nonces stay gap-free: a send the node refuses is retried at its own nonce when the fix is
        the fee, moved to a fresh nonce when its nonce was taken elsewhere, and when it cannot be
        sent at all while later nonces were accepted, its nonce is filled by a zero-value transfer
        to ourselves, so the transactions behind it are not stuck."""
        if not sends:
            return []
        if not self.signing:
            now = self._now_ms()
            for send in sends:
                log.info("dry_run_skip_send intent=%s gas_limit=%d", send.intent, send.gas_limit)
            return [DryRun(send.intent, send.gas_limit, now) for send in sends]
        start = self.nonce if self.nonce is not None else self.sync_nonce()
        fees = fees or self.current_fees()
        sends = self._never_below_the_queue(sends)
        records = [
            self._signed(kind, send, start + i, send.fees or fees, block) for i, send in enumerate(sends)
        ]
        with self.store.transaction():
            for record in records:
                self.store.add_tx(record)
            signed_ms = self._now_ms()  # signed, about to leave
            for send in sends:
                if send.memo is not None:
                    self.store.set_meta(send.memo.key, send.memo.render(signed_ms))
        rejections = self._broadcast_many([r.raw for r in records])
        self._stamp_head_at_send(records, block)
        results: list[Dispatched] = [Sent(r.intent, r, signed_ms) for r in records]
        refused = [i for i, rejected in enumerate(rejections) if rejected is not None]
        self.nonce = start + len(sends)
        accepted = [r.gas_limit for r, rejected in zip(records, rejections, strict=True) if rejected is None]
        self._queue_gas_floor = max([self._queue_gas_floor, *accepted])
        if refused:
            with self.store.transaction():
                for i in refused:
                    self.store.delete_tx(records[i].hash)
            self._after_refusals(kind, sends, records, rejections, refused, block, fees, results, signed_ms)
        for result in results:
            if isinstance(result, Sent):
                record = result.record
                log.info(
                    "tx_sent intent=%s hash=%s nonce=%d max_fee_gwei=%.3f tip_gwei=%.3f gas_limit=%d",
                    record.intent,
                    record.hash,
                    record.nonce,
                    record.max_fee / GWEI,
                    record.tip / GWEI,
                    record.gas_limit,
                )
        return results

    def _head_at_send(self, block: int) -> int:
        """The node's head just after a send (at least `block`, the block the keeper was processing):
        only blocks mined after it can have left a transaction out, so only they count toward its
        replacement. A keeper lagging behind the head would otherwise count blocks mined before the
        transaction even existed."""
        self.rpc.add()
        try:
            response = self.w3.provider.make_request(RPCEndpoint("eth_blockNumber"), [])
        except Exception:
            return block
        result = response.get("result") if response.get("error") is None else None
        return max(block, int(result, 16)) if isinstance(result, str) else block

    def _stamp_head_at_send(self, records: list[TxRecord], block: int) -> None:
        """Dates `records` (just broadcast) with the node's head at send when it is past `block`."""
        head = self._head_at_send(block)
        if head == block:
            return
        with self.store.transaction():
            for record in records:
                record.sent_block = head
                self.store.update_tx(record.hash, sent_block=head)

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
        results: list[Dispatched],
        signed_ms: int,
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
            own = sends[i].fees or fees
            result = self._send_fixing(kind, sends[i], records[i].nonce, own, block, rejected, pinned=True)
            results[i] = self._outcome(result, sends[i].intent, signed_ms)
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
            own = sends[i].fees or fees
            result = self._send_fixing(kind, sends[i], records[i].nonce, own, block, rejected, pinned=False)
            results[i] = self._outcome(result, sends[i].intent, signed_ms)

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
    ) -> TxRecord | NodeRejected:
        """Up to two more attempts after `rejected`, each first fixing what the node complained of:
        a taken nonce is resynced (unless `pinned`: then only the fee may change), an underpriced
        replacement or a fee below the base fee is bumped. The record once sent, else the last
        refusal."""
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
        if rejected.kind != "insufficient_funds":
            log.error("send_gave_up intent=%s nonce=%d kind=%s", send.intent, nonce, rejected.kind)
        return rejected

    def _outcome(self, result: TxRecord | NodeRejected, intent: str, signed_ms: int) -> Dispatched:
        """A retried send's outcome, dated with its batch's signing."""
        if isinstance(result, TxRecord):
            return Sent(intent, result, signed_ms)
        if result.kind == "insufficient_funds":
            return NoFunds(intent, f"account {self.address} cannot pay gas for {intent}", signed_ms)
        return Refused(intent, f"{result.kind}: {str(result)[:160]}", signed_ms)

    def _fill_nonce(self, nonce: int, fees: Fees, block: int) -> None:
        """A zero-value transfer to ourselves at `nonce`, so that our accepted transactions with
        higher nonces can be mined; followed like any other transaction."""
        assert self.account is not None
        filler = Send(f"fill:{nonce}", RawCall(self.account.address, "0x", ()), NONCE_FILL_GAS, 0)
        record = self._signed(FILL, filler, nonce, fees, block)
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

    def poll(self, head: int) -> list[Finished]:
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
        outcomes: list[Finished] = []
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
                outcomes.append(Finished(record, receipt, seen_ms))
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
                    outcomes.append(Finished(record, None, seen_ms))
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
        replacement.sent_block = self._head_at_send(head)
        with self.store.transaction():
            self.store.add_tx(replacement)
            self.store.update_tx(record.hash, status=REPLACED, replaced_by=replacement.hash)
        self.replacements += 1
        self.on_replaced()
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
        nonce; a node may have dropped them) and count the blocks before a replacement from `head`.
        Nothing is sent when nothing is signed."""
        if not self.signing:
            return
        for record in records:
            self.store.update_tx(record.hash, sent_block=head)
            self._rebroadcast(record)
            log.info("tx_reopened hash=%s nonce=%d intent=%s", record.hash, record.nonce, record.intent)

    def recover(self, head: int) -> list[Finished]:
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


def _liquidated_user(intent_key: str) -> str:
    """The account of a liquidation intent (`liquidate:user:collateral:debt`)."""
    parts = intent_key.split(":")
    return parts[1] if len(parts) > 1 else ""


class Round:
    """One block's sends at one fee quote. The keeper's ETH is read once, on the first send that needs
    it, and each transaction's worst-case gas (gas limit x max fee) is set aside from it, so a drained
    wallet pauses sending without a balance read per transaction or a rejected transaction."""

    def __init__(self, dispatcher: Dispatcher, block: int, fees: Fees):
        self.dispatcher = dispatcher
        self.block = block
        self.fees = fees
        self._spendable: int | None = None
        self._min_tip: int | None = None

    @property
    def block_gas_limit(self) -> int:
        """The gas limit of the block this round was quoted at."""
        return self.dispatcher.block_gas_limit

    def liquidation_gas_wei(self) -> int:
        """The worst case a liquidation's gas can cost at this round's fees, for ranking."""
        return self.fees.max_fee * self.dispatcher.gas_limit_liquidation

    def dispatch(self, intents: Sequence[Intent]) -> list[Dispatched]:
        """Sizes, funds, signs and sends `intents` (all of one kind) in one batch; their outcomes in
        order."""
        kinds = {intent.kind for intent in intents}
        if len(kinds) > 1:
            raise ValueError(f"one kind of intent per dispatch, got {sorted(kinds)}")
        dispatcher = self.dispatcher
        if not intents:
            return []
        sends = [dispatcher.sized(intent, self.fees) for intent in intents]
        outcomes: list[Dispatched | None] = [None] * len(sends)
        if intents[0].kind == LIQUIDATE:
            sends = self._bids(intents, sends, outcomes)
        if not dispatcher.signing:
            live = [i for i, o in enumerate(outcomes) if o is None]
            done = dispatcher.submit_many(intents[0].kind, [sends[i] for i in live], self.block, self.fees)
            for i, outcome in zip(live, done, strict=True):
                outcomes[i] = outcome
            return [o for o in outcomes if o is not None]
        funded: list[int] = []
        for i, send in enumerate(sends):
            if outcomes[i] is not None:
                continue
            if self._reserve(send.gas_limit * (send.fees or self.fees).max_fee):
                funded.append(i)
            else:
                outcomes[i] = NoFunds(send.intent, "insufficient native balance", dispatcher._now_ms())
        # The highest bid at the lowest nonce: a builder takes one sender's transactions in nonce order,
        # so a low tip ahead of a high one would hold the high one back behind every rival between them.
        funded.sort(key=lambda i: -(sends[i].fees or self.fees).tip)
        if funded:
            sent = dispatcher.submit_many(intents[0].kind, [sends[i] for i in funded], self.block, self.fees)
            for i, outcome in zip(funded, sent, strict=True):
                outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    def _bids(
        self, intents: Sequence[Intent], sends: list[Send], outcomes: list[Dispatched | None]
    ) -> list[Send]:
        """Each liquidation's bid from its revenue (its budget); against a rival's pending liquidation
        of the same account it bids one wei per gas above the rival, or drops out (`Outbid`) when the
        bounds do not reach that far."""
        dispatcher = self.dispatcher
        policy = dispatcher.bidding
        if policy.share <= 0 or self.fees.legacy or not intents:
            return sends
        if self._min_tip is None:
            self._min_tip = dispatcher.suggested_tip()
        base_fee = policy.base_fee(self.fees)
        rivals = dispatcher.rivals.pending_bids(raw_call(intents[0].call).to, dispatcher.address, base_fee)
        bid: list[Send] = []
        for i, (intent, send) in enumerate(zip(intents, sends, strict=True)):
            revenue = intent.budget_wei
            fees = policy.fees(self.fees, revenue, intent.expected_gas, send.gas_limit, self._min_tip)
            rival = rivals.get(_liquidated_user(intent.key).lower())
            if rival is not None and rival >= fees.tip:
                ceiling = policy.ceiling_tip(self.fees, revenue, send.gas_limit)
                if rival + 1 > ceiling:
                    log.info(
                        "outbid intent=%s rival_tip_gwei=%.3f ceiling_gwei=%.3f",
                        intent.key,
                        rival / GWEI,
                        ceiling / GWEI,
                    )
                    reason = f"a rival tips {rival} wei per gas, above our ceiling of {ceiling}"
                    outcomes[i] = Outbid(intent.key, reason, dispatcher._now_ms())
                fees = policy.at_tip(self.fees, rival + 1)
            bid.append(replace(send, fees=fees))
        return bid

    def _reserve(self, cost_wei: int) -> bool:
        if self._spendable is None:
            # Flags the metric and /health when low.
            self._spendable = self.dispatcher.wallet.native_balance(cost_wei)
        if self._spendable < cost_wei:
            return False
        self._spendable -= cost_wei
        return True
