"""Connecting to the node, loading the keeper's key, and validating everything before work starts."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, Web3RPCError
from web3.types import RPCEndpoint

from keeper.config import Settings, split_urls
from keeper.contracts import Contracts, decode_revert, feed, flash_liquidator
from keeper.deployment import Deployment
from keeper.errors import ChainError, ConfigError, DeploymentError, FundsError
from keeper.providers import FailoverProvider

log = logging.getLogger(__name__)

RPC_TIMEOUT_SECONDS = 10


def connect(rpc_url: str, tx_rpc_url: str | None = None) -> Web3:
    """A web3 connection that answered `eth_chainId`, or a `ChainError` sentence. Several
    comma-separated URLs, or a separate `tx_rpc_url` for transactions, fail over between endpoints
    (`FailoverProvider`, which also retries a single HTTP endpoint that rate-limits or errs)."""
    # web3.py's validation asks for the chain id before every call and transaction; it never changes
    # under a running keeper, so that one answer is cached (nothing else is).
    cache = {"cache_allowed_requests": True, "cacheable_requests": {RPCEndpoint("eth_chainId")}}
    urls = split_urls(rpc_url)
    if len(urls) == 1 and not tx_rpc_url and rpc_url.startswith(("ws://", "wss://")):
        from web3 import LegacyWebSocketProvider

        provider: Any = LegacyWebSocketProvider(rpc_url, websocket_timeout=RPC_TIMEOUT_SECONDS, **cache)
    else:
        # Even one HTTP endpoint goes through the failover provider: a rate limit (429) or a server
        # error is asked again after a pause (its passes) instead of failing the step or start-up.
        provider = FailoverProvider(urls, tx_rpc_url, RPC_TIMEOUT_SECONDS, **cache)
    w3 = Web3(provider)
    try:
        w3.eth.chain_id  # noqa: B018 - the request is the check
    except Exception as exc:
        raise ChainError(f"cannot reach the node at {rpc_url}: {connection_reason(exc)}") from None
    return w3


def connection_reason(exc: BaseException) -> str:
    """The innermost cause of a failed request, in words ("[Errno 111] Connection refused"), not the
    wrapper's text (requests and urllib3 nest the reason three exceptions deep)."""
    seen: set[int] = set()
    inner: BaseException = exc
    while id(inner) not in seen:
        seen.add(id(inner))
        nested = getattr(inner, "reason", None)
        if not isinstance(nested, BaseException):
            nested = next((a for a in inner.args if isinstance(a, BaseException)), None)
        if nested is None:
            nested = inner.__cause__ or inner.__context__
        if nested is None:
            break
        inner = nested
    text = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
    # urllib3 prefixes the connection object's repr: "<...HTTPConnection object at 0x..>: Failed ..."
    text = re.sub(r"^<[^>]*>:\s*", "", text)
    return text[:240]


def load_account(settings: Settings) -> LocalAccount | None:
    """The signing key from PRIVATE_KEY or KEYSTORE + KEYSTORE_PASSWORD; None when neither is set."""
    if settings.private_key is not None:
        account = account_from_key(settings.private_key.reveal())
    elif settings.keystore is not None:
        account = _load_keystore(settings.keystore, settings)
    else:
        return None
    if settings.expected_address and (Web3.to_checksum_address(settings.expected_address) != account.address):
        raise ConfigError(
            f"the key belongs to {account.address}, not to KEEPER_ADDRESS {settings.expected_address}"
        )
    return account


def account_from_key(key: str) -> LocalAccount:
    """The account of a PRIVATE_KEY value, or a `ConfigError` sentence that never repeats the key."""
    body = key[2:] if key.startswith("0x") else key
    if len(body) != 64 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ConfigError("PRIVATE_KEY must be 32 bytes of hex (64 hex digits, 0x optional)")
    try:
        return Account.from_key("0x" + body)
    except Exception:
        raise ConfigError("PRIVATE_KEY is not a valid secp256k1 private key") from None


def _load_keystore(path: Path, settings: Settings) -> LocalAccount:
    if not path.is_file():
        raise ConfigError(f"KEYSTORE {path} not found")
    if settings.keystore_password is None:
        raise ConfigError("KEYSTORE is set but KEYSTORE_PASSWORD is not")
    try:
        key = Account.decrypt(json.loads(path.read_text()), settings.keystore_password.reveal())
    except (ValueError, json.JSONDecodeError):
        raise ConfigError(f"cannot decrypt KEYSTORE {path}: wrong password or not a keystore") from None
    return Account.from_key(key)


@dataclass(frozen=True)
class ChainContext:
    """A validated connection: the node, the deployment's contracts and the keeper's account."""

    w3: Web3
    deployment: Deployment
    contracts: Contracts
    account: LocalAccount | None
    flash_liquidator: str | None = None  # the FlashLiquidator flash liquidations go through

    @property
    def address(self) -> str | None:
        return self.account.address if self.account else None


def check_deploy_block(w3: Web3, deployment: Deployment) -> None:
    """The node's block at `deploy_block` must be the one the deployment file recorded: a file from
    an earlier chain with the same chain id and addresses (a restarted Anvil) is refused. A file
    without the hash (written before it was recorded) is accepted with a warning."""
    if not deployment.deploy_block_hash:
        log.warning(
            "deployment_unverified path=%s reason=no deploy_block_hash (re-deploy to record it)",
            deployment.path,
        )
        return
    try:
        node_hash: str | None = w3.eth.get_block(deployment.deploy_block)["hash"].to_0x_hex()
    except BlockNotFound:
        node_hash = None
    if node_hash is None or node_hash.lower() != deployment.deploy_block_hash.lower():
        raise DeploymentError(
            f"{deployment.path} is from another chain: its deploy block {deployment.deploy_block} "
            f"has hash {deployment.deploy_block_hash} but the node's is {node_hash}; re-deploy "
            "or pass the right --deployment"
        )


