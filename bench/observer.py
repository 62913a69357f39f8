"""The chain's truth about liquidations, independent of the keeper (issue 15).

Imports nothing from `keeper/`: it reads the ABI files in `keeper/abi/` and the deployment file as
raw JSON, and talks to the node with web3.py. For every block of a range it reads every borrower's
health factor at that block through `LiquidationLens.getHealthFactorsChecked` (batched `eth_call`s
with block numbers) and every `LiquidationCall`, `DeficitReported`, `DeficitCovered` and
`DeficitSocialized` log of the pool. Borrowers are the accounts of the pool's `Borrow` logs since the
deploy block.

A liquidation **episode** of an account starts at the first block whose state (after the block) has
its health factor below 1e18 and ends at the first block whose state is healthy again or has no debt
left (fully liquidated), or stays open at the end of the range. A liquidation mined in block `b`
belongs to the episode open after block `b - 1` (or one starting at `b` when the account became
liquidatable within that block). Delay = inclusion block of the episode's first liquidation - the
episode's first liquidatable block.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3 import Web3

ROOT = Path(__file__).resolve().parents[1]
ABI_DIR = ROOT / "keeper" / "abi"
WAD = 10**18
NO_DEBT = 2**256 - 1
LENS_CHUNK = 400
RPC_BATCH = 40
CALL_GAS = 1_000_000_000


def abi(name: str) -> list[dict[str, Any]]:
    raw = json.loads((ABI_DIR / f"{name}.json").read_text())
    return raw["abi"] if isinstance(raw, dict) else raw


@dataclass(frozen=True)
class DeploymentView:
    """What the observer needs of a deployment file, read as raw JSON."""

    pool: str
    lens: str
    oracle: str
    deploy_block: int
    decimals: dict[str, int]  # asset address -> token decimals
    symbols: dict[str, str]  # asset address -> symbol
    flash_liquidator: str | None = None  # the keeper's FlashLiquidator, when the deployment has one

    @classmethod
    def read(cls, path: Path) -> DeploymentView:
        raw = json.loads(Path(path).read_text())
        assets = raw["assets"]
        return cls(
            pool=Web3.to_checksum_address(raw["pool"]),
            lens=Web3.to_checksum_address(raw["lens"]),
            oracle=Web3.to_checksum_address(raw["oracle"]),
            deploy_block=int(raw["deploy_block"]),
            decimals={Web3.to_checksum_address(a["address"]): int(a["decimals"]) for a in assets.values()},
            symbols={Web3.to_checksum_address(a["address"]): s for s, a in assets.items()},
            flash_liquidator=(
                Web3.to_checksum_address(raw["flash_liquidator"]["address"])
                if raw.get("flash_liquidator")
                else None
            ),
        )


@dataclass(frozen=True)
class Liquidation:
    """One `LiquidationCall` log, with its transaction and the oracle prices of its block."""

    block: int
    tx_hash: str
    tx_index: int
    log_index: int
    user: str
    liquidator: str
    sender: str
    collateral_asset: str
    debt_asset: str
    debt_repaid: int
    collateral_seized: int
    protocol_fee: int
    liquidation_bonus: int
    health_factor_before: int
    gas_used: int
    priority_fee_wei: int  # effective tip per gas: effectiveGasPrice - the block's base fee
    debt_repaid_usd: float
    collateral_seized_usd: float
    collateral_price: int = 0  # oracle, 8 decimals, as the liquidation executed (its amounts imply it)
    debt_price: int = 0
    collateral_sold: int | None = None  # a flash liquidation: collateral sold to the pools (units)
    fill_price_usd: float | None = None  # debt bought (USD at inclusion) per whole collateral sold

    @property
    def fill_vs_oracle_bps(self) -> float | None:
        """How far below the inclusion block's oracle price the collateral was sold, BPS."""
        if self.fill_price_usd is None or not self.collateral_price:
            return None
        reference = self.collateral_price / 1e8
        return (reference - self.fill_price_usd) / reference * 1e4


@dataclass(frozen=True)
class SentTx:
    """A transaction to the pool (or to the deployment's FlashLiquidator) from a watched address, as
    mined."""

    tx_hash: str
    block: int
    tx_index: int
    sender: str
    status: int
    gas_used: int
    user: str | None  # the liquidated account for a `liquidate` call


