"""A small world for stage tests without a node: a deployment file with three assets, reserves and
accounts in the model's own types, and logs as a node returns them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import event_abi_to_log_topic
from web3 import Web3

from keeper.contracts import abi
from keeper.deployment import Deployment, load_deployment
from keeper.model import Account, LiquidationConfig, PoolModel, Reserve


def address(n: int) -> str:
    return Web3.to_checksum_address(f"0x{n:040x}")


POOL, ORACLE, LENS, FEE_RECEIVER = address(0xA001), address(0xA002), address(0xA003), address(0xA004)
WETH, WBTC, USDC = address(0xB001), address(0xB002), address(0xB003)
WETH_FEED, WBTC_FEED, USDC_FEED = address(0xC001), address(0xC002), address(0xC003)
ALICE, BOB, CAROL, KEEPER = address(0xD001), address(0xD002), address(0xD003), address(0xD0FF)
WAD, RAY = 10**18, 10**27


def write_deployment(directory: Path, deploy_block: int = 1, chain_id: int = 31337) -> Deployment:
    path = directory / f"{chain_id}.json"
    path.write_text(
        json.dumps(
            {
                "chain_id": chain_id,
                "pool": POOL,
                "oracle": ORACLE,
                "lens": LENS,
                "fee_receiver": FEE_RECEIVER,
                "deploy_block": deploy_block,
                "native_price_asset": "WETH",
                "assets": {
                    "WETH": {"address": WETH, "decimals": 18, "feed": WETH_FEED},
                    "WBTC": {"address": WBTC, "decimals": 8, "feed": WBTC_FEED},
                    "USDC": {"address": USDC, "decimals": 6, "feed": USDC_FEED},
                },
            }
        )
    )
    return load_deployment(path)


def reserve(symbol: str, **changes: Any) -> Reserve:
    """A reserve with no interest accrued and 1:1 shares, at a round price."""
    asset, reserve_id, decimals, factor, bonus, price = {
        "WETH": (WETH, 0, 18, 8000, 10500, 2000 * 10**8),
        "WBTC": (WBTC, 1, 8, 7500, 10800, 60_000 * 10**8),
        "USDC": (USDC, 2, 6, 8500, 10400, 10**8),
    }[symbol]
    base = Reserve(
        asset=asset,
        symbol=symbol,
        id=reserve_id,
        decimals=decimals,
        collateral_factor=factor,
        max_liquidation_bonus=bonus,
        liquidation_fee=1000,
        receive_shares_enabled=False,
        paused=False,
        frozen=False,
        borrow_index=RAY,
        cash=0,
        total_supply_shares=0,
        total_drawn_shares=0,
        total_added_assets=0,
        deficit=0,
        price=price,
    )
    return replace(base, **changes)


def borrower(user: str, collateral: dict[int, int], debt: dict[int, int]) -> Account:
    """An account supplying `collateral` shares (used as collateral) and owing `debt` drawn shares
    (as RAY-scaled assets at index 1), by reserve id."""
    config = 0
    for reserve_id in collateral:
        config |= 1 << (2 * reserve_id + 1)
    for reserve_id in debt:
        config |= 1 << (2 * reserve_id)
    return Account(user, config, dict(collateral), dict(debt))


def pool_model(*accounts: Account, **prices: int) -> PoolModel:
    """WETH, WBTC and USDC with enough supply that `shares == assets` to the wei."""
    reserves = []
    for symbol in ("WETH", "WBTC", "USDC"):
        r = reserve(symbol, total_added_assets=10**30, total_supply_shares=10**30)
        reserves.append(replace(r, price=prices.get(symbol, r.price)))
    model = PoolModel(reserves, LiquidationConfig(105 * WAD // 100, 95 * WAD // 100, 5000))
    for account in accounts:
        model.set_account(account)
    return model


def log(contract: str, event: str, emitter: str, block: int, index: int, **args: Any) -> dict[str, Any]:
    """A log of `event` as `eth_getLogs` returns it (hex strings)."""
    [item] = [i for i in abi(contract) if i.get("type") == "event" and i["name"] == event]
    topics = [Web3.to_hex(event_abi_to_log_topic(item))]
    data_types, data_values = [], []
    for field in item["inputs"]:
        if field["indexed"]:
            topics.append(Web3.to_hex(encode([field["type"]], [args[field["name"]]])))
        else:
            data_types.append(field["type"])
            data_values.append(args[field["name"]])
    return {
        "address": emitter,
        "topics": topics,
        "data": Web3.to_hex(encode(data_types, data_values)),
        "blockNumber": hex(block),
        "blockHash": Web3.to_hex(Web3.keccak(text=f"block {block}")),
        "transactionHash": Web3.to_hex(Web3.keccak(text=f"tx {block} {index}")),
        "transactionIndex": hex(index),
        "logIndex": hex(index),
        "removed": False,
    }
