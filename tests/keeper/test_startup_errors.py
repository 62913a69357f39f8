"""Bad input ends with one readable line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

from keeper.cli import main

ROOT_KEY = "0x" + "11" * 32


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(["status", "--env-file", "/nonexistent/.env", *args])
    err = capsys.readouterr().err.strip().splitlines()
    return code, err[-1] if err else ""


def test_unreachable_rpc_url(capsys, tmp_path):
    code, line = run_cli(capsys, "--rpc-url", "http://127.0.0.1:1", "--db-path", str(tmp_path / "k.db"))
    assert code == 2
    assert line.startswith("liqkeeper: cannot reach the node at http://127.0.0.1:1")


def test_rpc_url_without_scheme(capsys, tmp_path):
    code, line = run_cli(capsys, "--rpc-url", "localhost:8545")
    assert code == 2
    assert "RPC_URL must start with http://" in line


def test_missing_deployment_file(capsys, node, tmp_path):
    code, line = run_cli(capsys, "--rpc-url", node.url, "--deployment", str(tmp_path / "none.json"))
    assert code == 2
    assert "deployment file" in line and "not found" in line


def test_malformed_deployment_file(capsys, node, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, line = run_cli(capsys, "--rpc-url", node.url, "--deployment", str(bad))
    assert code == 2
    assert "is not valid JSON" in line


def test_deployment_for_another_chain(capsys, devnet, tmp_path):
    raw = json.loads(devnet.deployment_path.read_text())
    raw["chain_id"] = 1
    other = tmp_path / "other.json"
    other.write_text(json.dumps(raw))
    code, line = run_cli(capsys, "--rpc-url", devnet.w3.provider.endpoint_uri, "--deployment", str(other))
    assert code == 2
    assert line == f"liqkeeper: the node is chain 31337 but {other} is for chain 1"


def test_no_code_at_an_address(capsys, devnet, tmp_path):
    raw = json.loads(devnet.deployment_path.read_text())
    raw["lens"] = "0x" + "12" * 20
    other = tmp_path / "nocode.json"
    other.write_text(json.dumps(raw))
    code, line = run_cli(capsys, "--rpc-url", devnet.w3.provider.endpoint_uri, "--deployment", str(other))
    assert code == 2
    assert "no contract code at the lens address" in line


def run_with_key(capsys, devnet, tmp_path) -> tuple[int, str]:
    """`liqkeeper run` against the devnet with PRIVATE_KEY from the environment."""
    code = main(
        [
            "run",
            "--env-file",
            "/nonexistent",
            "--rpc-url",
            devnet.w3.provider.endpoint_uri,
            "--deployment",
            str(devnet.deployment_path),
            "--db-path",
            str(tmp_path / "k.db"),
        ]
    )
    return code, capsys.readouterr().err.strip().splitlines()[-1]


def test_malformed_private_key(capsys, devnet, tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVATE_KEY", "0x1234")
    code, err = run_with_key(capsys, devnet, tmp_path)
    assert code == 2
    assert err == "liqkeeper: PRIVATE_KEY must be 32 bytes of hex (64 hex digits, 0x optional)"
    assert "0x1234" not in err


def test_unfunded_account(capsys, devnet, tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVATE_KEY", ROOT_KEY)
    code, err = run_with_key(capsys, devnet, tmp_path)
    assert code == 2
    assert err.startswith("liqkeeper: account 0x") and err.endswith("has no ETH to pay for gas")


def test_console_script_prints_one_line_and_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "keeper.cli",
            "scan",
            "--once",
            "--rpc-url",
            "http://127.0.0.1:1",
            "--env-file",
            "/nonexistent",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        proc.stderr.strip().splitlines()[0]
    ] and proc.stderr.startswith("liqkeeper: cannot reach the node")


def test_every_command_explains_itself():
    for command in ("run", "scan", "liquidate", "report", "status"):
        proc = subprocess.run(
            [sys.executable, "-m", "keeper.cli", command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0
        assert "usage: liqkeeper " + command in proc.stdout
    top = subprocess.run([sys.executable, "-m", "keeper.cli", "--help"], capture_output=True, text=True)
    for command in ("run", "scan", "liquidate", "report", "status"):
        assert command in top.stdout
