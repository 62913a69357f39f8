"""Borrowers on an Anvil node, fast: the one seeder of the demo, the keeper benchmarks and
`scripts/devnet.py`. Four transactions per borrower through web3.py would take minutes for the
benchmarks' 10,000 positions.

A funded supplier mints, approves and supplies each borrower's collateral on the borrower's behalf;
then every borrower enables it as collateral and borrows from its own address, an unlocked or
impersonated account (no key is needed). Both rounds go out as JSON-RPC batches of
`eth_sendTransaction` (`keeper.rpc_batch.send_batch`, calldata from `RawCall.encode`) with automine
off and are mined in large blocks; the node's block gas limit and mining mode are put back
afterwards. Every receipt is checked: a seeding failure stops the caller instead of skewing it.
Where the node charges a base fee, transactions pay twice the base fee and borrowers without the
ETH for it are given some with `anvil_setBalance`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from web3 import HTTPProvider, Web3

from keeper.contracts import abi
from keeper.deployment import Deployment
from keeper.rpc_batch import RawCall, send_batch

log = logging.getLogger(__name__)

MAX_UINT = 2**256 - 1
BATCH = 1_000
SEEDING_GAS_LIMIT = 1_000_000_000
SUPPLY_GAS = 250_000
BORROW_GAS = 400_000
ENABLE_GAS = 200_000
CONFIG_GAS = 200_000
#: Positions of ReserveConfig fields (struct order): collateralFactor first, maxLtv last.
CONFIG_COLLATERAL_FACTOR, CONFIG_MAX_LTV = 0, 10
TOKEN_GAS = 100_000
SEEDING_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Position:
    """One borrower: `collateral_amount` of one asset, `debt_amount` of another (token units)."""

    borrower: str
    collateral: str
    collateral_amount: int
    debt: str
    debt_amount: int


def borrower_address(namespace: int, index: int) -> str:
    """A deterministic address no key controls; `namespace` keeps populations apart."""
    return Web3.to_checksum_address(f"0x{namespace:08x}{index:032x}")


@dataclass(frozen=True)
class Sizing:
    """Token amounts for positions given in USD and health factors, at the given prices."""

    prices: Mapping[str, float]  # USD per token
    decimals: Mapping[str, int]
    collateral_factors: Mapping[str, float]  # fractions (0.8 for 8000 BPS)

    @classmethod
    def of(cls, deployment: Deployment, prices: Mapping[str, float]) -> Sizing:
        return cls(
            prices=dict(prices),
            decimals={a.symbol: a.decimals for a in deployment.assets},
            collateral_factors={a.symbol: a.config["collateral_factor"] / 1e4 for a in deployment.assets},
        )

    def units(self, symbol: str, usd: float) -> int:
        """`usd` worth of `symbol` in token units, rounded down."""
        return int(usd / self.prices[symbol] * 10 ** self.decimals[symbol])

    def position(
        self, borrower: str, collateral: str, collateral_usd: float, debt: str, hf: float
    ) -> Position:
        """`collateral_usd` of `collateral` and as much `debt` as puts the health factor at `hf`."""
        debt_usd = collateral_usd * self.collateral_factors[collateral] / hf
        return Position(
            borrower, collateral, self.units(collateral, collateral_usd), debt, self.units(debt, debt_usd)
        )


def seeding_web3(url: str) -> Web3:
    """A connection whose batches may take minutes (a block of a thousand supplies on a busy machine)."""
    return Web3(HTTPProvider(url, request_kwargs={"timeout": SEEDING_TIMEOUT_SECONDS}))


def _call(signature: str, types: Sequence[str], args: Sequence[Any], to: str) -> str:
    return RawCall.encode(to, signature, args, types, ()).data


class Seeder:
    """Seeds positions on a deployed protocol; `supplier` is an unlocked account of the node."""

    def __init__(self, w3: Web3, deployment: Deployment, supplier: str):
        self.w3 = w3
        self.pool = deployment.pool
        self.tokens = {asset.symbol: asset.address for asset in deployment.assets}
        self.supplier = Web3.to_checksum_address(supplier)

    def fund_supplier(self, amounts: Mapping[str, int]) -> None:
        """Mints and approves what the supplier supplies: liquidity and the borrowers' collateral."""
        txs = []
        for symbol, amount in amounts.items():
            token = self.tokens[symbol]
            mint = _call("mint(address,uint256)", ("address", "uint256"), (self.supplier, amount), token)
            approve = _call("approve(address,uint256)", ("address", "uint256"), (self.pool, MAX_UINT), token)
            txs += [_tx(self.supplier, token, mint), _tx(self.supplier, token, approve)]
        self._with_big_blocks(lambda: self._send_all(self._numbered(txs)))

    def supply_liquidity(self, amounts: Mapping[str, int]) -> None:
        """The supplier supplies `amounts` for itself: the liquidity borrowers draw."""
        txs = [self._supply(symbol, amount, self.supplier) for symbol, amount in amounts.items()]
        self._with_big_blocks(lambda: self._send_all(self._numbered(txs)))

    def provide(self, positions: Sequence[Position], liquidity: Mapping[str, int]) -> None:
        """Funds the supplier with every position's collateral plus `liquidity`, and supplies the
        liquidity."""
        need: dict[str, int] = {}
        for p in positions:
            need[p.collateral] = need.get(p.collateral, 0) + p.collateral_amount
        self.fund_supplier({s: need.get(s, 0) + liquidity.get(s, 0) for s in self.tokens})
        self.supply_liquidity(liquidity)

    def mint(self, to: str, amounts: Mapping[str, int]) -> None:
        """Mints mock tokens to `to` (the keeper's debt tokens, say), sent by the supplier."""
        pair = ("address", "uint256")
        txs = [
            _tx(self.supplier, self.tokens[s], _call("mint(address,uint256)", pair, (to, a), self.tokens[s]))
            for s, a in amounts.items()
        ]
        self._with_big_blocks(lambda: self._send_all(self._numbered(txs)))

    def seed(self, positions: Sequence[Position]) -> None:
        """Supplies every collateral on behalf of its borrower; then every borrower enables it as
        collateral (a supply on someone else's behalf does not) and borrows. A position may sit below
        the borrow factor (a liquidation health factor under collateralFactor / maxLtv, which no borrow
        can open): the pool's owner lifts each reserve's maxLtv to its collateral factor for the
        borrows and puts it back afterwards."""

        def run() -> None:
            self._rpc("anvil_autoImpersonateAccount", [True])
            try:
                self._send_all(
                    self._numbered(
                        self._supply(p.collateral, p.collateral_amount, p.borrower) for p in positions
                    )
                )
                lifted = self._lift_borrow_factors()
                borrowers = [p.borrower for p in positions]
                nonces = self._values([("eth_getTransactionCount", [b, "pending"]) for b in borrowers])
                self._send_all(self._enable_and_borrow(positions, [int(n, 16) for n in nonces]))
                self._restore_borrow_factors(lifted)
            finally:
                self._rpc("anvil_autoImpersonateAccount", [False])

        self._with_big_blocks(run)
        log.info("seeded %d borrowers", len(positions))

    def _enable_and_borrow(
        self, positions: Sequence[Position], nonces: Sequence[int]
    ) -> Iterable[dict[str, Any]]:
        for p, nonce in zip(positions, nonces, strict=True):
            collateral, debt = self.tokens[p.collateral], self.tokens[p.debt]
            enable = _call(
                "setUsingAsCollateral(address,bool)", ("address", "bool"), (collateral, True), self.pool
            )
            borrow = _call(
                "borrow(address,uint256)", ("address", "uint256"), (debt, p.debt_amount), self.pool
            )
            yield {**_tx(p.borrower, self.pool, enable, ENABLE_GAS), "nonce": hex(nonce)}
            yield {**_tx(p.borrower, self.pool, borrow, BORROW_GAS), "nonce": hex(nonce + 1)}

    def _pool(self) -> Any:
        return self.w3.eth.contract(address=self.pool, abi=abi("LendingPool"))

    def _lift_borrow_factors(self) -> dict[str, tuple]:
        """Sets maxLtv to the collateral factor on every reserve where it is lower; the original
        configurations by token."""
        pool = self._pool()
        owner = pool.functions.owner().call()
        lifted: dict[str, tuple] = {}
        txs = []
        for token in self.tokens.values():
            config = tuple(pool.functions.getReserveData(token).call()[0])
            if config[CONFIG_MAX_LTV] < config[CONFIG_COLLATERAL_FACTOR]:
                lifted[token] = config
                raised = (*config[:CONFIG_MAX_LTV], config[CONFIG_COLLATERAL_FACTOR])
                txs.append(self._update_config(owner, token, raised))
        self._send_owner(owner, txs)
        return lifted

    def _restore_borrow_factors(self, lifted: Mapping[str, tuple]) -> None:
        owner = self._pool().functions.owner().call()
        restores = [self._update_config(owner, token, config) for token, config in lifted.items()]
        self._send_owner(owner, restores)

    def _update_config(self, owner: str, token: str, config: tuple) -> dict[str, Any]:
        data = self._pool().functions.updateReserveConfig(token, config)._encode_transaction_data()
        return _tx(owner, self.pool, data, CONFIG_GAS)

    def _send_owner(self, owner: str, txs: list[dict[str, Any]]) -> None:
        if not txs:
            return
        nonce = int(self._rpc("eth_getTransactionCount", [owner, "pending"]), 16)
        self._send_all({**tx, "nonce": hex(nonce + i)} for i, tx in enumerate(txs))

    # transactions

    def _supply(self, symbol: str, amount: int, on_behalf_of: str) -> dict[str, Any]:
        data = _call(
            "supply(address,uint256,address)",
            ("address", "uint256", "address"),
            (self.tokens[symbol], amount, on_behalf_of),
            self.pool,
        )
        return _tx(self.supplier, self.pool, data, SUPPLY_GAS)

    def _numbered(self, txs: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """The supplier's transactions with explicit consecutive nonces (they go out in one batch)."""
        nonce = int(self._rpc("eth_getTransactionCount", [self.supplier, "pending"]), 16)
        for offset, tx in enumerate(txs):
            yield {**tx, "nonce": hex(nonce + offset)}

    def _send_all(self, txs: Iterable[dict[str, Any]]) -> None:
        """Sends in batches, mining each batch before the next (Anvil's pool slows down as it fills:
        10,000 queued transactions took minutes), then checks every receipt."""
        price = self._gas_price()
        hashes: list[str] = []
        pending: list[dict[str, Any]] = []
        blocks = 0
        for tx in txs:
            pending.append({**tx, "gasPrice": hex(price)})
            if len(pending) == BATCH:
                hashes += self._send_batch(pending, price)
                blocks += self._mine_pool()
                pending = []
        if pending:
            hashes += self._send_batch(pending, price)
            blocks += self._mine_pool()
        log.info("sent %d, mined %d blocks", len(hashes), blocks)
        receipts = self._values([("eth_getTransactionReceipt", [h]) for h in hashes])
        failed = [h for h, r in zip(hashes, receipts, strict=True) if r is None or int(r["status"], 16) != 1]
        if failed:
            raise RuntimeError(f"{len(failed)} seeding transactions reverted, first {failed[0]}")

    def _send_batch(self, txs: list[dict[str, Any]], price: int) -> list[str]:
        if price:
            self._give_gas_money(txs, price)
        return self._values([("eth_sendTransaction", [tx]) for tx in txs])

    def _give_gas_money(self, txs: list[dict[str, Any]], price: int) -> None:
        """Senders that cannot pay their transactions' gas get the ETH for it (Anvil only)."""
        need: dict[str, int] = {}
        for tx in txs:
            need[tx["from"]] = need.get(tx["from"], 0) + int(tx["gas"], 16) * price
        senders = list(need)
        balances = self._values([("eth_getBalance", [s, "latest"]) for s in senders])
        short = [(s, need[s]) for s, b in zip(senders, balances, strict=True) if int(b, 16) < need[s]]
        if short:
            self._values([("anvil_setBalance", [s, hex(2 * n)]) for s, n in short])

    def _gas_price(self) -> int:
        """Zero where the node charges no base fee (the demo's and the benchmarks' Anvil), otherwise
        twice the base fee, which the large seeding blocks only lower."""
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        return 2 * int(block.get("baseFeePerGas") or "0x0", 16)

    def _mine_pool(self) -> int:
        """Mines until the node's pool is empty; the number of blocks."""
        mined = 0
        while int(self._rpc("txpool_status", [])["pending"], 16):
            self._rpc("evm_mine", [])
            mined += 1
        return mined

    def _with_big_blocks(self, work: Callable[[], None]) -> None:
        """Runs `work` with automine off and a large block gas limit; restores the limit and the
        node's mining mode (automine, interval or manual) afterwards."""
        limit = int(self._rpc("eth_getBlockByNumber", ["latest", False])["gasLimit"], 16)
        automine = bool(self._rpc("anvil_getAutomine", []))
        interval = self._rpc("anvil_getIntervalMining", [])
        self._rpc("evm_setAutomine", [False])
        self._rpc("evm_setIntervalMining", [0])
        self._rpc("evm_setBlockGasLimit", [hex(SEEDING_GAS_LIMIT)])
        try:
            work()
        finally:
            self._rpc("evm_setBlockGasLimit", [hex(limit)])
            self._rpc("evm_mine", [])
            if automine:
                self._rpc("evm_setAutomine", [True])
            elif interval:
                self._rpc("evm_setIntervalMining", [interval])

    # JSON-RPC

    def _rpc(self, method: str, params: list[Any]) -> Any:
        return self._values([(method, params)])[0]

    def _values(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """The results of the calls, in order, in JSON-RPC batches of `BATCH`; the first error raises."""
        results = []
        for start in range(0, len(calls), BATCH):
            chunk = calls[start : start + BATCH]
            for (method, _params), response in zip(chunk, send_batch(self.w3, chunk), strict=True):
                if response.get("error"):
                    raise RuntimeError(f"{method} failed: {response['error']}")
                results.append(response.get("result"))
        return results


def _tx(sender: str, to: str, data: str, gas: int = TOKEN_GAS) -> dict[str, Any]:
    return {"from": sender, "to": to, "data": data, "gas": hex(gas)}
