"""The recorder stage: turns the liquidations the dispatcher reports as final into execution-quality
records (keeper.md): the receipt's events (the pool's, and a flash liquidation's fill), the account
after, the oracle prices of the inclusion block (and of the trigger block) that every USD figure is
valued at, the detection stored with the transaction. The reads of every outcome of one poll go out
as one JSON-RPC batch per block involved, so a block that mined 170 liquidations is recorded in a few
requests instead of a thousand."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3
from web3.types import RPCEndpoint

from keeper import maths
from keeper.calls import Event, event, function
from keeper.contracts import Contracts, decode_revert
from keeper.execution_records import (
    Detection,
    Fill,
    RecordPrices,
    build_record,
    detection_from_json,
    detection_key,
)
from keeper.metrics import Metrics
from keeper.model import PoolModel
from keeper.rpc_batch import RawCall, call_each, call_many, send_batch
from keeper.store import Store
from keeper.transactions import LIQUIDATE, Finished

log = logging.getLogger(__name__)


LIQUIDATION_CALL = event("LendingPool", "LiquidationCall")
DEFICIT_REPORTED = event("LendingPool", "DeficitReported")
ACCOUNT_DATA = function("LendingPool", "getUserAccountData")
USER_POSITION = function("LendingPool", "getUserPosition")
GET_PRICE = function("PriceOracle", "getPrice")
GET_FEED = function("PriceOracle", "getFeed")
LATEST_ROUND = function("MockPriceFeed", "latestRoundData")  # AggregatorV3Interface's
FLASH_LIQUIDATION = event("FlashLiquidator", "FlashLiquidation")


def flash_fill(receipt: Any, flash_liquidator: str | None, debt_repaid: int) -> Fill | None:
    """The fill of a flash liquidation: its FlashLiquidator's `FlashLiquidation` log in the receipt (the
    collateral sold and kept; the debt it bought is what the pool's `LiquidationCall` repaid)."""
    if flash_liquidator is None:
        return None
    for entry in receipt["logs"]:
        if entry["address"] == flash_liquidator and entry["topics"]:
            if bytes(entry["topics"][0]) == FLASH_LIQUIDATION.topic:
                data = FLASH_LIQUIDATION.decode_data(bytes(entry["data"]))
                return Fill(
                    debt_bought=debt_repaid,
                    collateral_received=data["collateralSold"] + data["profit"],
                    collateral_sold=data["collateralSold"],
                    profit=data["profit"],
                )
    return None


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
    def __init__(
        self,
        w3: Web3,
        contracts: Contracts,
        store: Store,
        metrics: Metrics,
        flash_liquidator: str | None = None,
        keeper: str | None = None,
    ):
        """`keeper` and `flash_liquidator` are who liquidates for this keeper: a liquidation of theirs
        that landed first is not a race lost to a rival."""
        self.w3 = w3
        self.contracts = contracts
        self.store = store
        self.metrics = metrics
        self.flash_liquidator = flash_liquidator
        self.ours = {a for a in (keeper, flash_liquidator) if a}

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

    def _read_accounts(self, pending: Sequence[_Pending]) -> list[tuple[Any, ...]]:
        """Per outcome: (hf after, collateral after, debt after, collateral price, debt price, collateral
        price at the trigger block), read at the inclusion block (the trigger block for the last); None
        where a read failed. A price `getPrice` refuses at the end of its block is the primary feed's
        answer there (`_primary_prices`)."""
        pool, oracle = self.contracts.pool.address, self.contracts.oracle.address
        by_block: dict[int, list[tuple[int, int, RawCall]]] = {}
        for i, p in enumerate(pending):
            reads = [
                (0, p.block, ACCOUNT_DATA.call(pool, p.user)),
                (1, p.block, USER_POSITION.call(pool, p.user, p.collateral)),
                (2, p.block, USER_POSITION.call(pool, p.user, p.debt)),
                (3, p.block, GET_PRICE.call(oracle, p.collateral)),
                (4, p.block, GET_PRICE.call(oracle, p.debt)),
            ]
            if p.detection.trigger_block is not None:
                reads.append((5, p.detection.trigger_block, GET_PRICE.call(oracle, p.collateral)))
            for slot, block, call in reads:
                by_block.setdefault(block, []).append((i, slot, call))
        values: list[list[Any]] = [[None] * 6 for _ in pending]
        for block, entries in by_block.items():
            results = call_many(self.w3, [call for _, _, call in entries], None, block)
            for (i, slot, _), result in zip(entries, results, strict=True):
                if result.ok:
                    values[i][slot] = result.value
        refused = {
            (i, slot): (block, p.debt if slot == 4 else p.collateral)
            for i, p in enumerate(pending)
            for slot, block in ((3, p.block), (4, p.block), (5, p.detection.trigger_block))
            if block is not None and values[i][slot] is None
        }
        if refused:
            primary = self._primary_prices(set(refused.values()))
            for (i, slot), key in refused.items():
                if key in primary:
                    values[i][slot] = (primary[key],)
        return [
            (
                v[0][2] if v[0] else None,
                v[1][0] if v[1] else None,
                v[2][1] if v[2] else None,
                *(price[0] if price else None for price in v[3:]),
            )
            for v in values
        ]

    def _primary_prices(self, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """(block, asset) -> the asset's primary feed answer at that block, 8 decimals (down): the price
        `getPrice` gives whenever the cross-check passes, read where it does not because a secondary
        feed's breaker holds the asset after the block (the TWAP guard), as the observer does
        (bench/observer.py). Two batches, for the feeds and their rounds; a pair whose reads fail is
        left out."""
        keys = sorted(wanted)
        oracle = self.contracts.oracle.address
        feeds = call_each(self.w3, [(GET_FEED.call(oracle, asset), block) for block, asset in keys], None)
        found = [(key, feed.value) for key, feed in zip(keys, feeds, strict=True) if feed.ok]
        rounds = call_each(self.w3, [(LATEST_ROUND.call(f[0]), key[0]) for key, f in found], None)
        prices = {}
        for (key, (_, _, decimals)), answer in zip(found, rounds, strict=True):
            if answer.ok and answer.value[1] > 0:
                prices[key] = answer.value[1] * 10**8 // 10**decimals
        return prices

    def _revert_reason(self, tx_hash: str) -> str | None:
        """Why a mined transaction reverted, by error name, where the node traces transactions
        (`debug_traceTransaction` with the call tracer: Anvil, geth); None elsewhere."""
        try:
            answer = self.w3.provider.make_request(
                RPCEndpoint("debug_traceTransaction"), [tx_hash, {"tracer": "callTracer"}]
            )
        except Exception:
            return None
        result = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(result, dict) or not result.get("output"):
            return None
        return decode_revert(result["output"])

    def _rival(self, liquidator: str | None) -> str | None:
        """The liquidator that took an account first, unless it is this keeper itself."""
        return None if liquidator in self.ours else liquidator

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
        values: tuple[Any, ...],
        block_ts_ms: int,
        model: PoolModel,
        lost_to: Mapping[str, str],
        native_price: Decimal,
    ) -> None:
        hf_after, supplied_after, debt_after, collateral_price, debt_price, trigger_price = values
        if supplied_after is None or debt_after is None:
            raise RuntimeError("the account could not be read at the inclusion block")
        record, receipt = item.outcome.record, item.outcome.receipt
        if hf_after is None:
            # The chain cannot value the account after the block although its positions read: a price
            # refused at the block's end (a TWAP guard's breaker tripped by a later update in the same
            # block). The liquidation is recorded all the same, its health factor after unknown.
            log.warning("record_health_unreadable tx=%s block=%d", record.hash, item.block)
        collateral, debt = model.by_asset[item.collateral], model.by_asset[item.debt]
        if collateral_price is None or debt_price is None:
            # The oracle did not answer at inclusion (a stale feed): the prices the model last read.
            log.warning("record_prices_unreadable tx=%s block=%d", record.hash, item.block)
            collateral_price, debt_price = collateral_price or collateral.price, debt_price or debt.price
        event = None
        fill = None
        deficits_usd = 0.0
        if receipt is not None and receipt["status"] == 1:
            event, deficits = pool_events(receipt, self.contracts.pool.address)
            fill = flash_fill(receipt, self.flash_liquidator, int(event["debtRepaid"])) if event else None
            for asset, amount in deficits:
                reserve = model.by_asset.get(asset)
                if reserve:
                    price = debt_price if asset == item.debt else reserve.price
                    deficits_usd += maths.to_value(amount, reserve.decimals, price) / 1e26
        revert = self._revert_reason(record.hash) if receipt is not None and receipt["status"] != 1 else None
        result = build_record(
            tx_hash=record.hash,
            detection=item.detection,
            event=event,
            receipt=receipt,
            block_ts_ms=block_ts_ms,
            receipt_seen_ms=item.outcome.seen_ms,
            collateral=collateral,
            debt=debt,
            prices=RecordPrices(collateral_price, debt_price, trigger_price),
            hf_after=hf_after if debt_after or supplied_after else None,
            target_hf=model.liquidation_config.target_health_factor,
            debt_left=debt_after,
            collateral_left=supplied_after,
            deficits_usd=deficits_usd,
            native_price_usd=native_price,
            winner=self._rival(lost_to.get(item.user)) if event is None else None,
            fill=fill,
            revert_reason=revert,
        )
        if self.store.save_liquidation(record.hash, result.to_dict()):
            self.metrics.liquidations.labels(outcome=result.outcome).inc()
        log.info(
            "liquidation_recorded user=%s outcome=%s method=%s tx=%s delay_blocks=%s bonus_bps=%d "
            "hf_after=%s",
            item.user,
            result.outcome,
            result.method,
            record.hash,
            result.delay_blocks,
            result.bonus_bps,
            result.hf_after,
        )
