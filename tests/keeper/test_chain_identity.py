"""What belongs to another chain is refused at start-up with one line and exit 2 (issue 15, D9).

Chain A is deployed and followed by a keeper, then stopped; chain B is a new Anvil with the same
chain id, deployed again at the same addresses (a restarted devnet), started with another genesis
time so that its blocks, and so its deploy block's hash, certainly differ from A's:

- A's deployment file names a deploy block whose hash is not B's: refused (D9a);
- A's database records chain A: refused on B, naming DB_PATH and `--reset-db`; `status` refuses it
  without touching it; with `--reset-db` it is moved aside (logged) and the keeper starts afresh on
  B and liquidates there (D9b)."""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest
from devnet import AnvilNode, Devnet, dev_key
from fake_node import block, fake_web3
from harness import make_keeper
from stage_world import write_deployment

from keeper.chain import check_deploy_block
from keeper.cli import main
from keeper.errors import DeploymentError
from keeper.identity import ChainIdentity, move_aside
from keeper.store import Store

KEEPER_INDEX, SUPPLIER_INDEX = 10, 11
WAD = 10**18
A_MONTH = 30 * 24 * 3600


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    """(A's deployment file, A's keeper database, chain B as a Devnet with a liquidatable borrower
    and a funded keeper)."""
    tmp = tmp_path_factory.mktemp("chains")
    first = AnvilNode()
    first.start()
    try:
        old = Devnet.create(first, tmp / "a")
        old.supply(old.w3.eth.accounts[SUPPLIER_INDEX], "USDC", old.units("USDC", 1_000_000))
        old.borrower(1, "WETH", 10, "USDC", hf=1.5, collateral_price=2000)
        stale = tmp / "stale.json"
        shutil.copy(old.deployment_path, stale)
        db = tmp / "a.sqlite"
        keeper = make_keeper(old, None, db, dry_run=True)
        keeper.start()
        keeper.store.close()
    finally:
        first.stop()
    second = AnvilNode(extra=["--timestamp", str(int(time.time()) - A_MONTH)])
    second.start()
    try:
        new = Devnet.create(second, tmp / "b")
        assert (
            new.deployment.pool == old.deployment.pool and new.deployment.chain_id == old.deployment.chain_id
        )
        assert new.deployment.deploy_block_hash != old.deployment.deploy_block_hash
        supplier = new.w3.eth.accounts[SUPPLIER_INDEX]
        new.supply(supplier, "USDC", new.units("USDC", 1_000_000))
        new.fund(new.w3.eth.accounts[KEEPER_INDEX], "USDC", new.units("USDC", 1_000_000))
        alice = new.borrower(2, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
        new.set_price("WETH", 1900)
        assert new.health_factor(alice) < WAD
        yield stale, db, new, alice
    finally:
        second.stop()


def cli(command: list[str], rpc_url: str, deployment: Path, db: Path, *extra: str) -> int:
    return main(
        [
            *command,
            "--env-file",
            "/nonexistent/.env",
            "--rpc-url",
            rpc_url,
            "--deployment",
            str(deployment),
            "--db-path",
            str(db),
            *extra,
        ]
    )


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


COMMANDS = [
    ["scan", "--once"],
    ["run", "--max-blocks", "1"],
    ["liquidate", "--user", "0x" + "22" * 20, "--yes"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_deployment_file_from_another_chain_is_refused(capsys, monkeypatch, tmp_path, chains, command):
    stale, _, new, _ = chains
    monkeypatch.setenv("PRIVATE_KEY", dev_key(KEEPER_INDEX))

    code = cli(command, new.w3.provider.endpoint_uri, stale, tmp_path / "k.db")

    line = error_line(capsys)
    assert code == 2
    assert line.startswith(f"liqkeeper: {stale} is from another chain: its deploy block")
    assert "re-deploy" in line
    assert not (tmp_path / "k.db").exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_database_from_another_chain_is_refused_naming_it_and_reset_db(
    capsys, monkeypatch, tmp_path, chains, command
):
    _, old_db, new, _ = chains
    db = tmp_path / "keeper.sqlite"
    shutil.copy(old_db, db)
    before = digest(db)
    monkeypatch.setenv("PRIVATE_KEY", dev_key(KEEPER_INDEX))

    code = cli(command, new.w3.provider.endpoint_uri, new.deployment_path, db)

    line = error_line(capsys)
    assert code == 2
    assert line.startswith(f"liqkeeper: database {db} is from another chain: its deploy block")
    assert "pass --reset-db" in line
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keeper.sqlite"]


def test_status_refuses_a_database_from_another_chain_without_touching_it(capsys, tmp_path, chains):
    _, old_db, new, _ = chains
    db = tmp_path / "keeper.sqlite"
    shutil.copy(old_db, db)
    before = digest(db)

    code = cli(["status"], new.w3.provider.endpoint_uri, new.deployment_path, db)

    assert code == 2
    assert f"database {db} is from another chain" in error_line(capsys)
    assert digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keeper.sqlite"]


def test_reset_db_moves_the_foreign_database_aside_and_the_keeper_works_on_the_new_chain(
    capsys, monkeypatch, tmp_path, chains
):
    _, old_db, new, alice = chains
    db = tmp_path / "keeper.sqlite"
    shutil.copy(old_db, db)
    before = digest(db)
    monkeypatch.setenv("PRIVATE_KEY", dev_key(KEEPER_INDEX))
    url = new.w3.provider.endpoint_uri

    code = cli(["liquidate", "--user", alice, "--yes"], url, new.deployment_path, db, "--reset-db")

    captured = capsys.readouterr()
    assert code == 0, captured.err
    [backup] = [p for p in tmp_path.iterdir() if p.name.startswith("keeper.sqlite.bak-")]
    assert digest(backup) == before  # the old database, kept whole
    assert f"database_reset path={db} moved_to={backup}" in captured.err
    assert new.health_factor(alice) >= WAD  # liquidated on chain B
    assert cli(["status"], url, new.deployment_path, db) == 0
    assert "liquidations recorded: 1" in capsys.readouterr().out
    # The new database is chain B's: started again without the flag, it is accepted.
    assert cli(["scan", "--once"], url, new.deployment_path, db) == 0


# The checks on their own, without a node.


def test_check_deploy_block_compares_the_recorded_hash_with_the_nodes(tmp_path, caplog):
    node_hash = "0x" + "ab" * 32
    w3 = fake_web3({"eth_getBlockByNumber": lambda params: block(int(params[0], 16), block_hash=node_hash)})
    deployment = write_deployment(tmp_path, deploy_block=5)

    check_deploy_block(w3, replace(deployment, deploy_block_hash=node_hash.upper().replace("0X", "0x")))
    with pytest.raises(DeploymentError) as refused:
        check_deploy_block(w3, replace(deployment, deploy_block_hash="0x" + "cd" * 32))
    assert str(refused.value) == (
        f"{deployment.path} is from another chain: its deploy block 5 has hash 0x{'cd' * 32} but the "
        f"node's is {node_hash}; re-deploy or pass the right --deployment"
    )
    with caplog.at_level("WARNING"):
        check_deploy_block(w3, deployment)  # written before the hash was recorded: accepted, flagged
    assert "deployment_unverified" in caplog.text


def identity(block_hash: str = "0x" + "aa" * 32, pool: str = "0xPool") -> ChainIdentity:
    return ChainIdentity(31337, pool, 5, block_hash)


def test_a_database_is_matched_by_its_recorded_chain_or_else_its_recent_blocks():
    node = {5: "0x" + "aa" * 32, 9: "0x" + "99" * 32}
    store = Store(Path(":memory:"))
    assert identity().foreign(store, node.get) is None  # a new database
    identity().record(store)
    assert identity().foreign(store, node.get) is None
    assert "is from another chain" in identity("0x" + "bb" * 32).foreign(store, node.get)
    assert "belongs to deployment 31337:0xPool" in identity(pool="0xOther").foreign(store, node.get)

    legacy = Store(Path(":memory:"))  # written before the chain was recorded
    legacy.save_progress(9, node[9], [(9, node[9])], [], 64)
    assert identity().foreign(legacy, node.get) is None
    assert "none of the 1 recent blocks" in identity().foreign(legacy, {9: "0x" + "77" * 32}.get)


def test_move_aside_keeps_every_file_of_the_database_under_a_new_name(tmp_path):
    db = tmp_path / "keeper.sqlite"
    for name in ("keeper.sqlite", "keeper.sqlite-wal"):
        (tmp_path / name).write_text(name)
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    first = move_aside(db, now)
    db.write_text("again")
    second = move_aside(db, now)

    assert first.name == "keeper.sqlite.bak-20260102T030405Z"
    assert (tmp_path / "keeper.sqlite.bak-20260102T030405Z-wal").read_text() == "keeper.sqlite-wal"
    assert second.name == "keeper.sqlite.bak-20260102T030405Z-1" and second.read_text() == "again"
    assert not db.exists()
