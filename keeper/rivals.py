"""Rival liquidations in the node's pending pool: `txpool_content` (Anvil and geth answer it; a node
that does not is asked once and then left alone), decoded with the pool's ABI, as the highest tip
per gas any other sender offers to liquidate each account."""

from __future__ import annotations

import logging
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3
from web3.types import RPCEndpoint

from keeper.calls import function
from keeper.rpc_batch import RpcCounter

log = logging.getLogger(__name__)

LIQUIDATE = function("LendingPool", "liquidate")
LIQUIDATE_SELECTOR = "0x" + function_signature_to_4byte_selector(LIQUIDATE.signature).hex()
#: The position of `user` in liquidate(collateral, debt, user, debtToCover, receiveShares).
USER_ARGUMENT = 2


def _int(value: Any) -> int | None:
    if value is None:
        return None
    return int(value, 16) if isinstance(value, str) else int(value)


def effective_tip(tx: dict[str, Any], base_fee: int) -> int:
    """What a pending transaction pays the block builder per gas at `base_fee`."""
    tip, max_fee = _int(tx.get("maxPriorityFeePerGas")), _int(tx.get("maxFeePerGas"))
    if tip is not None and max_fee is not None:
        return max(0, min(tip, max_fee - base_fee))
    return max(0, (_int(tx.get("gasPrice")) or 0) - base_fee)


def liquidated_user(tx: dict[str, Any], pool: str) -> str | None:
    """The account a pending transaction liquidates on `pool`, or None when it is no liquidation."""
    data = tx.get("input") or tx.get("data") or "0x"
    if not tx.get("to") or tx["to"].lower() != pool.lower():
        return None
    if not data.lower().startswith(LIQUIDATE_SELECTOR):
        return None
    try:
        args = abi_decode(list(LIQUIDATE.input_types), bytes.fromhex(data[10:]))
    except Exception:
        return None
    return Web3.to_checksum_address(args[USER_ARGUMENT])


class RivalWatch:
    """Reads the pending pool at most once per call; remembers a node without `txpool_content`."""

    def __init__(self, w3: Web3, rpc: RpcCounter):
        self.w3 = w3
        self.rpc = rpc
        self.supported: bool | None = None

    def pending_bids(self, pool: str, own: str | None, base_fee: int) -> dict[str, int]:
        """Account (lower-case) -> the highest effective tip of another sender's pending liquidation
        of it."""
        if self.supported is False:
            return {}
        self.rpc.add()
        try:
            response = self.w3.provider.make_request(RPCEndpoint("txpool_content"), [])
        except Exception as exc:
            response = {"error": str(exc)}
        result = response.get("result") if response.get("error") is None else None
        if not isinstance(result, dict):
            if self.supported is None:
                log.info("txpool_unavailable: rival liquidations are not watched (%s)", response.get("error"))
            self.supported = False
            return {}
        self.supported = True
        bids: dict[str, int] = {}
        for sender, by_nonce in (result.get("pending") or {}).items():
            if own is not None and sender.lower() == own.lower():
                continue
            for tx in by_nonce.values():
                user = liquidated_user(tx, pool)
                if user is not None:
                    bids[user.lower()] = max(bids.get(user.lower(), 0), effective_tip(tx, base_fee))
        return bids
