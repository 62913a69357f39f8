"""A deployment file from an earlier chain with the same chain id and the same addresses (a
restarted Anvil, deployed again) is refused at start-up with one line and exit 2: its recorded
deploy-block hash is not the node's."""

from __future__ import annotations

import shutil

import pytest
from devnet import AnvilNode, Devnet, dev_key

from keeper.cli import main

KEEPER_INDEX = 10


@pytest.fixture
def stale_file_and_new_chain(tmp_path):
    """The deployment file of a first Anvil, and a second Anvil deployed again at the same addresses."""
    first = AnvilNode()
    first.start()
    try:
        old = Devnet.create(first, tmp_path / "first")
        stale = tmp_path / "stale.json"
        shutil.copy(old.deployment_path, stale)
    finally:
        first.stop()
    second = AnvilNode()
    second.start()
    try:
        new = Devnet.create(second, tmp_path / "second")
        assert new.deployment.pool == old.deployment.pool
        assert new.deployment.deploy_block_hash != old.deployment.deploy_block_hash
        yield stale, new
    finally:
        second.stop()


@pytest.mark.parametrize(
    "command",
    [["scan", "--once"], ["run", "--max-blocks", "1"], ["liquidate", "--user", "0x" + "22" * 20]],
)
def test_stale_deployment_file_is_refused(capsys, monkeypatch, tmp_path, stale_file_and_new_chain, command):
    stale, new = stale_file_and_new_chain
    monkeypatch.setenv("PRIVATE_KEY", dev_key(KEEPER_INDEX))
    code = main(
        [
            *command,
            "--env-file",
            "/nonexistent",
            "--rpc-url",
            new.w3.provider.endpoint_uri,
            "--deployment",
            str(stale),
            "--db-path",
            str(tmp_path / "k.db"),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith(f"liqkeeper: {stale} is from another chain: its deploy block")
    assert "re-deploy" in err[-1]