def validate(
    w3: Web3,
    deployment: Deployment,
    account: LocalAccount | None,
    *,
    require_funds: bool,
    mode: str = "inventory",
) -> ChainContext:
    """Startup validation: chain id, code at every address, the pool's oracle, 8-decimal feeds,
    (when sending) an account with gas money, and (in flash or auto mode) the FlashLiquidator. Raises
    one readable sentence per problem."""
    chain_id = w3.eth.chain_id
    if chain_id != deployment.chain_id:
        raise ChainError(
            f"the node is chain {chain_id} but {deployment.path} is for chain {deployment.chain_id}"
        )
    check_deploy_block(w3, deployment)
    named = {"pool": deployment.pool, "oracle": deployment.oracle, "lens": deployment.lens}
    for asset in deployment.assets:
        named[f"{asset.symbol} token"] = asset.address
        named[f"{asset.symbol} feed"] = asset.feed
    for what, address in named.items():
        if len(w3.eth.get_code(address)) == 0:
            raise DeploymentError(
                f"no contract code at the {what} address {address} on chain {chain_id}: "
                f"is {deployment.path} from another deployment?"
            )
    contracts = Contracts.at(w3, deployment.pool, deployment.oracle, deployment.lens)
    try:
        pool_oracle = contracts.pool.functions.oracle().call()
    except (ContractLogicError, Web3RPCError, ValueError):
        raise DeploymentError(f"{deployment.pool} does not answer as a LendingPool") from None
    if pool_oracle != deployment.oracle:
        raise DeploymentError(
            f"the pool's oracle is {pool_oracle}, but {deployment.path} names {deployment.oracle}"
        )
    for asset in deployment.assets:
        decimals = feed(w3, asset.feed).functions.decimals().call()
        if decimals != 8:
            raise DeploymentError(
                f"the {asset.symbol} feed has {decimals} decimals; the keeper expects 8-decimal USD feeds"
            )
    if require_funds:
        if account is None:
            raise ConfigError("no key: set PRIVATE_KEY or KEYSTORE (or use --dry-run)")
        balance = w3.eth.get_balance(account.address)
        if balance == 0:
            raise FundsError(f"account {account.address} has no ETH to pay for gas")
    flash = check_flash_liquidator(w3, deployment, account, mode)
    return ChainContext(
        w3=w3, deployment=deployment, contracts=contracts, account=account, flash_liquidator=flash
    )


def check_flash_liquidator(
    w3: Web3, deployment: Deployment, account: LocalAccount | None, mode: str
) -> str | None:
    """The FlashLiquidator to liquidate through in `flash` or `auto` mode, once checked: the deployment
    names it and Uniswap's quoter, both have code, it liquidates on this pool, and its owner is the
    keeper's account (it refuses anyone else). In `auto` mode a deployment without one leaves the
    keeper liquidating from inventory (a warning); in `flash` mode that is an error."""
    if mode == "inventory":
        return None
    info, uniswap = deployment.flash_liquidator, deployment.uniswap
    if info is None or uniswap is None:
        missing = "FlashLiquidator" if info is None else "Uniswap section"
        if mode == "auto":
            log.warning("flash_unavailable path=%s reason=no %s mode=inventory", deployment.path, missing)
            return None
        raise DeploymentError(
            f"--mode flash needs a FlashLiquidator, but {deployment.path} has no {missing}: deploy with "
            "KEEPER_ADDRESS set to the keeper's account (scripts/deploy.py), or use --mode inventory"
        )
    for what, address in (("FlashLiquidator", info.address), ("Uniswap quoter", uniswap.quoter)):
        if len(w3.eth.get_code(address)) == 0:
            raise DeploymentError(
                f"no contract code at the {what} address {address}: "
                f"is {deployment.path} from another deployment?"
            )
    contract = flash_liquidator(w3, info.address)
    try:
        owner, pool = contract.functions.owner().call(), contract.functions.lendingPool().call()
    except (ContractLogicError, Web3RPCError, ValueError):
        raise DeploymentError(f"{info.address} does not answer as a FlashLiquidator") from None
    if pool != deployment.pool:
        raise DeploymentError(
            f"the FlashLiquidator {info.address} liquidates on {pool}, not on the pool {deployment.pool}"
        )
    if account is not None and owner != account.address:
        raise DeploymentError(
            f"the FlashLiquidator {info.address} is owned by {owner}, not by the keeper's account "
            f"{account.address}: only its owner may call it"
        )
    return info.address


def revert_reason(exc: BaseException) -> str:
    """The decoded custom error of a failed call or estimate, by name."""
    data: Any = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return decode_revert(data)
    if isinstance(exc, Web3RPCError) and isinstance(exc.rpc_response, dict):
        err = exc.rpc_response.get("error") or {}
        if isinstance(err, dict) and isinstance(err.get("data"), str):
            return decode_revert(err["data"])
    message = str(exc)
    return message.splitlines()[0][:200] if message else type(exc).__name__
