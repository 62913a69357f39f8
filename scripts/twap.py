"""The TWAP guard's pool set-up: a Uniswap V3 pool must keep enough observations before a
`UniswapV3TwapFeed` accepts it (rule 4 of contracts/interfaces/IUniswapV3TwapFeed.sol).

A pool writes at most one observation per block, so a window of `window` seconds stays covered under a
swap in every block only if it keeps `ceil(window / block_time) + 1` observations. Raising the count is
the pool's permissionless `increaseObservationCardinalityNext` (about 22,000 gas per new slot), sent here
in steps that fit a block. After that the pool's history must reach one window back before the feed can
be deployed: on a devnet advance time (`evm_increaseTime`) and mine; on a live network wait.

`install_twap_guard` does the whole set-up on a deployment: for each guarded asset it raises its pool's
observations, lets a window of history pass, deploys a `UniswapV3TwapFeed` and sets it as the
`PriceOracle`'s secondary feed, so the oracle's deviation breaker checks the Chainlink-style primary
against the pool's time-weighted price.

How a window of history passes on a devnet, cheaply and honestly. `observe([window, 0])` needs one
observation at least `window` seconds old; it extrapolates from the newest observation with the current
tick, which is exact because a pool writes an observation whenever a swap changes its tick (and when a
mint or burn changes its in-range liquidity). The pools' creation and liquidity minting wrote theirs at
deployment, so moving the clock forward by what is still missing (`window` less the age of each pool's
oldest observation) and mining one empty block is enough: a plain block writes no observation and needs
none, no trade moves a price, and the chain gets no more time than the window needs. Each pool's
coverage is then checked with `observe` itself before any feed is deployed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from scripts.deployer import contract
from scripts.uniswap import uniswap_contract

if TYPE_CHECKING:
    from keeper.deployment import Deployment, PoolInfo
    from scripts.deployer import Sender

log = logging.getLogger(__name__)

#: Slots added per transaction: about 8.8M gas, under a 12M block gas limit.
CARDINALITY_STEP = 400
#: `UniswapV3TwapFeed.MIN_TWAP_WINDOW`: the shortest window the feed accepts, seconds.
MIN_TWAP_WINDOW = 300
BPS = 10_000


class TwapGuardError(Exception):
    """A TWAP guard that cannot be installed on this deployment or chain, as one sentence."""


@dataclass(frozen=True)
class GuardedPool:
    """An asset whose oracle price the guard checks, and the Uniswap V3 pool whose TWAP it is checked
    against.

    @param asset the symbol priced (the feed's base token)
    @param quote the pool's other token, a USD stablecoin the feed takes as exactly $1
    @param fee the pool's fee tier (hundredths of a BPS: 500 = 0.05%); None: the deployment's pool of
        the pair, whatever its fee"""

    asset: str
    quote: str = "USDC"
    fee: int | None = None

    def __str__(self) -> str:
        fee = "" if self.fee is None else f" {self.fee / 10_000:g}%"
        return f"{self.asset}/{self.quote}{fee}"


#: The devnet's risky assets against USDC, in the pools the market crash trades (`MARKET_UNISWAP`).
DEFAULT_GUARDED = (GuardedPool("WETH", "USDC", 500), GuardedPool("WBTC", "USDC", 3000))


def required_cardinality(window: int, block_time: int) -> int:
    """The observations a pool must keep for a feed of `window` seconds on a chain whose blocks are at
    least `block_time` seconds apart, as the feed's constructor computes it."""
    return -(-window // block_time) + 1


def raise_cardinality(w3: Web3, sender: Sender, pool: str, window: int, block_time: int) -> int:
    """Raises the pool's `observationCardinalityNext` to what a feed of `window` seconds requires (never
    lowers it), `CARDINALITY_STEP` slots per transaction; returns the requirement."""
    observed = uniswap_contract(w3, "UniswapV3Pool", pool)
    required = required_cardinality(window, block_time)
    current = observed.functions.slot0().call()[4]
    while current < required:
        current = min(required, current + CARDINALITY_STEP)
        sender.transact(observed.functions.increaseObservationCardinalityNext(current))
    return required


def install_twap_guard(
    w3: Web3,
    sender: Sender,
    deployment: Deployment,
    *,
    window: int,
    block_time: int,
    max_deviation_bps: int,
    max_age: int | None = None,
    guarded: Sequence[GuardedPool] = DEFAULT_GUARDED,
    advance_clock: bool = True,
) -> dict[str, str]:
    """Makes each guarded asset's oracle price checked against its pool's TWAP (module docstring): raises
    the pools' observations, lets a window of history pass, deploys one `UniswapV3TwapFeed` per asset and
    sets it as the `PriceOracle`'s secondary feed. Returns symbol -> feed address.

    Everything that would make it stop half-way is checked before the first transaction (pools, owner,
    parameters); a primary that already disagrees with its TWAP beyond the bound is refused before any
    secondary feed is set, since the breaker would stop every price of the asset at once.

    @param sender the oracle's owner (the deployer)
    @param deployment a deployment with the guarded pools among its Uniswap pools
    @param window the TWAP window, seconds (at least `MIN_TWAP_WINDOW`)
    @param block_time the shortest interval between the chain's blocks, seconds: sets the observations
        each pool keeps (`required_cardinality`) and the feed's `minBlockTime`
    @param max_deviation_bps the breaker's bound between primary and TWAP, BPS of the smaller price
    @param max_age the secondary's `maxAge`, seconds; None: the window. A TWAP round is stamped with the
        block's own time while the pool's history covers the window, so any positive value keeps it fresh;
        an uncovered window (an incomplete round) makes the oracle skip the secondary whatever it is
    @param guarded the assets and their pools (default WETH/USDC 0.05% and WBTC/USDC 0.3%)
    @param advance_clock on a devnet (Anvil, Ganache), move the clock forward until the pools' history
        covers the window; False on a live network: raise, saying how long to wait
    @raise TwapGuardError a pool, asset or owner the guard needs is missing, a parameter is out of range,
        or (without `advance_clock`) the pools' history is still too short"""
    oracle = contract(w3, "PriceOracle", deployment.oracle)
    age = window if max_age is None else max_age
    _check_parameters(window, block_time, max_deviation_bps, age)
    owner = oracle.functions.owner().call()
    if owner != sender.address:
        raise TwapGuardError(
            f"the oracle {oracle.address} is owned by {owner}, not by the sender {sender.address}"
        )
    pools = {spec: _pool_of(w3, deployment, spec) for spec in guarded}

    for spec, pool in pools.items():
        raise_cardinality(w3, sender, pool.address, window, block_time)
        log.info(
            "twap_guard_cardinality pool=%s observations=%d", spec, required_cardinality(window, block_time)
        )
    missing = max(history_missing_seconds(w3, pool.address, window) for pool in pools.values())
    if missing > 0:
        if not advance_clock:
            raise TwapGuardError(f"the pools' history does not reach {window} s back yet: wait {missing} s")
        _advance_clock(w3, missing)
    for spec, pool in pools.items():
        if not history_covers(w3, pool.address, window):
            raise TwapGuardError(f"the {spec} pool's history still does not reach {window} s back")

    feeds: dict[str, Contract] = {}
    for spec, pool in pools.items():
        base, quote = deployment.asset_by_symbol(spec.asset), deployment.asset_by_symbol(spec.quote)
        feeds[spec.asset] = sender.deploy(
            "UniswapV3TwapFeed", pool.address, base.address, quote.address, window, block_time
        )
    for spec in pools:
        _check_agreement(oracle, deployment, spec, feeds[spec.asset], max_deviation_bps)
    for spec in pools:
        asset, feed = deployment.asset_by_symbol(spec.asset).address, feeds[spec.asset]
        sender.transact(oracle.functions.setSecondaryFeed(asset, feed.address, age, max_deviation_bps))
        log.info(
            "twap_guard_installed asset=%s pool=%s feed=%s window=%d max_deviation_bps=%d",
            spec.asset,
            spec,
            feed.address,
            window,
            max_deviation_bps,
        )
    return {symbol: feed.address for symbol, feed in feeds.items()}


def history_missing_seconds(w3: Web3, pool: str, window: int) -> int:
    """How many more seconds of chain time the pool needs before its history reaches `window` seconds
    back from the latest block: `window` less the age of its oldest observation (Uniswap's own choice of
    the oldest: the slot after the newest, or slot 0 while the ring has not wrapped), at least 0."""
    observed = uniswap_contract(w3, "UniswapV3Pool", pool)
    slot0 = observed.functions.slot0().call()
    index, cardinality = slot0[2], slot0[3]
    oldest = observed.functions.observations((index + 1) % cardinality).call()
    if not oldest[3]:  # not initialized: the ring has not wrapped yet
        oldest = observed.functions.observations(0).call()
    now = w3.eth.get_block("latest")["timestamp"]
    return max(0, oldest[0] + window - now)


def history_covers(w3: Web3, pool: str, window: int) -> bool:
    """Whether `observe([window, 0])` answers at the latest block (Uniswap reverts `OLD` otherwise)."""
    try:
        uniswap_contract(w3, "UniswapV3Pool", pool).functions.observe([window, 0]).call()
    except ContractLogicError:
        return False
    return True


def _check_parameters(window: int, block_time: int, max_deviation_bps: int, max_age: int) -> None:
    if window < MIN_TWAP_WINDOW:
        raise TwapGuardError(
            f"a TWAP window of {window} s is shorter than the feed's minimum of {MIN_TWAP_WINDOW} s"
        )
    if block_time < 1:
        raise TwapGuardError(f"the chain's block time must be at least 1 s (got {block_time})")
    if not 0 < max_deviation_bps < BPS:
        raise TwapGuardError(f"max_deviation_bps {max_deviation_bps} must be in (0, {BPS})")
    if not 0 < max_age < 2**32:
        raise TwapGuardError(f"the secondary's max_age {max_age} must be in (0, 2^32)")


def _pool_of(w3: Web3, deployment: Deployment, spec: GuardedPool) -> PoolInfo:
    """The deployment's pool for `spec`, with code on chain."""
    if deployment.uniswap is None:
        raise TwapGuardError(f"the deployment has no Uniswap pools, so no {spec} pool to take a TWAP of")
    for symbol in (spec.asset, spec.quote):
        try:
            deployment.asset_by_symbol(symbol)
        except KeyError:
            raise TwapGuardError(
                f"{symbol} is not an asset of the deployment, so {spec} cannot be guarded"
            ) from None
    pool = deployment.uniswap.pool(spec.asset, spec.quote, spec.fee)
    if pool is None:
        raise TwapGuardError(f"the deployment has no {spec} Uniswap pool to take a TWAP of")
    if not w3.eth.get_code(Web3.to_checksum_address(pool.address)):
        raise TwapGuardError(f"the {spec} pool {pool.address} has no code on chain {w3.eth.chain_id}")
    return pool


def _advance_clock(w3: Web3, seconds: int) -> None:
    """A devnet's clock `seconds` forward, and one empty block mined at the new time."""
    for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
        answer = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if answer.get("error"):
            raise TwapGuardError(f"the node refused {method} ({answer['error']}): is it a devnet?")
    log.info("twap_guard_clock_advanced seconds=%d block=%d", seconds, w3.eth.block_number)


def _check_agreement(
    oracle: Contract, deployment: Deployment, spec: GuardedPool, feed: Contract, max_deviation_bps: int
) -> None:
    """Refuses a primary already further from the TWAP than the bound (the oracle's exact rule). The
    primary is read from its feed, not through `getPrice`, which an earlier breaker may stop."""
    asset = deployment.asset_by_symbol(spec.asset).address
    primary_feed, _, decimals = oracle.functions.getFeed(asset).call()
    answer = int(
        contract(oracle.w3, "AggregatorV3Interface", primary_feed).functions.latestRoundData().call()[1]
    )
    primary = answer * 10**8 // 10**decimals
    twap = int(feed.functions.latestRoundData().call()[1])
    low, high = sorted((primary, twap))
    if (high - low) * BPS > low * max_deviation_bps:
        raise TwapGuardError(
            f"{spec.asset}'s oracle price {primary / 1e8:.2f} and its {spec} TWAP {twap / 1e8:.2f} already "
            f"differ by more than {max_deviation_bps} BPS: the breaker would stop every {spec.asset} price"
        )
