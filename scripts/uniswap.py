"""Uniswap V3 beside the protocol: the real contracts, deployed from the compiled artifacts the npm
packages `@uniswap/v3-core` and `@uniswap/v3-periphery` ship (never recompiled or re-implemented), a
pool for every pair the plan names, initialised at the oracle's price, with liquidity of the depth
the plan sets; or, on a public network, the existing deployment the plan names, checked.

Used by `scripts/deployer.deploy` when the plan has a `uniswap` section (the devnet plan does)."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from keeper.deployment import PoolInfo, UniswapInfo

if TYPE_CHECKING:
    from keeper.deployment import AssetInfo
    from scripts.deployer import Sender

log = logging.getLogger(__name__)

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
ARTIFACTS = {
    "UniswapV3Factory": "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
    "SwapRouter": "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
    "NonfungiblePositionManager": (
        "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/"
        "NonfungiblePositionManager.json"
    ),
}
#: The pool init code hash the periphery has compiled in (its `PoolAddress` library): the CREATE2
#: address it computes for a pool is only right when the factory deploys this very bytecode.
PERIPHERY_POOL_INIT_CODE_HASH = "0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54"
MIN_TICK, MAX_TICK = -887272, 887272
DEADLINE = 2**64 - 1
MAX_UINT = 2**256 - 1
Q96 = 2**96
#: The fee tiers a freshly deployed UniswapV3Factory enables (its constructor), with their tick spacing.
NEW_FACTORY_TICK_SPACINGS = {500: 10, 3000: 60, 10000: 200}


class UniswapPlanError(Exception):
    """A Uniswap plan or an existing Uniswap deployment the deploy cannot go ahead with, as one
    sentence; raised before any transaction is sent."""


@dataclass(frozen=True)
class PairPlan:
    """One pool: two of the plan's assets (by symbol, any order) and its fee tier (hundredths of a BPS:
    500 = 0.05%)."""

    a: str
    b: str
    fee: int


@dataclass(frozen=True)
class UniswapPlan:
    """The pools the keeper's flash liquidations swap through.

    On a devnet (no addresses named) the factory, router, quoter and position manager are deployed and
    every pool is created at the oracle price with `depth_usd` of liquidity between -`range_bps` and
    +`range_bps` around it, and `full_range_usd` more over the whole price range (as a V2 pool holds
    it), so that the price can travel far from where it started and still meet liquidity. On a public
    network `factory`, `router`, `quoter` and `position_manager` name the existing deployment and every
    pair must already have a pool there; nothing is deployed."""

    pairs: tuple[PairPlan, ...]
    depth_usd: float = 20_000_000.0
    range_bps: int = 200
    full_range_usd: float = 20_000_000.0
    factory: str | None = None
    router: str | None = None
    quoter: str | None = None
    position_manager: str | None = None

    @property
    def existing(self) -> bool:
        return self.factory is not None

    def named_addresses(self) -> dict[str, str | None]:
        return {
            "factory": self.factory,
            "router": self.router,
            "quoter": self.quoter,
            "position_manager": self.position_manager,
        }

    @classmethod
    def from_json(cls, raw: Any) -> UniswapPlan:
        """The plan file's "uniswap" object: {"pairs": [{"a": "WETH", "b": "USDC", "fee": 500}, ...], ...}."""
        if not isinstance(raw, dict) or not isinstance(raw.get("pairs"), list) or not raw["pairs"]:
            raise UniswapPlanError('"uniswap" must be an object with a non-empty list under "pairs"')
        try:
            pairs = tuple(PairPlan(**p) for p in raw["pairs"])
            return cls(pairs=pairs, **{k: v for k, v in raw.items() if k != "pairs"})
        except TypeError as exc:
            raise UniswapPlanError(f"uniswap: {exc}") from None


#: The devnet's pools: each collateral against each debt asset it is usually borrowed with, except
#: WBTC/DAI, which a flash liquidation reaches in two hops (WBTC -> WETH -> DAI).
DEVNET_UNISWAP = UniswapPlan(
    pairs=(
        PairPlan("WETH", "USDC", 500),
        PairPlan("WETH", "DAI", 3000),
        PairPlan("WBTC", "WETH", 3000),
        PairPlan("WBTC", "USDC", 3000),
        PairPlan("USDC", "DAI", 500),
    )
)


