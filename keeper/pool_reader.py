"""Reads the pool's state in few RPC requests: reserves in one JSON-RPC batch, positions and health
factors through the LiquidationLens in calls of at most 500 accounts, all sent as one batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from web3 import Web3
from web3.types import BlockIdentifier

from keeper.calls import Function, by_name, function
from keeper.contracts import Contracts
from keeper.deployment import Deployment
from keeper.model import Account, LiquidationConfig, Reserve
from keeper.rpc_batch import RpcCounter, call_each, call_many

LENS_BATCH = 500
RESERVE_DATA = function("LendingPool", "getReserveData")
GET_POSITIONS = function("LiquidationLens", "getPositions")
GET_HEALTH_FACTORS = function("LiquidationLens", "getHealthFactors")


class PoolReader:
    def __init__(self, w3: Web3, contracts: Contracts, deployment: Deployment, rpc: RpcCounter):
        self.w3 = w3
        self.contracts = contracts
        self.deployment = deployment
        self.rpc = rpc
        self._symbols = {a.address: a.symbol for a in deployment.assets}
        self._reserve_list: list[str] | None = None

    def reserve_list(self) -> list[str]:
        if self._reserve_list is None:
            self.rpc.add()
            self._reserve_list = list(self.contracts.pool.functions.getReservesList().call())
        return self._reserve_list

    def liquidation_config(self, block: BlockIdentifier = "latest") -> LiquidationConfig:
        self.rpc.add()
        target, max_bonus_hf, factor = self.contracts.pool.functions.getLiquidationConfig().call(
            block_identifier=block
        )
        return LiquidationConfig(target, max_bonus_hf, factor)

    def reserves(self, block: BlockIdentifier = "latest") -> list[Reserve]:
        """Every reserve with interest accrued to `block` and its price (one batched request)."""
        assets = self.reserve_list()
        pool = self.contracts.pool.address
        results = call_many(self.w3, [RESERVE_DATA.call(pool, a) for a in assets], None, block)
        self.rpc.add()
        reserves = []
        for asset, result in zip(assets, results, strict=True):
            if not result.ok:
                raise RuntimeError(f"getReserveData({asset}) failed: {result.value}")
            reserves.append(self._reserve(asset, result.value[0]))
        return reserves

    def _reserve(self, asset: str, data: Sequence[Any]) -> Reserve:
        """A `ReserveData` struct, read by its ABI field names."""
        fields = by_name(RESERVE_DATA.field_names(), data)
        config = by_name(_components(RESERVE_DATA.outputs[0], "config"), fields["config"])
        return Reserve(
            asset=asset,
            symbol=self._symbols.get(asset, asset[:10]),
            id=fields["id"],
            decimals=fields["decimals"],
            collateral_factor=config["collateralFactor"],
            max_liquidation_bonus=config["maxLiquidationBonus"],
            liquidation_fee=config["liquidationFee"],
            receive_shares_enabled=config["receiveSharesEnabled"],
            paused=config["paused"],
            frozen=config["frozen"],
            borrow_index=fields["borrowIndex"],
            cash=fields["cash"],
            total_supply_shares=fields["totalSupplyShares"],
            total_drawn_shares=fields["totalDrawnShares"],
            total_added_assets=fields["totalAddedAssets"],
            deficit=fields["deficit"],
            price=fields["price"],
        )

    def _lens_batch(
        self, fn: Function, users: Sequence[str], block: BlockIdentifier
    ) -> list[tuple[list[str], tuple]]:
        """One lens function over `users` in chunks of at most 500 accounts, every chunk in one
        JSON-RPC batch request; (chunk, decoded outputs) in order."""
        chunks = [list(users[start : start + LENS_BATCH]) for start in range(0, len(users), LENS_BATCH)]
        lens = self.contracts.lens.address
        calls = [fn.call(lens, chunk) for chunk in chunks]
        self.rpc.add()
        results = call_many(self.w3, calls, None, block)
        for chunk, result in zip(chunks, results, strict=True):
            if not result.ok:
                raise RuntimeError(f"{fn.signature} over {len(chunk)} accounts failed: {result.value}")
        return [(chunk, result.value) for chunk, result in zip(chunks, results, strict=True)]

    def positions(self, users: Sequence[str], block: BlockIdentifier = "latest") -> list[Account]:
        """Every position of `users` through the lens, at most 500 accounts per call."""
        accounts: list[Account] = []
        for chunk, (configs, supplies, draws) in self._lens_batch(GET_POSITIONS, users, block):
            for user, config, supply, drawn in zip(chunk, configs, supplies, draws, strict=True):
                accounts.append(
                    Account(
                        address=user,
                        config=config,
                        supply_shares={i: s for i, s in enumerate(supply) if s},
                        drawn_shares={i: d for i, d in enumerate(drawn) if d},
                    )
                )
        return accounts

    def health_factors_at(self, queries: Sequence[tuple[int, Sequence[str]]]) -> list[dict[str, int] | None]:
        """Health factors of several (block, accounts) pairs, at most 500 accounts per call, every
        call in one JSON-RPC batch; None for a pair the node could not answer (e.g. a block whose
        state it no longer keeps)."""
        lens = self.contracts.lens.address
        calls, owners = [], []
        for index, (block, users) in enumerate(queries):
            for start in range(0, len(users), LENS_BATCH):
                chunk = list(users[start : start + LENS_BATCH])
                calls.append((GET_HEALTH_FACTORS.call(lens, chunk), block))
                owners.append((index, chunk))
        if not calls:
            return [{} for _ in queries]
        self.rpc.add()
        out: list[dict[str, int] | None] = [{} for _ in queries]
        for (index, chunk), result in zip(owners, call_each(self.w3, calls, None), strict=True):
            answered = out[index]
            if answered is None:
                continue
            if not result.ok:
                out[index] = None
                continue
            answered.update(zip(chunk, result.value[0], strict=True))
        return out

    def health_factors(self, users: Sequence[str], block: BlockIdentifier = "latest") -> dict[str, int]:
        """Health factors from the chain (the lens), at most 500 accounts per call."""
        result: dict[str, int] = {}
        for chunk, (hfs,) in self._lens_batch(GET_HEALTH_FACTORS, users, block):
            result.update(zip(chunk, hfs, strict=True))
        return result


def _components(output: dict[str, Any], name: str) -> tuple[str, ...]:
    """The field names of the struct field `name` of a struct output."""
    field = next(c for c in output["components"] if c["name"] == name)
    return tuple(c["name"] for c in field["components"])