@dataclass
class Episode:
    """One stretch of blocks in which an account was liquidatable."""

    user: str
    start_block: int
    end_block: int | None = None  # first block healthy again or without debt; None: still open
    end: str = "open"  # healthy | closed (no debt left) | open
    liquidations: list[Liquidation] = field(default_factory=list)

    @property
    def first(self) -> Liquidation | None:
        return self.liquidations[0] if self.liquidations else None

    @property
    def delay(self) -> int | None:
        return None if self.first is None else self.first.block - self.start_block


@dataclass(frozen=True)
class Deficit:
    """The net of the deficit logs of one asset over the range (reported - covered - socialized)."""

    asset: str
    reported: int
    settled: int

    @property
    def unsettled(self) -> int:
        return self.reported - self.settled


@dataclass
class Observation:
    """The chain's truth over blocks `from_block..to_block`."""

    from_block: int
    to_block: int
    borrowers: list[str]
    episodes: list[Episode]
    liquidations: list[Liquidation]
    still_liquidatable: list[str]
    deficits: list[Deficit]
    watched_txs: list[SentTx]  # transactions to the pool from the watched senders
    gas_limit: int
    unreadable: int  # (account, block) health factors the lens could not read
    zombies: dict[int, int] = field(default_factory=dict)  # block -> accounts with debt and no collateral

    def episodes_of(self, user: str) -> list[Episode]:
        return [e for e in self.episodes if e.user == user]