def artifact(name: str) -> dict[str, Any]:
    path = NODE_MODULES / ARTIFACTS[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `make setup` (npm ci) first")
    return json.loads(path.read_text())


def uniswap_contract(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact(name)["abi"])


def pool_init_code_hash() -> str:
    """keccak256 of the pool creation code the shipped factory deploys."""
    return "0x" + keccak(hexstr=artifact("UniswapV3Pool")["bytecode"]).hex()


def pool_address(factory: str, token_a: str, token_b: str, fee: int) -> str:
    """The CREATE2 address of a pool, as the periphery computes it (PoolAddress.computeAddress)."""
    token0, token1 = sorted((token_a, token_b), key=int_of)
    salt = keccak(
        bytes.fromhex(token0[2:]).rjust(32, b"\0")
        + bytes.fromhex(token1[2:]).rjust(32, b"\0")
        + fee.to_bytes(32, "big")
    )
    digest = keccak(
        b"\xff" + bytes.fromhex(factory[2:]) + salt + bytes.fromhex(PERIPHERY_POOL_INIT_CODE_HASH[2:])
    )
    return Web3.to_checksum_address(digest[12:])


def int_of(address: str) -> int:
    return int(address, 16)


# prices and ticks


def sqrt_price_x96(price0_usd8: int, decimals0: int, price1_usd8: int, decimals1: int) -> int:
    """sqrt(token1 units per token0 unit) in Q64.96 at the two USD prices (8 decimals), rounded down."""
    numerator = price0_usd8 * 10**decimals1 * 2**192
    denominator = price1_usd8 * 10**decimals0
    return math.isqrt(numerator // denominator)


def price_of_tick(tick: int) -> float:
    return 1.0001**tick


def tick_of_price(price: float) -> float:
    return math.log(price) / math.log(1.0001)


@dataclass(frozen=True)
class Position:
    """The liquidity a new pool gets: a band of ticks around its price and the token amounts to offer."""

    tick_lower: int
    tick_upper: int
    amount0: int
    amount1: int


def position_for_depth(
    sqrt_price: int,
    spacing: int,
    range_bps: int | None,
    depth_usd: float,
    usd_per_unit0: float,
    usd_per_unit1: float,
) -> Position:
    """Ticks covering price x (1 -/+ range_bps) rounded outwards to the tick spacing (the whole range
    when `range_bps` is None), and the amounts (token units) whose value at the pool's price is
    `depth_usd` for a position over that band."""
    price = (sqrt_price / Q96) ** 2
    if range_bps is None:
        lower, upper = _min_tick(spacing), _max_tick(spacing)
    else:
        lower = math.floor(tick_of_price(price * (1 - range_bps / 1e4)) / spacing) * spacing
        upper = math.ceil(tick_of_price(price * (1 + range_bps / 1e4)) / spacing) * spacing
    lower, upper = max(lower, _min_tick(spacing)), min(upper, _max_tick(spacing))
    sp, sl, su = math.sqrt(price), math.sqrt(price_of_tick(lower)), math.sqrt(price_of_tick(upper))
    # Per unit of liquidity L: amount0 = L (1/sp - 1/su), amount1 = L (sp - sl).
    per_l0, per_l1 = 1 / sp - 1 / su, sp - sl
    liquidity = depth_usd / (per_l0 * usd_per_unit0 + per_l1 * usd_per_unit1)
    # 1% over: the position manager takes what the exact liquidity needs and returns the rest.
    return Position(lower, upper, int(liquidity * per_l0 * 1.01), int(liquidity * per_l1 * 1.01))


def _min_tick(spacing: int) -> int:
    return -(MAX_TICK // spacing) * spacing


def _max_tick(spacing: int) -> int:
    return (MAX_TICK // spacing) * spacing


# deployment


@dataclass
class _Pair:
    plan: PairPlan
    asset0: AssetInfo
    asset1: AssetInfo


def check_plan(w3: Web3, plan: UniswapPlan, tokens: dict[str, str | None]) -> None:
    """Everything that would stop the deployment half-way, before the first transaction of the whole
    deploy: every pair names two of the plan's assets (`tokens`: symbol -> existing token address, None
    for a mock) once; on a devnet every fee tier is one a new factory enables; on a public network every
    named Uniswap contract has code, every fee tier is enabled on that factory and every pair already
    has a pool there."""
    seen: set[tuple[str, str, int]] = set()
    for pair in plan.pairs:
        for symbol in (pair.a, pair.b):
            if symbol not in tokens:
                raise UniswapPlanError(
                    f"uniswap pair {pair.a}/{pair.b}: {symbol} is not one of the plan's assets"
                )
        if pair.a == pair.b:
            raise UniswapPlanError(f"uniswap pair {pair.a}/{pair.b} names one asset twice")
        key = (*sorted((pair.a, pair.b)), pair.fee)
        if key in seen:
            raise UniswapPlanError(f"uniswap pair {pair.a}/{pair.b} at fee {pair.fee} appears twice")
        seen.add(key)
    if not plan.existing:
        for what, address in plan.named_addresses().items():
            if address is not None:
                raise UniswapPlanError(
                    f"uniswap: {what} is named but factory is not: name the whole deployment"
                )
        if "WETH" not in tokens:
            raise UniswapPlanError("uniswap: the router needs a WETH asset (the wrapped gas token)")
        for pair in plan.pairs:
            if pair.fee not in NEW_FACTORY_TICK_SPACINGS:
                enabled = ", ".join(str(f) for f in sorted(NEW_FACTORY_TICK_SPACINGS))
                raise UniswapPlanError(
                    f"uniswap pair {pair.a}/{pair.b}: fee tier {pair.fee} does not exist on a new factory "
                    f"(it enables {enabled})"
                )
        return
    chain_id = w3.eth.chain_id
    for what, address in plan.named_addresses().items():
        if address is None or not Web3.is_address(address):
            raise UniswapPlanError(f"uniswap: {what} {address!r} is not an address")
        if not w3.eth.get_code(Web3.to_checksum_address(address)):
            raise UniswapPlanError(f"uniswap {what} {address} has no code on chain {chain_id}")
    factory = uniswap_contract(w3, "UniswapV3Factory", str(plan.factory))
    for pair in plan.pairs:
        if int(factory.functions.feeAmountTickSpacing(pair.fee).call()) == 0:
            raise UniswapPlanError(
                f"uniswap pair {pair.a}/{pair.b}: fee tier {pair.fee} is not enabled on the factory "
                f"{plan.factory}"
            )
        token_a, token_b = tokens[pair.a], tokens[pair.b]
        if token_a is None or token_b is None:
            raise UniswapPlanError(
                f"uniswap pair {pair.a}/{pair.b}: a mock token has no pool on an existing Uniswap deployment"
            )
        pool = factory.functions.getPool(token_a, token_b, pair.fee).call()
        if int(pool, 16) == 0:
            raise UniswapPlanError(
                f"uniswap pair {pair.a}/{pair.b} has no pool at fee {pair.fee} on the factory {plan.factory}"
            )


@dataclass
class UniswapDeployer:
    """Deploys a checked Uniswap plan (devnet) or records the existing deployment it names, once the
    protocol's assets are listed (`assets`) and priced by the oracle (`prices`: USD, 8 decimals)."""

    w3: Web3
    sender: Sender
    plan: UniswapPlan
    assets: dict[str, AssetInfo]
    prices: dict[str, int]
    _pairs: list[_Pair] = field(default_factory=list)

    def __post_init__(self) -> None:
        for pair in self.plan.pairs:
            a, b = self.assets[pair.a], self.assets[pair.b]
            asset0, asset1 = (a, b) if int_of(a.address) < int_of(b.address) else (b, a)
            self._pairs.append(_Pair(pair, asset0, asset1))

    def deploy(self) -> UniswapInfo:
        """The deployment's Uniswap record (call `check` first)."""
        if self.plan.existing:
            return UniswapInfo(
                factory=Web3.to_checksum_address(str(self.plan.factory)),
                router=Web3.to_checksum_address(str(self.plan.router)),
                quoter=Web3.to_checksum_address(str(self.plan.quoter)),
                position_manager=Web3.to_checksum_address(str(self.plan.position_manager)),
                pools=tuple(self._pool_info(p, self._existing_pool(p)) for p in self._pairs),
                deployed=False,
            )
        weth = self.assets["WETH"]
        factory = self._deploy("UniswapV3Factory")
        router = self._deploy("SwapRouter", factory.address, weth.address)
        quoter = self._deploy("QuoterV2", factory.address, weth.address)
        # The token descriptor only renders NFT metadata (tokenURI), which nothing here reads.
        manager = self._deploy("NonfungiblePositionManager", factory.address, weth.address, weth.address)
        pools = tuple(self._pool(factory, manager, p) for p in self._pairs)
        return UniswapInfo(
            factory=factory.address,
            router=router.address,
            quoter=quoter.address,
            position_manager=manager.address,
            pools=pools,
            deployed=True,
        )

    def _existing_pool(self, p: _Pair) -> str:
        factory = uniswap_contract(self.w3, "UniswapV3Factory", str(self.plan.factory))
        return str(factory.functions.getPool(p.asset0.address, p.asset1.address, p.plan.fee).call())

    def _deploy(self, name: str, *args: Any) -> Contract:
        return self.sender.deploy_artifact(name, artifact(name), *args)[0]

    def _pool(self, factory: Contract, manager: Contract, p: _Pair) -> PoolInfo:
        """Creates and initialises the pool at the oracle price, then adds its liquidity."""
        price0, price1 = self.prices[p.asset0.symbol], self.prices[p.asset1.symbol]
        sqrt_price = sqrt_price_x96(price0, p.asset0.decimals, price1, p.asset1.decimals)
        self.sender.transact(
            manager.functions.createAndInitializePoolIfNecessary(
                p.asset0.address, p.asset1.address, p.plan.fee, sqrt_price
            )
        )
        address = factory.functions.getPool(p.asset0.address, p.asset1.address, p.plan.fee).call()
        spacing = NEW_FACTORY_TICK_SPACINGS[p.plan.fee]
        usd0, usd1 = price0 / 1e8 / 10**p.asset0.decimals, price1 / 1e8 / 10**p.asset1.decimals
        positions = [
            position_for_depth(sqrt_price, spacing, self.plan.range_bps, self.plan.depth_usd, usd0, usd1)
        ]
        if self.plan.full_range_usd > 0:
            positions.append(
                position_for_depth(sqrt_price, spacing, None, self.plan.full_range_usd, usd0, usd1)
            )
        for position in positions:
            self._mint_and_approve(p.asset0, manager.address, position.amount0)
            self._mint_and_approve(p.asset1, manager.address, position.amount1)
            self.sender.transact(
                manager.functions.mint(
                    (
                        p.asset0.address,
                        p.asset1.address,
                        p.plan.fee,
                        position.tick_lower,
                        position.tick_upper,
                        position.amount0,
                        position.amount1,
                        0,
                        0,
                        self.sender.address,
                        DEADLINE,
                    )
                )
            )
        log.info("uniswap pool %s/%s fee %d at %s", p.asset0.symbol, p.asset1.symbol, p.plan.fee, address)
        return self._pool_info(p, address)

    def _mint_and_approve(self, asset: AssetInfo, spender: str, amount: int) -> None:
        if not asset.mock_token:
            raise UniswapPlanError(
                f"uniswap: cannot seed a new pool with {asset.symbol}, which is not a mock token"
            )
        from scripts.deployer import contract

        token = contract(self.w3, "MockERC20", asset.address)
        self.sender.transact(token.functions.mint(self.sender.address, amount))
        self.sender.transact(token.functions.approve(spender, amount))

    @staticmethod
    def _pool_info(p: _Pair, address: str) -> PoolInfo:
        return PoolInfo(
            token0=p.asset0.symbol,
            token1=p.asset1.symbol,
            fee=p.plan.fee,
            address=Web3.to_checksum_address(address),
        )
