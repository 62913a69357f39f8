"""The deployment file `deployments/<chainId>.json`: one typed record, written by the deploy recipe
(`scripts/deployer.py`) with `Deployment.write` and read by the keeper with `load_deployment`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from web3 import Web3

from keeper.errors import DeploymentError


@dataclass(frozen=True)
class AssetInfo:
    """One listed reserve: its token, its price feed, whether the deploy created them as mocks, and
    the reserve configuration it was listed with (ReserveConfig field name -> value)."""

    symbol: str
    address: str
    decimals: int
    feed: str
    mock_token: bool = False
    mock_feed: bool = False
    config: Mapping[str, int | bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The file's entry for this asset (the symbol is its key)."""
        return {
            "address": self.address,
            "decimals": self.decimals,
            "feed": self.feed,
            "mock_token": self.mock_token,
            "mock_feed": self.mock_feed,
            "config": dict(self.config),
        }


@dataclass(frozen=True)
class PoolInfo:
    """One Uniswap V3 pool: its two assets by symbol in the pool's token0/token1 order, its fee tier."""

    token0: str
    token1: str
    fee: int  # hundredths of a BPS (500 = 0.05%)
    address: str

    def to_dict(self) -> dict[str, Any]:
        return {"token0": self.token0, "token1": self.token1, "fee": self.fee, "address": self.address}


@dataclass(frozen=True)
class UniswapInfo:
    """The Uniswap V3 deployment flash liquidations swap through; `deployed` when the deploy created it
    (a devnet) rather than naming an existing one."""

    factory: str
    router: str
    quoter: str
    position_manager: str
    pools: tuple[PoolInfo, ...]
    deployed: bool = False

    def pool(self, symbol_a: str, symbol_b: str, fee: int | None = None) -> PoolInfo | None:
        """The pool of two assets (any order), at `fee` or the first listed."""
        for pool in self.pools:
            if {pool.token0, pool.token1} == {symbol_a, symbol_b} and fee in (None, pool.fee):
                return pool
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "factory": self.factory,
            "router": self.router,
            "quoter": self.quoter,
            "position_manager": self.position_manager,
            "deployed": self.deployed,
            "pools": [pool.to_dict() for pool in self.pools],
        }


@dataclass(frozen=True)
class FlashLiquidatorInfo:
    """The FlashLiquidator a keeper liquidates through with no capital, and the account that owns it
    (the only one that may call it: the keeper's)."""

    address: str
    owner: str

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "owner": self.owner}


