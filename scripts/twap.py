"""The TWAP guard's pool set-up: a Uniswap V3 pool must keep enough observations before a
`UniswapV3TwapFeed` accepts it (rule 4 of contracts/interfaces/IUniswapV3TwapFeed.sol).

A pool writes at most one observation per block, so a window of `window` seconds stays covered under a
swap in every block only if it keeps `ceil(window / block_time) + 1` observations. Raising the count is
the pool's permissionless `increaseObservationCardinalityNext` (about 22,000 gas per new slot), sent here
in steps that fit a block. After that the pool's history must reach one window back before the feed can
be deployed: on a devnet advance time (`evm_increaseTime`) and mine; on a live network wait."""

from __future__ import annotations

from typing import TYPE_CHECKING

from web3 import Web3

from scripts.uniswap import uniswap_contract

if TYPE_CHECKING:
    from scripts.deployer import Sender

#: Slots added per transaction: about 8.8M gas, under a 12M block gas limit.
CARDINALITY_STEP = 400


def required_cardinality(window: int, block_time: int) -> int:
    """The observations a pool must keep for a feed of `window` seconds on a chain whose blocks are at
    least `block_time` seconds apart, as the feed's constructor computes it."""
    return -(-window // block_time) + 1


def raise_cardinality(w3: Web3, sender: Sender, pool: str, window: int, block_time: int) -> int:
    """Raises the pool's `observationCardinalityNext` to what a feed of `window` seconds requires (never
    lowers it), `CARDINALITY_STEP` slots per transaction; returns the requirement."""
    contract = uniswap_contract(w3, "UniswapV3Pool", pool)
    required = required_cardinality(window, block_time)
    current = contract.functions.slot0().call()[4]
    while current < required:
        current = min(required, current + CARDINALITY_STEP)
        sender.transact(contract.functions.increaseObservationCardinalityNext(current))
    return required
