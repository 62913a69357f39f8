"""Reads the pool's state in few RPC requests: reserves in one JSON-RPC batch, positions and health
factors through the LiquidationLens in calls of at most 500 accounts, all sent as one batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from web3 import Web3
from web3.types import BlockIdentifier

from keeper.contracts import Contracts
from keeper.deployment import Deployment
from keeper.model import Account, LiquidationConfig, Reserve
from keeper.rpc_batch import RawCall, call_many

LENS_BATCH = 500


@dataclass
class RpcCounter:
    """Counts the RPC requests the keeper makes (a batch counts as one)."""

    calls: int = 0

    def add(self, n: int = 1) -> None:
        self.calls += n


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
        pool = self.contracts.pool
        results = call_many(self.w3, [pool.functions.getReserveData(a) for a in assets], None, block)
        self.rpc.add()
        reserves = []
        for asset, result in zip(assets, results, strict=True):
            if not result.ok:
                raise RuntimeError(f"getReserveData({asset}) failed: {result.value}")
            reserves.append(self._reserve(asset, result.value[0]))
        return reserves

    def _reserve(self, asset: str, data: Sequence) -> Reserve:
        (config, rid, decimals, index, _last, cash, supply, drawn, added, _debt, deficit, price) = data
        return Reserve(
            asset=asset,
            symbol=self._symbols.get(asset, asset[:10]),
            id=rid,
            decimals=decimals,
            collateral_factor=config[0],
            max_liquidation_bonus=config[1],
            liquidation_fee=config[2],
            receive_shares_enabled=config[3],
            paused=config[4],
            frozen=config[5],
            borrow_index=index,
            cash=cash,
            total_supply_shares=supply,
            total_drawn_shares=drawn,
            total_added_assets=added,
            deficit=deficit,
            price=price,
        )

    def _lens_batch(
        self, signature: str, outputs: tuple[str, ...], users: Sequence[str], block: BlockIdentifier
    ) -> list[tuple[list[str], tuple]]:
        """One lens function over `users` in chunks of at most 500 accounts, every chunk in one
        JSON-RPC batch request; (chunk, decoded outputs) in order."""
        chunks = [list(users[start : start + LENS_BATCH]) for start in range(0, len(users), LENS_BATCH)]
        lens = self.contracts.lens.address
        calls = [RawCall.encode(lens, signature, [chunk], ["address[]"], outputs) for chunk in chunks]
        self.rpc.add()
        results = call_many(self.w3, calls, None, block)
        for chunk, result in zip(chunks, results, strict=True):
            if not result.ok:
                raise RuntimeError(f"{signature} over {len(chunk)} accounts failed: {result.value}")
        return [(chunk, result.value) for chunk, result in zip(chunks, results, strict=True)]

    def positions(self, users: Sequence[str], block: BlockIdentifier = "latest") -> list[Account]:
        """Every position of `users` through the lens, at most 500 accounts per call."""
        accounts: list[Account] = []
        outputs = ("uint256[]", "uint256[][]", "uint256[][]")
        batches = self._lens_batch("getPositions(address[])", outputs, users, block)
        for chunk, (configs, supplies, draws) in batches:
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

    def health_factors(self, users: Sequence[str], block: BlockIdentifier = "latest") -> dict[str, int]:
        """Health factors from the chain (the lens), at most 500 accounts per call."""
        result: dict[str, int] = {}
        for chunk, (hfs,) in self._lens_batch("getHealthFactors(address[])", ("uint256[]",), users, block):
            result.update(zip(chunk, hfs, strict=True))
        return result
