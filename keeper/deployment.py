"""Reads `deployments/<chainId>.json`, written by `scripts/deploy.py`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from keeper.errors import DeploymentError


@dataclass(frozen=True)
class AssetInfo:
    symbol: str
    address: str
    decimals: int
    feed: str


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    pool: str
    oracle: str
    lens: str
    fee_receiver: str
    deploy_block: int
    assets: tuple[AssetInfo, ...]
    native_price_asset: str | None
    path: Path

    def asset_by_address(self, address: str) -> AssetInfo:
        for asset in self.assets:
            if asset.address == address:
                return asset
        raise KeyError(address)

    def asset_by_symbol(self, symbol: str) -> AssetInfo:
        for asset in self.assets:
            if asset.symbol == symbol:
                return asset
        raise KeyError(symbol)

    @property
    def feeds(self) -> dict[str, AssetInfo]:
        """Feed address -> the asset it prices."""
        return {asset.feed: asset for asset in self.assets}


def _address(raw: Any, what: str, path: Path) -> str:
    if not isinstance(raw, str) or not Web3.is_address(raw):
        raise DeploymentError(f"deployment file {path}: {what} is not an address ({raw!r})")
    return Web3.to_checksum_address(raw)


def _int(raw: Any, what: str, path: Path) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
        raise DeploymentError(f"deployment file {path}: {what} is not a non-negative integer")
    return raw


def load_deployment(path: Path) -> Deployment:
    """Parses and checks a deployment file; every problem becomes one `DeploymentError` sentence."""
    if not path.is_file():
        raise DeploymentError(
            f"deployment file {path} not found: deploy with `brownie run scripts/deploy.py` "
            "or pass --deployment"
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
    )
