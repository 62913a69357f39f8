"""Test support for the keeper: a real Anvil node on a free port, the protocol deployed on it with
scripts/deployer.py, and helpers that act as borrowers and as the oracle's owner."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from web3 import Web3

from keeper.deployment import Deployment
from scripts.deployer import Sender, contract, default_plan, deploy
from scripts.devnode import AnvilNode, GanacheNode, dev_key, free_port  # noqa: F401 - re-exported
from scripts.uniswap import sqrt_price_x96, uniswap_contract

MAX_UINT = 2**256 - 1
#: Anvil accounts of the keeper tests: the keeper signs with its own key (account 10), a supplier (11).
KEEPER_INDEX = 10
SUPPLIER_INDEX = 11


@dataclass
class Devnet:
    """A deployed protocol with helpers. Borrowers are Anvil's unlocked accounts 1..;
    account 0 deploys and owns the feeds; the keeper uses its own key (account 10)."""

    w3: Web3
    deployment: Deployment
    deployment_path: Path
    owner: Sender

    @classmethod
    def create(cls, node: AnvilNode, directory: Path, flash_owner: str | None = None) -> Devnet:
        """The protocol alone; with `flash_owner`, also Uniswap V3 with the devnet's pools and a
        FlashLiquidator owned by that account."""
        w3 = node.web3()
        owner = Sender(w3, address=w3.eth.accounts[0])
        plan = replace(default_plan(uniswap=flash_owner is not None), flash_owner=flash_owner)
        deployment = deploy(w3, owner, plan, network="anvil-test").write(directory)
        return cls(w3=w3, deployment=deployment, deployment_path=deployment.path, owner=owner)

    def token(self, symbol: str) -> Any:
        return contract(self.w3, "MockERC20", self.deployment.asset_by_symbol(symbol).address)

    def feed(self, symbol: str) -> Any:
        return contract(self.w3, "MockPriceFeed", self.deployment.asset_by_symbol(symbol).feed)

    @property
    def pool(self) -> Any:
        return contract(self.w3, "LendingPool", self.deployment.pool)

    def units(self, symbol: str, amount: float) -> int:
        return round(amount * 10 ** self.deployment.asset_by_symbol(symbol).decimals)

    def sender(self, address: str) -> Sender:
        return Sender(self.w3, address=address)

    def fund(self, address: str, symbol: str, amount: int) -> None:
        self.owner.transact(self.token(symbol).functions.mint(address, amount))

    def supply(self, user: str, symbol: str, amount: int) -> None:
        s = self.sender(user)
        token = self.token(symbol)
        s.transact(token.functions.mint(user, amount))
        s.transact(token.functions.approve(self.deployment.pool, MAX_UINT))
        s.transact(self.pool.functions.supply(token.address, amount, user))

    def borrow(self, user: str, symbol: str, amount: int) -> None:
        self.sender(user).transact(self.pool.functions.borrow(self.token(symbol).address, amount))

    def borrow_past_the_borrow_factor(self, user: str, collateral: str, debt: str, amount: int) -> None:
        """Borrows `amount` even where it puts the account between the borrow factor (maxLtv) and
        the collateral factor: the owner lifts the collateral's maxLtv for the borrow, then restores it."""
        token = self.token(collateral).address
        config = tuple(self.pool.functions.getReserveData(token).call()[0])
        lifted = (*config[:10], config[0])  # maxLtv (the last field) = collateralFactor
        self.owner.transact(self.pool.functions.updateReserveConfig(token, lifted))
        try:
            self.borrow(user, debt, amount)
        finally:
            self.owner.transact(self.pool.functions.updateReserveConfig(token, config))

    def set_price(self, symbol: str, price_usd: float) -> int:
        """Publishes a price; returns the block it landed in."""
        receipt = self.owner.transact(self.feed(symbol).functions.setPrice(round(price_usd * 1e8)))
        return int(receipt["blockNumber"])

    def rival(self, index: int) -> str:
        """Anvil account `index` as another liquidator: a million USDC, approved to the pool."""
        rival = self.w3.eth.accounts[index]
        self.fund(rival, "USDC", self.units("USDC", 1_000_000))
        self.sender(rival).transact(self.token("USDC").functions.approve(self.deployment.pool, MAX_UINT))
        return rival

    def liquidate_as(self, liquidator: str, user: str, tip: int, max_fee: int) -> str:
        """`liquidator` sends liquidate(WETH, USDC, user, max) at the given fees (not waited for);
        its hash."""
        tx = self.pool.functions.liquidate(
            self.token("WETH").address, self.token("USDC").address, user, MAX_UINT, False
        ).transact({"from": liquidator, "gas": 800_000, "maxPriorityFeePerGas": tip, "maxFeePerGas": max_fee})
        return self.w3.to_hex(tx)

    def align_pools(self, prices_usd: dict[str, float] | None = None, trader_index: int = 9) -> None:
        """An arbitrageur (account `trader_index`, minting what it sells) moves every Uniswap pool of the
        deployment to the oracle's price ratio (or to `prices_usd` for the symbols it names), through
        the real SwapRouter with the target as price limit."""
        uniswap = self.deployment.uniswap
        assert uniswap is not None
        trader = self.w3.eth.accounts[trader_index]
        router = uniswap_contract(self.w3, "SwapRouter", uniswap.router)
        for info in uniswap.pools:
            a0, a1 = (
                self.deployment.asset_by_symbol(info.token0),
                self.deployment.asset_by_symbol(info.token1),
            )
            p0, p1 = (self.pool_price(s, prices_usd or {}) for s in (info.token0, info.token1))
            target = sqrt_price_x96(p0, a0.decimals, p1, a1.decimals)
            current = uniswap_contract(self.w3, "UniswapV3Pool", info.address).functions.slot0().call()[0]
            if current == target:
                continue
            sell = a0 if current > target else a1  # selling token0 lowers its price in token1
            buy = a1 if sell is a0 else a0
            amount = 10**30
            self.owner.transact(self.token(sell.symbol).functions.mint(trader, amount))
            self.sender(trader).transact(self.token(sell.symbol).functions.approve(uniswap.router, MAX_UINT))
            params = (sell.address, buy.address, info.fee, trader, 2**64, amount, 0, target)
            self.sender(trader).transact(router.functions.exactInputSingle(params))

    def pool_price(self, symbol: str, prices_usd: dict[str, float]) -> int:
        """The 8-decimal USD price `align_pools` moves `symbol`'s pools to: given, else the oracle's."""
        if symbol in prices_usd:
            return round(prices_usd[symbol] * 1e8)
        return int(self.feed(symbol).functions.latestAnswer().call())

    def health_factor(self, user: str) -> int:
        return self.pool.functions.getUserAccountData(user).call()[2]

    def position(self, user: str, symbol: str) -> tuple[int, int, bool]:
        return tuple(self.pool.functions.getUserPosition(user, self.token(symbol).address).call())

    def borrower(
        self,
        index: int,
        collateral: str,
        amount: float,
        debt: str,
        hf: float,
        collateral_price: float,
        debt_price: float = 1.0,
        cf: float = 0.8,
    ) -> str:
        """Account `index` supplies `amount` of `collateral` and borrows `debt` so that its health
        factor is `hf` at the given prices."""
        user = self.w3.eth.accounts[index]
        self.supply(user, collateral, self.units(collateral, amount))
        debt_value = amount * collateral_price * cf / hf
        self.borrow_past_the_borrow_factor(user, collateral, debt, self.units(debt, debt_value / debt_price))
        return user