class Observer:
    """Reads a range of blocks of one deployment; see the module docstring."""

    def __init__(self, rpc_url: str, deployment_path: Path, timeout: float = 120):
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self.deployment = DeploymentView.read(deployment_path)
        self.pool = self.w3.eth.contract(address=self.deployment.pool, abi=abi("LendingPool"))
        self.lens = self.w3.eth.contract(address=self.deployment.lens, abi=abi("LiquidationLens"))
        self.oracle = self.w3.eth.contract(address=self.deployment.oracle, abi=abi("PriceOracle"))
        self.flash = (
            self.w3.eth.contract(address=self.deployment.flash_liquidator, abi=abi("FlashLiquidator"))
            if self.deployment.flash_liquidator
            else None
        )
        flash_event = next(e for e in abi("FlashLiquidator") if e.get("name") == "FlashLiquidation")
        self.flash_topic = Web3.to_hex(event_abi_to_log_topic(flash_event))

    # raw JSON-RPC

    def _batch(self, calls: Sequence[tuple[str, list[Any]]], reverts_as_none: bool = False) -> list[Any]:
        """The results of `calls`, in order; an error fails the whole batch, except with
        `reverts_as_none` an `eth_call` that reverted, which becomes None."""
        results: list[Any] = []
        for start in range(0, len(calls), RPC_BATCH):
            part = list(calls[start : start + RPC_BATCH])
            answers = self.w3.provider.make_batch_request(part)  # type: ignore[arg-type]
            if isinstance(answers, dict):
                raise RuntimeError(f"batch refused: {answers.get('error')}")
            by_id = sorted(answers, key=lambda a: int(a["id"]))
            for (method, _), answer in zip(part, by_id, strict=True):
                error = answer.get("error")
                if error and reverts_as_none and method == "eth_call" and _is_revert(error):
                    results.append(None)
                elif error:
                    raise RuntimeError(f"{method} failed: {error}")
                else:
                    results.append(answer["result"])
        return results

    def _logs(self, event: Any, from_block: int, to_block: int) -> list[Any]:
        return list(event.get_logs(from_block=from_block, to_block=to_block))

    # reads

    def borrowers(self, to_block: int) -> list[str]:
        """Every account with a `Borrow` log from the deploy block to `to_block`, by first borrow."""
        seen: dict[str, None] = {}
        for entry in self._logs(self.pool.events.Borrow, self.deployment.deploy_block, to_block):
            seen.setdefault(Web3.to_checksum_address(entry["args"]["user"]), None)
        return list(seen)

    def health_factors(self, users: Sequence[str], blocks: Sequence[int]) -> dict[int, dict[str, int | None]]:
        """block -> account -> health factor at that block (None where the lens cannot read it)."""
        fn = self.lens.functions.getHealthFactorsChecked
        chunks = [list(users[i : i + LENS_CHUNK]) for i in range(0, len(users), LENS_CHUNK)]
        calls, keys = [], []
        for block in blocks:
            for chunk in chunks:
                data = fn(chunk)._encode_transaction_data()
                calls.append(
                    (
                        "eth_call",
                        [{"to": self.deployment.lens, "data": data, "gas": hex(CALL_GAS)}, hex(block)],
                    )
                )
                keys.append((block, chunk))
        out: dict[int, dict[str, int | None]] = {b: {} for b in blocks}
        for (block, chunk), raw in zip(keys, self._batch(calls), strict=True):
            hfs, ok = self.w3.codec.decode(["uint256[]", "bool[]"], bytes.fromhex(raw[2:]))
            for user, hf, readable in zip(chunk, hfs, ok, strict=True):
                out[block][user] = int(hf) if readable else None
        return out

    def prices(self, assets: Iterable[str], blocks: Iterable[int]) -> dict[tuple[str, int], int]:
        """(asset, block) -> oracle price (8 decimals) at that block. Where `getPrice` reverts after the
        block because a secondary feed's breaker holds the asset (the TWAP guard in a fast market), the
        primary feed's answer at that block: the price `getPrice` gives whenever the cross-check
        passes, so a liquidation made earlier in that block is still valued at the block's price."""
        keys = [(a, b) for a in sorted(set(assets)) for b in sorted(set(blocks))]
        calls = [
            (
                "eth_call",
                [
                    {
                        "to": self.deployment.oracle,
                        "data": self.oracle.functions.getPrice(a)._encode_transaction_data(),
                    },
                    hex(b),
                ],
            )
            for a, b in keys
        ]
        answers = dict(zip(keys, self._batch(calls, reverts_as_none=True), strict=True))
        refused = [k for k, raw in answers.items() if raw is None]
        primary = self._primary_prices(refused) if refused else {}
        return {k: primary[k] if raw is None else int(raw, 16) for k, raw in answers.items()}

    def _primary_prices(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """(asset, block) -> the asset's primary feed answer at that block, scaled to 8 decimals (down)."""
        feeds = {a: self.oracle.functions.getFeed(a).call() for a in {a for a, _ in keys}}
        feed = self.w3.eth.contract(abi=abi("MockPriceFeed"))  # its AggregatorV3Interface part
        data = feed.functions.latestRoundData()._encode_transaction_data()
        calls = [("eth_call", [{"to": feeds[a][0], "data": data}, hex(b)]) for a, b in keys]
        out: dict[tuple[str, int], int] = {}
        for (asset, block), raw in zip(keys, self._batch(calls), strict=True):
            answer = self.w3.codec.decode(
                ["uint80", "int256", "uint256", "uint256", "uint80"], bytes.fromhex(raw[2:])
            )[1]
            out[(asset, block)] = int(answer) * 10**8 // 10 ** int(feeds[asset][2])
        return out

    def observe(self, from_block: int, to_block: int, watch: Sequence[str] = ()) -> Observation:
        """The chain's truth over `from_block..to_block`; `watch`: senders whose pool transactions
        (reverted ones included) are collected."""
        users = self.borrowers(to_block)
        blocks = list(range(from_block, to_block + 1))
        hfs = self.health_factors(users, blocks) if users else {b: {} for b in blocks}
        full = self._batch([("eth_getBlockByNumber", [hex(b), True]) for b in blocks])
        base_fee = {
            b: int(blk.get("baseFeePerGas") or "0x0", 16) for b, blk in zip(blocks, full, strict=True)
        }
        gas_limit = int(full[-1]["gasLimit"], 16)
        senders = {
            t["hash"]: Web3.to_checksum_address(t["from"]) for blk in full for t in blk["transactions"]
        }
        watched = {Web3.to_checksum_address(a) for a in watch}
        targets = {self.deployment.pool.lower()}
        if self.deployment.flash_liquidator:
            targets.add(self.deployment.flash_liquidator.lower())
        watched_hashes = [
            t["hash"]
            for blk in full
            for t in blk["transactions"]
            if (t.get("to") or "").lower() in targets and Web3.to_checksum_address(t["from"]) in watched
        ]
        logs = self._logs(self.pool.events.LiquidationCall, from_block, to_block)
        hashes = sorted({e["transactionHash"].to_0x_hex() for e in logs} | set(watched_hashes))
        receipts = dict(
            zip(hashes, self._batch([("eth_getTransactionReceipt", [h]) for h in hashes]), strict=True)
        )
        assets = {e["args"]["collateralAsset"] for e in logs} | {e["args"]["debtAsset"] for e in logs}
        prices = self.prices(assets, {e["blockNumber"] for e in logs}) if logs else {}
        liquidations = sorted(
            (self._liquidation(e, receipts, senders, base_fee, prices) for e in logs),
            key=lambda liq: (liq.block, liq.tx_index, liq.log_index),
        )
        sent = [self._sent(h, receipts[h], senders[h], full, blocks) for h in watched_hashes]
        episodes, still = derive_episodes(users, blocks, hfs, liquidations)
        return Observation(
            from_block=from_block,
            to_block=to_block,
            borrowers=users,
            episodes=episodes,
            liquidations=liquidations,
            still_liquidatable=still,
            deficits=self._deficits(from_block, to_block),
            watched_txs=sorted(sent, key=lambda t: (t.block, t.tx_index)),
            gas_limit=gas_limit,
            unreadable=sum(1 for b in blocks for hf in hfs[b].values() if hf is None),
            # The lens reads a health factor of exactly 0 only for debt with no collateral behind it.
            zombies={b: sum(1 for hf in hfs[b].values() if hf == 0) for b in blocks},
        )

    def fund_value_usd(self, fee_receiver: str, blocks: Sequence[int]) -> dict[int, float]:
        """block -> the insurance fund's value: the fee receiver's supply in every reserve, at that
        block's oracle prices (USD)."""
        assets = sorted(self.deployment.decimals)
        prices = self.prices(assets, blocks)
        fn = self.pool.functions.getUserPosition
        keys = [(a, b) for b in blocks for a in assets]
        calls = [
            (
                "eth_call",
                [
                    {"to": self.deployment.pool, "data": fn(fee_receiver, a)._encode_transaction_data()},
                    hex(b),
                ],
            )
            for a, b in keys
        ]
        out: dict[int, float] = dict.fromkeys(blocks, 0.0)
        for (asset, block), raw in zip(keys, self._batch(calls), strict=True):
            supplied = self.w3.codec.decode(["uint256", "uint256", "bool"], bytes.fromhex(raw[2:]))[0]
            out[block] += self._usd(asset, int(supplied), prices[(asset, block)])
        return out

    def _liquidation(
        self,
        entry: Any,
        receipts: dict[str, Any],
        senders: dict[str, str],
        base_fee: dict[int, int],
        prices: dict[tuple[str, int], int],
    ) -> Liquidation:
        args = entry["args"]
        tx_hash = entry["transactionHash"].to_0x_hex()
        receipt = receipts[tx_hash]
        block = int(entry["blockNumber"])
        debt, coll = args["debtAsset"], args["collateralAsset"]
        debt_price = prices[(debt, block)]
        coll_price = self._executed_price(args, debt, coll, debt_price) or prices[(coll, block)]
        sold = self._collateral_sold(receipt, int(entry["logIndex"]))
        debt_usd = self._usd(debt, int(args["debtRepaid"]), debt_price)
        fill = debt_usd / (sold / 10 ** self.deployment.decimals[coll]) if sold else None
        return Liquidation(
            block=block,
            tx_hash=tx_hash,
            tx_index=int(entry["transactionIndex"]),
            log_index=int(entry["logIndex"]),
            user=Web3.to_checksum_address(args["user"]),
            liquidator=Web3.to_checksum_address(args["liquidator"]),
            sender=senders.get(tx_hash, Web3.to_checksum_address(receipt["from"])),
            collateral_asset=coll,
            debt_asset=debt,
            debt_repaid=int(args["debtRepaid"]),
            collateral_seized=int(args["collateralSeized"]),
            protocol_fee=int(args["protocolFee"]),
            liquidation_bonus=int(args["liquidationBonus"]),
            health_factor_before=int(args["healthFactorBefore"]),
            gas_used=int(receipt["gasUsed"], 16),
            priority_fee_wei=int(receipt.get("effectiveGasPrice") or "0x0", 16) - base_fee.get(block, 0),
            debt_repaid_usd=debt_usd,
            collateral_seized_usd=self._usd(coll, int(args["collateralSeized"]), coll_price),
            collateral_price=coll_price,
            debt_price=debt_price,
            collateral_sold=sold,
            fill_price_usd=fill,
        )

    def _executed_price(self, args: Any, debt: str, coll: str, debt_price: int) -> int:
        """The collateral's oracle price the liquidation executed at, from its own amounts (the pool
        seizes the repaid value times the bonus), so that an oracle update later in the same block does
        not re-price it; 0 when nothing was seized."""
        seized = int(args["collateralSeized"])
        if seized == 0:
            return 0
        numerator = int(args["debtRepaid"]) * debt_price * int(args["liquidationBonus"])
        numerator *= 10 ** self.deployment.decimals[coll]
        return numerator // (seized * 10_000 * 10 ** self.deployment.decimals[debt])

    def _collateral_sold(self, receipt: dict[str, Any], after_log: int) -> int | None:
        """The collateral a flash liquidation sold: the deployment's FlashLiquidator's
        `FlashLiquidation` log that follows the `LiquidationCall` at `after_log` in the receipt."""
        if self.flash is None:
            return None
        for entry in receipt["logs"]:
            if (
                int(entry["logIndex"], 16) > after_log
                and Web3.to_checksum_address(entry["address"]) == self.flash.address
                and entry["topics"][0] == self.flash_topic
            ):
                event = self.flash.events.FlashLiquidation().process_log(_log(entry))
                return int(event["args"]["collateralSold"])
        return None

    def _usd(self, asset: str, amount: int, price: int) -> float:
        return amount * price / 10 ** self.deployment.decimals[asset] / 1e8

    def _sent(
        self, tx_hash: str, receipt: dict[str, Any], sender: str, full: list[Any], blocks: list[int]
    ) -> SentTx:
        block = int(receipt["blockNumber"], 16)
        tx = next(t for t in full[blocks.index(block)]["transactions"] if t["hash"] == tx_hash)
        user = None
        try:
            if self.flash is not None and tx["to"].lower() == self.flash.address.lower():
                fn, params = self.flash.decode_function_input(tx["input"])
                if fn.fn_name == "liquidate":
                    user = Web3.to_checksum_address(params["order"]["user"])
            else:
                fn, params = self.pool.decode_function_input(tx["input"])
                if fn.fn_name == "liquidate":
                    user = Web3.to_checksum_address(params["user"])
        except ValueError:
            pass
        return SentTx(
            tx_hash=tx_hash,
            block=block,
            tx_index=int(receipt["transactionIndex"], 16),
            sender=sender,
            status=int(receipt["status"], 16),
            gas_used=int(receipt["gasUsed"], 16),
            user=user,
        )

    def _deficits(self, from_block: int, to_block: int) -> list[Deficit]:
        reported: dict[str, int] = defaultdict(int)
        settled: dict[str, int] = defaultdict(int)
        for e in self._logs(self.pool.events.DeficitReported, from_block, to_block):
            reported[e["args"]["asset"]] += int(e["args"]["amount"])
        for name in ("DeficitCovered", "DeficitSocialized"):
            for e in self._logs(getattr(self.pool.events, name), from_block, to_block):
                settled[e["args"]["asset"]] += int(e["args"]["amount"])
        return [Deficit(a, reported[a], settled[a]) for a in sorted(set(reported) | set(settled))]


def _is_revert(error: dict[str, Any]) -> bool:
    """Whether a JSON-RPC error is a call that reverted (Anvil: code 3; Ganache: a VM exception)."""
    return error.get("code") == 3 or "revert" in str(error.get("message", "")).lower()


def derive_episodes(
    users: Sequence[str],
    blocks: Sequence[int],
    hfs: dict[int, dict[str, int | None]],
    liquidations: Sequence[Liquidation],
) -> tuple[list[Episode], list[str]]:
    """Episodes per account from the health factor after each block and the liquidations in it;
    and the accounts liquidatable after the last block. An unreadable health factor keeps the
    account's state as it was."""
    by_block: dict[int, list[Liquidation]] = defaultdict(list)
    for liq in liquidations:
        by_block[liq.block].append(liq)
    open_: dict[str, Episode] = {}
    episodes: list[Episode] = []
    for block in blocks:
        for liq in by_block.get(block, []):
            episode = open_.get(liq.user)
            if episode is None:  # liquidatable only within this block (or before the range)
                episode = open_[liq.user] = Episode(liq.user, block)
                episodes.append(episode)
            episode.liquidations.append(liq)
        for user in users:
            hf = hfs[block].get(user)
            if hf is None:
                continue
            episode = open_.get(user)
            if hf < WAD and episode is None:
                open_[user] = episode = Episode(user, block)
                episodes.append(episode)
            elif hf >= WAD and episode is not None:
                episode.end_block = block
                episode.end = "closed" if hf == NO_DEBT else "healthy"
                del open_[user]
    return episodes, sorted(open_)


# figures


def _log(entry: dict[str, Any]) -> Any:
    """A raw JSON-RPC log as web3.py's event processing takes it."""
    from hexbytes import HexBytes
    from web3.datastructures import AttributeDict

    return AttributeDict(
        {
            "address": Web3.to_checksum_address(entry["address"]),
            "topics": [HexBytes(t) for t in entry["topics"]],
            "data": HexBytes(entry["data"]),
            "logIndex": int(entry["logIndex"], 16),
            "transactionIndex": int(entry["transactionIndex"], 16),
            "transactionHash": HexBytes(entry["transactionHash"]),
            "blockHash": HexBytes(entry["blockHash"]),
            "blockNumber": int(entry["blockNumber"], 16),
        }
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return float(ordered[rank - 1])


def capacity_on_time(episodes: Sequence[Episode], gas_limit: int) -> int:
    """Episodes whose first liquidation landed no later than the block gas limit allowed: among the
    episodes that started in the same block, in inclusion order, the k-th cannot land before block
    ceil(gas of the first k / gas limit) after the start."""
    by_start: dict[int, list[Episode]] = defaultdict(list)
    for e in episodes:
        if e.first is not None:
            by_start[e.start_block].append(e)
    on_time = 0
    for group in by_start.values():
        cumulative = 0
        for e in sorted(group, key=lambda e: (e.first.block, e.first.tx_index)):  # type: ignore[union-attr]
            cumulative += e.first.gas_used  # type: ignore[union-attr]
            if e.delay is not None and e.delay <= max(1, math.ceil(cumulative / gas_limit)):
                on_time += 1
    return on_time


def figures(
    obs: Observation, keeper: str | None = None, accounts: Iterable[str] | None = None
) -> dict[str, Any]:
    """The benchmark figures of an observation. `accounts`: restrict to these accounts' episodes
    (e.g. a crash's victims); `keeper`: the keeper's address, for races and its reverted sends.

    - next_block_share, capacity_share, liquidated_within_5_blocks_share: over all episodes;
    - races_won_share: episodes whose first liquidation came from the keeper, over the episodes
      liquidated by anyone;
    - keeper_next_block_share: next_block_share over the episodes the keeper won."""
    chosen = set(accounts) if accounts is not None else None
    episodes = [e for e in obs.episodes if chosen is None or e.user in chosen]
    done = [e for e in episodes if e.first is not None]
    delays = [e.delay for e in done if e.delay is not None]
    n = len(episodes)

    def share(count: int, total: int) -> float | None:
        return round(count / total, 4) if total else None

    result: dict[str, Any] = {
        "episodes": n,
        "accounts_liquidatable": len({e.user for e in episodes}),
        "accounts_liquidated": len({e.user for e in done}),
        "next_block_share": share(sum(1 for d in delays if d == 1), n),
        "capacity_share": share(capacity_on_time(episodes, obs.gas_limit), n),
        "liquidated_within_5_blocks_share": share(sum(1 for d in delays if d <= 5), n),
        "latency_blocks_p50": percentile(delays, 50),
        "latency_blocks_p95": percentile(delays, 95),
        "blocks_to_clear": max(delays) if delays else None,
        "liquidation_gas_mean": round(sum(e.first.gas_used for e in done) / len(done)) if done else None,  # type: ignore[union-attr]
        "still_liquidatable": len([u for u in obs.still_liquidatable if chosen is None or u in chosen]),
        "deficits_unsettled": sum(1 for d in obs.deficits if d.unsettled > 0),
        "block_gas_limit": obs.gas_limit,
    }
    if keeper is not None:
        me = Web3.to_checksum_address(keeper)
        won = [e for e in done if e.first.sender == me]  # type: ignore[union-attr]
        won_delays = [e.delay for e in won if e.delay is not None]
        reverted = [t for t in obs.watched_txs if t.sender == me and t.status == 0]
        result.update(
            {
                "races_won_share": share(len(won), len(done)),
                "keeper_next_block_share": share(sum(1 for d in won_delays if d == 1), len(won)),
                "keeper_reverted_txs": len(reverted),
                "keeper_reverted_gas": sum(t.gas_used for t in reverted),
            }
        )
    return result
