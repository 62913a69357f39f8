"""Deploys the liqengine protocol with web3.py from Brownie's build artifacts, and returns the
`keeper.deployment.Deployment` that `Deployment.write` stores as `deployments/<chainId>.json`, the
file the keeper reads.

Used by `scripts/deploy.py` (through Brownie's connection and accounts, or any node by URL), by the
demo, the benchmarks and the keeper's integration tests (with their own node and key), so there is
one deployment recipe.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from keeper.deployment import AssetInfo, Deployment, FlashLiquidatorInfo
from scripts.uniswap import DEVNET_UNISWAP, UniswapDeployer, UniswapPlan, UniswapPlanError, check_plan

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = PROJECT_ROOT / "build" / "contracts"
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"


@dataclass(frozen=True)
class AssetPlan:
    """One reserve: a mock token and feed on devnets, or existing ones on a public network."""

    symbol: str
    decimals: int
    price: int  # 8 decimals, initial mock answer
    collateral_factor: int  # BPS
    max_liquidation_bonus: int  # BPS
    liquidation_fee: int = 10_00  # BPS
    receive_shares_enabled: bool = True
    base_rate: int = 0  # BPS per year
    slope_below_optimal: int = 400
    slope_above_optimal: int = 60_00
    optimal_utilization: int = 80_00
    max_ltv: int | None = None  # BPS, the borrow factor; None: the collateral factor
    token: str | None = None  # existing token address (skips the mock)
    feed: str | None = None  # existing Chainlink feed address (skips the mock)
    price_max_age: int = 24 * 3600

    def existing_addresses(self) -> list[tuple[str, str]]:
        """("token" | "feed", address) for each existing contract the plan names for this asset."""
        named = (("token", self.token), ("feed", self.feed))
        return [(what, address) for what, address in named if address is not None]

    def config_tuple(self) -> tuple:
        """The ReserveConfig struct in field order."""
        return (
            self.collateral_factor,
            self.max_liquidation_bonus,
            self.liquidation_fee,
            self.receive_shares_enabled,
            False,
            False,
            self.base_rate,
            self.slope_below_optimal,
            self.slope_above_optimal,
            self.optimal_utilization,
            self.collateral_factor if self.max_ltv is None else self.max_ltv,
        )


@dataclass(frozen=True)
class DeploymentPlan:
    assets: tuple[AssetPlan, ...]
    target_health_factor: int = 105 * 10**16
    health_factor_for_max_bonus: int = 7 * 10**17
    liquidation_bonus_factor: int = 20_00
    fee_receiver: str | None = None  # default: the deployer
    native_price_asset: str | None = "WETH"  # asset whose price values the gas token
    uniswap: UniswapPlan | None = None  # the pools flash liquidations swap through (scripts/uniswap.py)
    # The keeper account that owns a FlashLiquidator deployed beside the Uniswap pools (none without one).
    flash_owner: str | None = None


DEVNET_ASSETS: tuple[AssetPlan, ...] = (
    # Borrowing stops five points below the liquidation threshold (Aave V3 keeps a similar gap between
    # LTV and liquidation threshold), so interest alone never makes a maximum borrow liquidatable.
    AssetPlan("WETH", 18, 2_000 * 10**8, 80_00, 105_00, max_ltv=75_00),
    AssetPlan("WBTC", 8, 60_000 * 10**8, 75_00, 108_00, max_ltv=70_00),
    AssetPlan("USDC", 6, 1 * 10**8, 85_00, 104_00, slope_below_optimal=500, max_ltv=80_00),
    AssetPlan("DAI", 18, 1 * 10**8, 80_00, 104_00, slope_below_optimal=500, max_ltv=75_00),
)


def default_plan(uniswap: bool = True) -> DeploymentPlan:
    """The devnet's four mock assets, and (unless `uniswap` is False) Uniswap V3 with a pool per pair."""
    return DeploymentPlan(assets=DEVNET_ASSETS, uniswap=DEVNET_UNISWAP if uniswap else None)


class DeployError(Exception):
    """A plan or a network the deployment cannot go ahead with, as one sentence; raised before any
    transaction is sent."""


