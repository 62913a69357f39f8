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


#: The reserve ids of `pool_model`'s reserves.
RESERVE_IDS = {"WETH": 0, "WBTC": 1, "USDC": 2}


def reserve(symbol: str, **changes: Any) -> Reserve:
    """A reserve with no interest accrued and 1:1 shares, at a round price."""
    asset, reserve_id, decimals, factor, bonus, price = {
        "WETH": (WETH, RESERVE_IDS["WETH"], 18, 8000, 10500, 2000 * 10**8),
        "WBTC": (WBTC, RESERVE_IDS["WBTC"], 8, 7500, 10800, 60_000 * 10**8),
        "USDC": (USDC, RESERVE_IDS["USDC"], 6, 8500, 10400, 10**8),
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


def candidates_world(directory: Path, **prices: int) -> tuple[PoolModel, Any, dict[str, int], Any]:
    """The candidates stage over a fake lens: a model of Alice (HF 1.03 at $2,000 WETH), Bob (0.98 at
    $60,000 WBTC) and Carol (healthy) at `prices`, a `Candidates` sweeping every 20 blocks, the
    health factors the fake lens answers (set them in the dict) and the fake provider."""
    from fake_node import Contracts, fake_web3

    from keeper.calls import function
    from keeper.candidates import Candidates
    from keeper.contracts import Contracts as PoolContracts
    from keeper.pool_reader import PoolReader
    from keeper.rpc_batch import RpcCounter

    chain_hfs: dict[str, int] = {}
    contracts = Contracts()
    contracts.on(
        LENS, function("LiquidationLens", "getHealthFactors"), lambda users: ([chain_hfs[u] for u in users],)
    )
    w3 = fake_web3({"eth_call": contracts})
    deployment = write_deployment(directory)
    reader = PoolReader(w3, PoolContracts.at(w3, POOL, ORACLE, LENS), deployment, RpcCounter())
    model = pool_model(
        borrower(ALICE, {RESERVE_IDS["WETH"]: 10 * 10**18}, {RESERVE_IDS["USDC"]: 15_500 * 10**6}),
        borrower(BOB, {RESERVE_IDS["WBTC"]: 10**8}, {RESERVE_IDS["USDC"]: 46_000 * 10**6}),
        borrower(CAROL, {RESERVE_IDS["WETH"]: 30 * 10**18}, {RESERVE_IDS["USDC"]: 10_000 * 10**6}),
        **prices,
    )
    return model, Candidates(reader, sweep_every_blocks=20), chain_hfs, w3.provider
