"""Keeper settings: command-line flags win over environment variables, which win over `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from keeper.errors import ConfigError

#: Liquidation modes (keeper/flash.py), spelled here so that settings load without web3.
MODES = ("inventory", "flash", "auto")


class Secret:
    """A string that never shows itself in logs, reprs or tracebacks."""

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Settings:
    rpc_url: str
    deployment: Path | None
    db_path: Path
    tx_rpc_url: str | None = None
    private_key: Secret | None = field(default=None, repr=False)
    keystore: Path | None = None
    keystore_password: Secret | None = field(default=None, repr=False)
    expected_address: str | None = None
    min_profit_usd: Decimal = Decimal(0)
    bid_share: Decimal = Decimal("0.5")  # of a liquidation's surplus, as priority fee (keeper/bidding.py)
    max_gas_gwei: Decimal = Decimal(500)
    metrics_port: int | None = None
    confirmations: int = 1
    dry_run: bool = False
    clear_dust_and_deficits: bool = False
    settle_deficits: bool = True
    poll_interval: float = 0.2
    sweep_every_blocks: int = 20
    replace_after_blocks: int = 3
    progress_every: int = 10
    fee_bump: Decimal = Decimal("1.125")
    reorg_depth: int = 64
    native_price_usd: Decimal | None = None
    min_eth_balance: Decimal = Decimal("0.05")
    gas_limit_liquidation: int = 600_000
    mode: str = "inventory"  # inventory | flash | auto (keeper/flash.py)
    max_slippage_bps: int = 50  # a flash liquidation reverts when it would keep less than its quote by more
    max_price_impact_bps: int | None = None  # throttle: split a flash liquidation moving the pools more
    close_factor_bps: int | None = None  # ask each liquidation for this share of the debt (comparisons)
    reset_db: bool = (
        False  # move a database of another chain aside instead of refusing it (keeper/identity.py)
    )

    @property
    def rpc_urls(self) -> list[str]:
        """RPC_URL's endpoints in order of preference (it may list several, comma-separated)."""
        return split_urls(self.rpc_url)


#: Environment variable -> settings field. Flags use the same names, lower-case with dashes.
ENV_FIELDS: dict[str, str] = {
    "RPC_URL": "rpc_url",
    "TX_RPC_URL": "tx_rpc_url",
    "PRIVATE_KEY": "private_key",
    "KEYSTORE": "keystore",
    "KEYSTORE_PASSWORD": "keystore_password",
    "KEEPER_ADDRESS": "expected_address",
    "DEPLOYMENT": "deployment",
    "DB_PATH": "db_path",
    "MIN_PROFIT_USD": "min_profit_usd",
    "BID_SHARE": "bid_share",
    "MAX_GAS_GWEI": "max_gas_gwei",
    "METRICS_PORT": "metrics_port",
    "CONFIRMATIONS": "confirmations",
    "NATIVE_PRICE_USD": "native_price_usd",
    "MIN_ETH_BALANCE": "min_eth_balance",
    "POLL_INTERVAL": "poll_interval",
    "SWEEP_EVERY_BLOCKS": "sweep_every_blocks",
    "REPLACE_AFTER_BLOCKS": "replace_after_blocks",
    "PROGRESS_EVERY": "progress_every",
    "LIQUIDATION_MODE": "mode",
    "MAX_SLIPPAGE_BPS": "max_slippage_bps",
    "MAX_PRICE_IMPACT_BPS": "max_price_impact_bps",
    "CLOSE_FACTOR_BPS": "close_factor_bps",
}


def split_urls(value: str) -> list[str]:
    return [url.strip() for url in value.split(",") if url.strip()]


def _rpc_urls(value: str) -> str:
    """RPC_URL as given, once every URL in it is checked: several only over http(s)."""
    urls = split_urls(value)
    if not urls:
        raise ConfigError(f"RPC_URL names no URL: {value!r}")
    for url in urls:
        if not url.startswith(("http://", "https://", "ws://", "wss://")):
            raise ConfigError(f"RPC_URL must start with http://, https://, ws:// or wss://: {url!r}")
    if len(urls) > 1 and any(url.startswith(("ws://", "wss://")) for url in urls):
        raise ConfigError("RPC_URL may list several URLs only over http(s)://, not ws(s)://")
    return ",".join(urls)


def _decimal(name: str, raw: Any) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return value


def _int(name: str, raw: Any, minimum: int = 0) -> int:
    try:
        value = int(str(raw))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _float(name: str, raw: Any) -> float:
    try:
        value = float(str(raw))
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {raw!r}")
    return value