@dataclass(frozen=True)
class Deployment:
    """What `deployments/<chainId>.json` holds; `path` is the file it was read from or written to."""

    chain_id: int
    pool: str
    oracle: str
    lens: str
    fee_receiver: str
    deploy_block: int
    assets: tuple[AssetInfo, ...]
    native_price_asset: str | None
    path: Path | None = None
    network: str = ""
    deploy_block_hash: str = ""
    deployer: str = ""
    liquidation_config: Mapping[str, int] = field(default_factory=dict)
    uniswap: UniswapInfo | None = None
    flash_liquidator: FlashLiquidatorInfo | None = None

    def asset_by_symbol(self, symbol: str) -> AssetInfo:
        for asset in self.assets:
            if asset.symbol == symbol:
                return asset
        raise KeyError(symbol)

    @property
    def feeds(self) -> dict[str, AssetInfo]:
        """Feed address -> the asset it prices."""
        return {asset.feed: asset for asset in self.assets}

    def to_dict(self) -> dict[str, Any]:
        """The file's JSON object (everything but `path`)."""
        return {
            "chain_id": self.chain_id,
            "network": self.network,
            "deploy_block": self.deploy_block,
            "deploy_block_hash": self.deploy_block_hash,
            "deployer": self.deployer,
            "pool": self.pool,
            "oracle": self.oracle,
            "lens": self.lens,
            "fee_receiver": self.fee_receiver,
            "native_price_asset": self.native_price_asset,
            "assets": {asset.symbol: asset.to_dict() for asset in self.assets},
            "liquidation_config": dict(self.liquidation_config),
            **({"uniswap": self.uniswap.to_dict()} if self.uniswap else {}),
            **({"flash_liquidator": self.flash_liquidator.to_dict()} if self.flash_liquidator else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def write(self, directory: Path) -> Deployment:
        """Writes `<directory>/<chainId>.json`; the same deployment with `path` set to that file."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.chain_id}.json"
        path.write_text(self.to_json())
        return replace(self, path=path)


def _address(raw: Any, what: str, path: Path) -> str:
    if not isinstance(raw, str) or not Web3.is_address(raw):
        raise DeploymentError(f"deployment file {path}: {what} is not an address ({raw!r})")
    return Web3.to_checksum_address(raw)


def _int(raw: Any, what: str, path: Path) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise DeploymentError(f"deployment file {path}: {what} is not a non-negative integer")
    return raw


def _mapping(raw: Any, what: str, path: Path) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DeploymentError(f"deployment file {path}: {what} must be an object")
    return dict(raw)


def _text(raw: Any, what: str, path: Path) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise DeploymentError(f"deployment file {path}: {what} must be a string")
    return raw


def load_deployment(path: Path) -> Deployment:
    """Parses and checks a deployment file; every problem becomes one `DeploymentError` sentence."""
    if not path.is_file():
        raise DeploymentError(
            f"deployment file {path} not found: deploy with `python scripts/deploy.py` or pass --deployment"
        )
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DeploymentError(f"deployment file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise DeploymentError(f"deployment file {path} must hold a JSON object")
    for key in ("chain_id", "pool", "oracle", "lens", "deploy_block", "assets", "fee_receiver"):
        if key not in raw:
            raise DeploymentError(f"deployment file {path} lacks '{key}'")
    raw_assets = raw["assets"]
    if not isinstance(raw_assets, dict) or not raw_assets:
        raise DeploymentError(f"deployment file {path}: 'assets' must be a non-empty object")
    assets = []
    for symbol, info in sorted(raw_assets.items()):
        if not isinstance(info, dict):
            raise DeploymentError(f"deployment file {path}: asset {symbol} must be an object")
        assets.append(
            AssetInfo(
                symbol=symbol,
                address=_address(info.get("address"), f"assets.{symbol}.address", path),
                decimals=_int(info.get("decimals"), f"assets.{symbol}.decimals", path),
                feed=_address(info.get("feed"), f"assets.{symbol}.feed", path),
                mock_token=bool(info.get("mock_token", False)),
                mock_feed=bool(info.get("mock_feed", False)),
                config=_mapping(info.get("config"), f"assets.{symbol}.config", path),
            )
        )
    native = raw.get("native_price_asset")
    if native is not None and native not in raw_assets:
        raise DeploymentError(
            f"deployment file {path}: native_price_asset {native!r} is not one of the assets"
        )
    return Deployment(
        chain_id=_int(raw["chain_id"], "chain_id", path),
        pool=_address(raw["pool"], "pool", path),
        oracle=_address(raw["oracle"], "oracle", path),
        lens=_address(raw["lens"], "lens", path),
        fee_receiver=_address(raw["fee_receiver"], "fee_receiver", path),
        deploy_block=_int(raw["deploy_block"], "deploy_block", path),
        assets=tuple(assets),
        native_price_asset=native,
        path=path,
        network=_text(raw.get("network"), "network", path),
        deploy_block_hash=_text(raw.get("deploy_block_hash"), "deploy_block_hash", path),
        deployer=_text(raw.get("deployer"), "deployer", path),
        liquidation_config=_mapping(raw.get("liquidation_config"), "liquidation_config", path),
        uniswap=_uniswap(raw.get("uniswap"), {a.symbol for a in assets}, path),
        flash_liquidator=_flash_liquidator(raw.get("flash_liquidator"), path),
    )


def _flash_liquidator(raw: Any, path: Path) -> FlashLiquidatorInfo | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DeploymentError(f"deployment file {path}: 'flash_liquidator' must be an object")
    return FlashLiquidatorInfo(
        address=_address(raw.get("address"), "flash_liquidator.address", path),
        owner=_address(raw.get("owner"), "flash_liquidator.owner", path),
    )


def _uniswap(raw: Any, symbols: set[str], path: Path) -> UniswapInfo | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("pools"), list):
        raise DeploymentError(f"deployment file {path}: 'uniswap' must be an object with a list of pools")
    pools = []
    for i, pool in enumerate(raw["pools"]):
        if not isinstance(pool, dict) or not {pool.get("token0"), pool.get("token1")} <= symbols:
            raise DeploymentError(f"deployment file {path}: uniswap.pools[{i}] must name two listed assets")
        pools.append(
            PoolInfo(
                token0=pool["token0"],
                token1=pool["token1"],
                fee=_int(pool.get("fee"), f"uniswap.pools[{i}].fee", path),
                address=_address(pool.get("address"), f"uniswap.pools[{i}].address", path),
            )
        )
    return UniswapInfo(
        factory=_address(raw.get("factory"), "uniswap.factory", path),
        router=_address(raw.get("router"), "uniswap.router", path),
        quoter=_address(raw.get("quoter"), "uniswap.quoter", path),
        position_manager=_address(raw.get("position_manager"), "uniswap.position_manager", path),
        pools=tuple(pools),
        deployed=bool(raw.get("deployed", False)),
    )
