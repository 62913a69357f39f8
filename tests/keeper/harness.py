"""Builds a Keeper for a test devnet the way the CLI does, without a subprocess."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devnet import Devnet

from keeper.chain import connect, load_account, validate
from keeper.config import load_settings
from keeper.deployment import load_deployment
from keeper.metrics import Metrics
from keeper.runner import Keeper
from keeper.store import Store


def make_keeper(
    devnet: Devnet, key: str | None, db: Path, rpc_url: str | None = None, **flags: Any
) -> Keeper:
    settings = load_settings(
        {
            "rpc_url": rpc_url or devnet.w3.provider.endpoint_uri,
            "deployment": str(devnet.deployment_path),
            "db_path": str(db),
            "private_key": key,
            **flags,
        },
        environ={},
        dotenv_path=None,
    )
    w3 = connect(settings.rpc_url, settings.tx_rpc_url)
    ctx = validate(
        w3,
        load_deployment(settings.deployment),
        load_account(settings),
        require_funds=not settings.dry_run,
        mode=settings.mode,
    )
    return Keeper(ctx, settings, Store(settings.db_path), Metrics())


def run_until_idle(keeper: Keeper, max_steps: int = 20) -> list:
    """Steps the keeper over every new block until one step finds nothing new."""
    reports = []
    for _ in range(max_steps):
        report = keeper.step()
        if report is None:
            break
        reports.append(report)
    return reports


def rpc(devnet: Devnet, method: str, *params: Any) -> Any:
    """Calls a node method (anvil_*, evm_*) and fails the test if the node answers with an error."""
    answer = devnet.w3.provider.make_request(method, list(params))
    assert not answer.get("error"), answer
    return answer.get("result")