def plan_from_file(path: Path) -> DeploymentPlan:
    """A plan from JSON: {"assets": [{"symbol": ..., "token": ..., "feed": ...}, ...], ...}."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeployError(f"DEPLOY_PLAN {path} not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise DeployError(f"DEPLOY_PLAN {path} is not readable JSON: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("assets"), list) or not raw["assets"]:
        raise DeployError(f'DEPLOY_PLAN {path} must be an object with a non-empty list under "assets"')
    try:
        assets = tuple(AssetPlan(**a) for a in raw.pop("assets"))
        uniswap = UniswapPlan.from_json(raw.pop("uniswap")) if "uniswap" in raw else None
        plan = DeploymentPlan(assets=assets, uniswap=uniswap, **raw)
    except TypeError as exc:
        raise DeployError(f"DEPLOY_PLAN {path}: {exc}") from None
    except UniswapPlanError as exc:
        raise DeployError(f"DEPLOY_PLAN {path}: {exc}") from None
    symbols = [asset.symbol for asset in assets]
    if len(set(symbols)) != len(symbols):
        raise DeployError(f"DEPLOY_PLAN {path}: a symbol appears twice in {symbols}")
    if plan.native_price_asset is not None and plan.native_price_asset not in symbols:
        raise DeployError(
            f"DEPLOY_PLAN {path}: native_price_asset {plan.native_price_asset!r} is not one of {symbols}"
        )
    for asset in assets:
        for what, address in asset.existing_addresses():
            if not Web3.is_address(address):
                raise DeployError(f"DEPLOY_PLAN {path}: {asset.symbol} {what} {address!r} is not an address")
    return plan


def check_before_sending(w3: Web3, sender: Sender, plan: DeploymentPlan) -> None:
    """Everything that would make the deployment stop half-way, checked before the first
    transaction: every token and feed the plan names has code, and the deployer has ETH."""
    chain_id = w3.eth.chain_id
    for asset in plan.assets:
        for what, address in asset.existing_addresses():
            if not w3.eth.get_code(Web3.to_checksum_address(address)):
                raise DeployError(f"{asset.symbol} {what} {address} has no code on chain {chain_id}")
    if plan.uniswap is not None:
        try:
            check_plan(w3, plan.uniswap, {a.symbol: a.token for a in plan.assets})
        except UniswapPlanError as exc:
            raise DeployError(str(exc)) from None
    if plan.flash_owner is not None:
        if plan.uniswap is None:
            raise DeployError("a FlashLiquidator owner is set, but the plan has no Uniswap pools to swap in")
        if not Web3.is_address(plan.flash_owner):
            raise DeployError(f"the FlashLiquidator owner {plan.flash_owner!r} is not an address")
    if w3.eth.get_balance(sender.address) == 0:
        raise DeployError(f"the deployer {sender.address} has no ETH on chain {chain_id}")


def load_artifact(name: str) -> dict[str, Any]:
    path = BUILD_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `brownie compile` (or `make compile`) first")
    return json.loads(path.read_text())


class Sender:
    """Sends transactions from one account: signed locally with a key, or by the node for an
    unlocked development account. Waits for each receipt and fails on a revert."""

    def __init__(self, w3: Web3, account: LocalAccount | None = None, address: str | None = None):
        if account is None and address is None:
            raise ValueError("Sender needs a local account or an unlocked node address")
        self.w3 = w3
        self.account = account
        self.address = Web3.to_checksum_address(account.address if account else address)
        self._nonce = w3.eth.get_transaction_count(self.address, "pending")

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        fee_keys = ("gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas")
        tx = {k: v for k, v in tx.items() if k not in fee_keys}
        tx.update({"from": self.address, "nonce": self._nonce, "chainId": self.w3.eth.chain_id})
        tx["gas"] = int(self.w3.eth.estimate_gas(tx) * 1.2) + 20_000
        base_fee = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            tx["gasPrice"] = self.w3.eth.gas_price
        else:
            tip = self.w3.eth.max_priority_fee if base_fee > 0 else 0
            tx["maxPriorityFeePerGas"] = tip
            tx["maxFeePerGas"] = 2 * base_fee + tip
        if self.account is not None:
            signed = self.account.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        else:
            tx_hash = self.w3.eth.send_transaction(tx)
        self._nonce += 1
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
        return receipt

    def deploy(self, name: str, *args: Any) -> Contract:
        return self.deploy_with_receipt(name, *args)[0]

    def deploy_with_receipt(self, name: str, *args: Any) -> tuple[Contract, dict[str, Any]]:
        return self.deploy_artifact(name, load_artifact(name), *args)

    def deploy_artifact(
        self, name: str, artifact: dict[str, Any], *args: Any
    ) -> tuple[Contract, dict[str, Any]]:
        """Deploys a compiled artifact ({"abi", "bytecode"}), ours or a package's, as it is."""
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = self._send(factory.constructor(*args).build_transaction({"from": self.address}))
        address = receipt["contractAddress"]
        log.debug("deployed %s at %s (gas %d)", name, address, receipt["gasUsed"])
        return self.w3.eth.contract(address=address, abi=artifact["abi"]), receipt

    def transact(self, fn: Any) -> dict[str, Any]:
        return self._send(fn.build_transaction({"from": self.address}))