def merged_sources(
    flags: Mapping[str, Any], environ: Mapping[str, str], dotenv_path: Path | None
) -> dict[str, Any]:
    """Settings field -> raw value, by precedence flags > environment > .env."""
    file_values: Mapping[str, str | None] = (
        dotenv_values(dotenv_path) if dotenv_path is not None and dotenv_path.is_file() else {}
    )
    merged: dict[str, Any] = {}
    for env_name, field_name in ENV_FIELDS.items():
        for source in (file_values, environ):
            value = source.get(env_name)
            if value not in (None, ""):
                merged[field_name] = value
    for field_name, value in flags.items():
        if value is not None:
            merged[field_name] = value
    return merged


def load_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = Path(".env"),
) -> Settings:
    """Builds validated settings; any problem raises one `ConfigError` sentence."""
    raw = merged_sources(flags, os.environ if environ is None else environ, dotenv_path)
    rpc_url = _rpc_urls(str(raw.get("rpc_url", "http://127.0.0.1:8545")))
    kwargs: dict[str, Any] = {
        "rpc_url": rpc_url,
        "deployment": Path(raw["deployment"]) if raw.get("deployment") else None,
        "db_path": Path(raw.get("db_path", "keeper.sqlite")),
    }
    if "tx_rpc_url" in raw:
        tx_rpc_url = str(raw["tx_rpc_url"]).strip()
        if not tx_rpc_url.startswith(("http://", "https://")):
            raise ConfigError(f"TX_RPC_URL must start with http:// or https://: {tx_rpc_url!r}")
        kwargs["tx_rpc_url"] = tx_rpc_url
    if "private_key" in raw:
        kwargs["private_key"] = Secret(str(raw["private_key"]).strip())
    if "keystore" in raw:
        kwargs["keystore"] = Path(raw["keystore"])
    if "keystore_password" in raw:
        kwargs["keystore_password"] = Secret(str(raw["keystore_password"]))
    if "expected_address" in raw:
        kwargs["expected_address"] = str(raw["expected_address"])
    for name in ("min_profit_usd", "max_gas_gwei", "min_eth_balance"):
        if name in raw:
            kwargs[name] = _decimal(name.upper(), raw[name])
    if "bid_share" in raw:
        share = _decimal("BID_SHARE", raw["bid_share"])
        if share > 1:
            raise ConfigError(f"BID_SHARE must be between 0 and 1, got {raw['bid_share']!r}")
        kwargs["bid_share"] = share
    if "native_price_usd" in raw:
        kwargs["native_price_usd"] = _decimal("NATIVE_PRICE_USD", raw["native_price_usd"])
    if "fee_bump" in raw:
        bump = _decimal("fee bump", raw["fee_bump"])
        if bump < Decimal("1.125"):
            raise ConfigError("the fee bump must be at least 1.125 (nodes reject smaller replacements)")
        kwargs["fee_bump"] = bump
    if raw.get("metrics_port") not in (None, "", 0, "0"):
        kwargs["metrics_port"] = _int("METRICS_PORT", raw["metrics_port"], minimum=1)
    for name, minimum in (
        ("confirmations", 0),
        ("sweep_every_blocks", 1),
        ("replace_after_blocks", 1),
        ("progress_every", 0),
        ("reorg_depth", 1),
        ("gas_limit_liquidation", 21_000),
    ):
        if name in raw:
            kwargs[name] = _int(name.upper(), raw[name], minimum)
    if "mode" in raw:
        mode = str(raw["mode"]).strip().lower()
        if mode not in MODES:
            raise ConfigError(f"LIQUIDATION_MODE must be one of {', '.join(MODES)}, got {raw['mode']!r}")
        kwargs["mode"] = mode
    if "max_slippage_bps" in raw:
        slippage = _int("MAX_SLIPPAGE_BPS", raw["max_slippage_bps"])
        if slippage >= 10_000:
            raise ConfigError(f"MAX_SLIPPAGE_BPS must be below 10000 (100%), got {raw['max_slippage_bps']!r}")
        kwargs["max_slippage_bps"] = slippage
    if "max_price_impact_bps" in raw:
        kwargs["max_price_impact_bps"] = _int("MAX_PRICE_IMPACT_BPS", raw["max_price_impact_bps"], minimum=1)
    if "close_factor_bps" in raw:
        factor = _int("CLOSE_FACTOR_BPS", raw["close_factor_bps"], minimum=1)
        if factor > 10_000:
            raise ConfigError(
                f"CLOSE_FACTOR_BPS must be at most 10000 (100%), got {raw['close_factor_bps']!r}"
            )
        kwargs["close_factor_bps"] = factor
    if "poll_interval" in raw:
        kwargs["poll_interval"] = _float("POLL_INTERVAL", raw["poll_interval"])
    for name in ("dry_run", "clear_dust_and_deficits", "settle_deficits", "reset_db"):
        if name in raw:
            kwargs[name] = bool(raw[name])
    return Settings(**kwargs)
