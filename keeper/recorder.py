"""The recorder stage: turns the liquidations the dispatcher reports as final into execution-quality
records (keeper.md): the receipt's events, the account before and after, the detection stored with
the transaction. The reads of every outcome of one poll go out as one JSON-RPC batch per block
involved, so a block that mined 170 liquidations is recorded in a few requests instead of a
thousand."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from keeper.calls import Event, event, function
from keeper.contracts import Contracts
from keeper.execution_records import Detection, build_record, detection_from_json, detection_key
from keeper.metrics import Metrics
from keeper.model import PoolModel
from keeper.rpc_batch import RawCall, call_many, send_batch
from keeper.store import Store
from keeper.transactions import LIQUIDATE, Finished

log = logging.getLogger(__name__)


LIQUIDATION_CALL = event("LendingPool", "LiquidationCall")
DEFICIT_REPORTED = event("LendingPool", "DeficitReported")
ACCOUNT_DATA = function("LendingPool", "getUserAccountData")
USER_POSITION = function("LendingPool", "getUserPosition")


def pool_events(receipt: Any, pool: str) -> tuple[dict[str, Any] | None, list[tuple[str, int]]]:
    """The pool's LiquidationCall (its fields by name) and DeficitReported (asset, amount) logs in
    a receipt, decoded with eth-abi (web3.py's event processing costs ~3 ms a log)."""
    event = None
    deficits = []
    for entry in receipt["logs"]:
        if entry["address"] != pool or not entry["topics"]:
            continue
        topic = bytes(entry["topics"][0])
        if topic == LIQUIDATION_CALL.topic:
            event = LIQUIDATION_CALL.decode_data(bytes(entry["data"]))
            event["liquidator"] = to_checksum_address(event["liquidator"])
            event["user"] = to_checksum_address(_indexed(entry, LIQUIDATION_CALL, "user"))
        elif topic == DEFICIT_REPORTED.topic:
            asset = to_checksum_address(_indexed(entry, DEFICIT_REPORTED, "asset"))
            deficits.append((asset, DEFICIT_REPORTED.decode_data(bytes(entry["data"]))["amount"]))
    return event, deficits


def _indexed(entry: Any, event: Event, name: str) -> bytes:
    """The address in the indexed argument `name` of a log (topic 0 is the event's)."""
    return bytes(entry["topics"][1 + event.indexed.index(name)])[-20:]


@dataclass(frozen=True)
class _Pending:
    """One liquidation outcome and what its record needs."""

    outcome: Finished
    detection: Detection
    user: str
    collateral: str
    debt: str
    block: int


class Recorder:
    def __init__(self, w3: Web3, contracts: Contracts, store: Store, metrics: Metrics):
        self.w3 = w3
        self.contracts = contracts
        self.store = store
        self.metrics = metrics

    def record(
        self,
        outcomes: Sequence[Finished],
        model: PoolModel,
        fallback_block: int,
        lost_to: Mapping[str, str],
        native_price_usd: Decimal,
    ) -> None:
        """Records every liquidation among `outcomes`, with the detection its dispatch stored; one
        that cannot be built is logged and skipped, never stopping the keeper. `fallback_block` dates
        a transaction that left no receipt (dropped); `lost_to` names the winner of an account."""
        pending: list[_Pending] = []
        for outcome in outcomes:
            record = outcome.record
            if record.kind != LIQUIDATE:
                continue
            _, user, collateral, debt = record.intent.split(":")
            detection = detection_from_json(self.store.get_meta(detection_key(record.intent)))
            if detection is None:
                continue
            receipt = outcome.receipt
            block = int(receipt["blockNumber"]) if receipt is not None else fallback_block
            pending.append(_Pending(outcome, detection, user, collateral, debt, block))
        if not pending:
            return
        try:
            reads = self._read_accounts(pending)
            timestamps = self._timestamps({p.block for p in pending})
        except Exception as exc:
            log.warning("record_failed count=%d error=%s", len(pending), exc)
            return
        for item, values in zip(pending, reads, strict=True):
            try:
                self._save(item, values, timestamps[item.block], model, lost_to, native_price_usd)
            except Exception as exc:
                log.warning("record_failed tx=%s error=%s", item.outcome.record.hash, exc)

    def _read_accounts(self, pending: Sequence[_Pending]) -> list[tuple[int, ...] | None]:
        """Per outcome: (hf after, collateral after, debt after, collateral before, debt before),
        read at the inclusion block and the one before it; None where a read failed."""
        pool = self.contracts.pool.address

        def account_data(user: str) -> RawCall:
            return ACCOUNT_DATA.call(pool, user)

        def position(user: str, asset: str) -> RawCall:
            return USER_POSITION.call(pool, user, asset)

        by_block: dict[int, list[tuple[int, int, RawCall]]] = {}
        for i, p in enumerate(pending):
            after, before = p.block, max(p.block - 1, 0)
            for slot, block, call in (
                (0, after, account_data(p.user)),
                (1, after, position(p.user, p.collateral)),
                (2, after, position(p.user, p.debt)),
                (3, before, position(p.user, p.collateral)),
                (4, before, position(p.user, p.debt)),
            ):
                by_block.setdefault(block, []).append((i, slot, call))
        values: list[list[Any]] = [[None] * 5 for _ in pending]
        for block, entries in by_block.items():
            results = call_many(self.w3, [call for _, _, call in entries], None, block)
            for (i, slot, _), result in zip(entries, results, strict=True):
                if result.ok:
                    values[i][slot] = result.value
        out: list[tuple[int, ...] | None] = []
        for v in values:
            if any(x is None for x in v):
                out.append(None)
                continue
            out.append((v[0][2], v[1][0], v[2][1], v[3][0], v[4][1]))
        return out

    def _timestamps(self, blocks: set[int]) -> dict[int, int]:
        ordered = sorted(blocks)
        responses = send_batch(self.w3, [("eth_getBlockByNumber", [hex(b), False]) for b in ordered])
        stamps = {}
        for block, response in zip(ordered, responses, strict=True):
            result = response.get("result")
            if not result:
                raise RuntimeError(f"block {block} is not available: {response.get('error')}")
            stamps[block] = int(result["timestamp"], 16) * 1000
        return stamps

    def _save(
        self,
        item: _Pending,
        values: tuple[int, ...] | None,
        block_ts_ms: int,
        model: PoolModel,
        lost_to: Mapping[str, str],
        native_price: Decimal,
    ) -> None:
        if values is None:
            raise RuntimeError("the account could not be read at the inclusion block")
        hf_after, supplied_after, debt_after, supplied_before, debt_before = values
        record, receipt = item.outcome.record, item.outcome.receipt
        event = None
        deficits_usd = 0.0
        if receipt is not None and receipt["status"] == 1:
            event, deficits = pool_events(receipt, self.contracts.pool.address)
            for asset, amount in deficits:
                reserve = model.by_asset.get(asset)
                if reserve:
                    deficits_usd += model.value_usd(reserve, amount)
        result = build_record(
            tx_hash=record.hash,
            detection=item.detection,
            event=event,
            receipt=receipt,
            block_ts_ms=block_ts_ms,
            receipt_seen_ms=item.outcome.seen_ms,
            collateral=model.by_asset[item.collateral],
            debt=model.by_asset[item.debt],
            hf_after=hf_after if debt_after or supplied_after else None,
            target_hf=model.liquidation_config.target_health_factor,
            debt_before=debt_before,
            collateral_before=supplied_before,
            debt_left=debt_after,
            collateral_left=supplied_after,
            deficits_usd=deficits_usd,
            native_price_usd=native_price,
            winner=lost_to.get(item.user) if event is None else None,
        )
        if self.store.save_liquidation(record.hash, result.to_dict()):
            self.metrics.liquidations.labels(outcome=result.outcome).inc()
        log.info(
            "liquidation_recorded user=%s outcome=%s tx=%s delay_blocks=%s bonus_bps=%d hf_after=%s",
            item.user,
            result.outcome,
            record.hash,
            result.delay_blocks,
            result.bonus_bps,
            result.hf_after,
        )