def deploy(w3: Web3, sender: Sender, plan: DeploymentPlan, network: str = "development") -> Deployment:
    """Deploys oracle, pool and lens, lists every asset of the plan (with mock tokens and feeds where
    the plan names none) and sets the liquidation configuration. The deploy block is the pool's:
    the keeper indexes the pool's events from there."""
    check_before_sending(w3, sender, plan)
    oracle = sender.deploy("PriceOracle", sender.address)
    fee_receiver = Web3.to_checksum_address(plan.fee_receiver or sender.address)
    pool, pool_receipt = sender.deploy_with_receipt(
        "LendingPool", oracle.address, fee_receiver, sender.address
    )
    lens = sender.deploy("LiquidationLens", pool.address)
    deploy_block = w3.eth.get_block(pool_receipt["blockNumber"])

    assets: list[AssetInfo] = []
    for asset in plan.assets:
        mock_token = asset.token is None
        token_address = (
            asset.token or sender.deploy("MockERC20", asset.symbol, asset.symbol, asset.decimals).address
        )
        mock_feed = asset.feed is None
        feed_address = asset.feed or sender.deploy("MockPriceFeed", 8, asset.price).address
        sender.transact(oracle.functions.setFeed(token_address, feed_address, asset.price_max_age))
        sender.transact(pool.functions.addReserve(token_address, asset.config_tuple()))
        assets.append(
            AssetInfo(
                symbol=asset.symbol,
                address=Web3.to_checksum_address(token_address),
                decimals=asset.decimals,
                feed=Web3.to_checksum_address(feed_address),
                mock_token=mock_token,
                mock_feed=mock_feed,
                config=dict(zip(_CONFIG_FIELDS, asset.config_tuple(), strict=True)),
            )
        )
    sender.transact(
        pool.functions.setLiquidationConfig(
            plan.target_health_factor,
            plan.health_factor_for_max_bonus,
            plan.liquidation_bonus_factor,
        )
    )
    uniswap = None
    if plan.uniswap is not None:
        prices = {a.symbol: int(oracle.functions.getPrice(a.address).call()) for a in assets}
        by_symbol = {a.symbol: a for a in assets}
        uniswap = UniswapDeployer(w3, sender, plan.uniswap, by_symbol, prices).deploy()
    flash = None
    if uniswap is not None and plan.flash_owner is not None:
        owner = Web3.to_checksum_address(plan.flash_owner)
        liquidator = sender.deploy("FlashLiquidator", pool.address, uniswap.factory, owner)
        flash = FlashLiquidatorInfo(liquidator.address, owner)
    return Deployment(
        chain_id=w3.eth.chain_id,
        network=network,
        deploy_block=deploy_block["number"],
        deploy_block_hash=deploy_block["hash"].to_0x_hex(),
        deployer=sender.address,
        pool=pool.address,
        oracle=oracle.address,
        lens=lens.address,
        fee_receiver=fee_receiver,
        native_price_asset=plan.native_price_asset,
        assets=tuple(assets),
        liquidation_config={
            "target_health_factor": plan.target_health_factor,
            "health_factor_for_max_bonus": plan.health_factor_for_max_bonus,
            "liquidation_bonus_factor": plan.liquidation_bonus_factor,
        },
        uniswap=uniswap,
        flash_liquidator=flash,
    )


_CONFIG_FIELDS = (
    "collateral_factor",
    "max_liquidation_bonus",
    "liquidation_fee",
    "receive_shares_enabled",
    "paused",
    "frozen",
    "base_rate",
    "slope_below_optimal",
    "slope_above_optimal",
    "optimal_utilization",
    "max_ltv",
)


def contract(w3: Web3, name: str, address: str) -> Contract:
    """A web3 contract object for a deployed artifact."""
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name)["abi"])
