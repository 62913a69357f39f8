"""Event discovery: every position-changing pool event and every feed `AnswerUpdated`, read with
`eth_getLogs` in block ranges that halve when the node refuses a range as too large."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3
from web3._utils.events import get_event_data

from keeper.contracts import abi
from keeper.deployment import Deployment
from keeper.rpc_batch import RpcCounter

log = logging.getLogger(__name__)

#: Pool events and the argument that names the account whose position changed.
POSITION_EVENTS: dict[str, tuple[str, ...]] = {
    "Supply": ("onBehalfOf",),
    "Withdraw": ("user",),
    "Borrow": ("user",),
    "Repay": ("onBehalfOf",),
    "CollateralToggled": ("user",),
    "LiquidationCall": ("user", "liquidator"),
    "DeficitReported": ("user",),
}
RESERVE_EVENTS = ("DeficitCovered", "DeficitSocialized", "ReserveConfigUpdated", "ReservePausedSet")


@dataclass(frozen=True)
class PriceUpdate:
    asset: str
    feed: str
    price: int
    round_id: int
    updated_at: int
    block: int
    log_index: int
    tx_hash: str


@dataclass(frozen=True)
class PoolEvent:
    name: str
    args: dict[str, Any]
    block: int
    log_index: int
    tx_hash: str


@dataclass
class ScanResult:
    """What a block range changed."""

    touched: set[str] = field(default_factory=set)
    first_seen: dict[str, int] = field(default_factory=dict)
    prices: list[PriceUpdate] = field(default_factory=list)
    events: list[PoolEvent] = field(default_factory=list)
    undecodable: int = 0

    def merge(self, other: ScanResult) -> None:
        self.touched |= other.touched
        for user, block in other.first_seen.items():
            self.first_seen.setdefault(user, block)
        self.prices.extend(other.prices)
        self.events.extend(other.events)
        self.undecodable += other.undecodable


def _is_range_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(
        hint in text
        for hint in (
            "range",
            "too many",
            "limit",
            "exceed",
            "size",
            "timeout",
            "timed out",
            "10000",
        )
    )


class Discovery:
    """Reads and decodes logs of the pool and the deployment's feeds."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        rpc: RpcCounter,
        max_chunk: int = 5_000,
        get_logs: Callable[[dict[str, Any]], Sequence[Any]] | None = None,
    ):
        self.w3 = w3
        self.rpc = rpc
        self.pool = deployment.pool
        self.feeds = deployment.feeds
        self.addresses = [deployment.pool, *self.feeds]
        self.chunk = max_chunk
        self.max_chunk = max_chunk
        self._get_logs = get_logs or w3.eth.get_logs
        self._event_abis: dict[bytes, dict[str, Any]] = {}
        for item in abi("LendingPool"):
            if item.get("type") == "event" and (
                item["name"] in POSITION_EVENTS or item["name"] in RESERVE_EVENTS
            ):
                self._event_abis[event_abi_to_log_topic(item)] = item
        answer_updated = next(
            i for i in abi("MockPriceFeed") if i.get("type") == "event" and i["name"] == "AnswerUpdated"
        )
        self.answer_updated_topic = event_abi_to_log_topic(answer_updated)
        self._answer_abi = answer_updated

    def scan(self, from_block: int, to_block: int) -> ScanResult:
        """All changes in [from_block, to_block], in chunks that halve on range errors."""
        result = ScanResult()
        start = from_block
        while start <= to_block:
            end = min(to_block, start + self.chunk - 1)
            try:
                self.rpc.add()
                logs = self._get_logs({"fromBlock": start, "toBlock": end, "address": self.addresses})
            except Exception as exc:
                if self.chunk > 1 and (_is_range_error(exc) or end > start):
                    self.chunk = max(1, self.chunk // 2)
                    log.warning(
                        "get_logs_range_refused from=%d to=%d next_chunk=%d error=%s",
                        start,
                        end,
                        self.chunk,
                        str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__,
                    )
                    continue
                raise
            result.merge(self.decode(logs))
            start = end + 1
            self.chunk = min(self.max_chunk, self.chunk * 2)
        return result

    def decode(self, logs: Sequence[Any]) -> ScanResult:
        result = ScanResult()
        for entry in logs:
            try:
                self._decode_one(entry, result)
            except Exception as exc:  # hostile or unknown data: log and skip
                result.undecodable += 1
                log.warning(
                    "log_undecodable block=%s index=%s error=%s",
                    entry.get("blockNumber") if hasattr(entry, "get") else "?",
                    entry.get("logIndex") if hasattr(entry, "get") else "?",
                    type(exc).__name__,
                )
        return result

    def _decode_one(self, entry: Any, result: ScanResult) -> None:
        topics = entry["topics"]
        if not topics:
            raise ValueError("log without topics")
        topic0 = bytes(topics[0])
        address = Web3.to_checksum_address(entry["address"])
        block = int(entry["blockNumber"])
        tx_hash = Web3.to_hex(entry["transactionHash"])
        if address in self.feeds and topic0 == self.answer_updated_topic:
            data = get_event_data(self.w3.codec, self._answer_abi, entry)
            asset = self.feeds[address]
            result.prices.append(
                PriceUpdate(
                    asset=asset.address,
                    feed=address,
                    price=int(data["args"]["current"]),
                    round_id=int(data["args"]["roundId"]),
                    updated_at=int(data["args"]["updatedAt"]),
                    block=block,
                    log_index=int(entry["logIndex"]),
                    tx_hash=tx_hash,
                )
            )
            return
        if address != self.pool:
            return
        event_abi = self._event_abis.get(topic0)
        if event_abi is None:
            return
        data = get_event_data(self.w3.codec, event_abi, entry)
        name = event_abi["name"]
        args = dict(data["args"])
        result.events.append(PoolEvent(name, args, block, int(entry["logIndex"]), tx_hash))
        for key in POSITION_EVENTS.get(name, ()):
            user = Web3.to_checksum_address(args[key])
            result.touched.add(user)
            result.first_seen.setdefault(user, block)
