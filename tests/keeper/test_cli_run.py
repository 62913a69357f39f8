"""`liqkeeper run` as an operator starts it: a subprocess with metrics, liquidating after a price
drop, answering /metrics and /health, and exiting 0 on SIGTERM. Then `scan`, `status`, `report`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from devnet import free_port

from keeper.cli import main

WAD = 10**18


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def test_run_liquidates_serves_metrics_and_stops_cleanly_on_sigterm(devnet, keeper_key, tmp_path):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    port = free_port()
    db = tmp_path / "keeper.sqlite"
    env = {**os.environ, "PRIVATE_KEY": keeper_key}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "keeper.cli",
            "run",
            "--rpc-url",
            devnet.w3.provider.endpoint_uri,
            "--deployment",
            str(devnet.deployment_path),
            "--db-path",
            str(db),
            "--metrics-port",
            str(port),
            "--env-file",
            str(tmp_path / "none.env"),
            "--poll-interval",
            "0.1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/health")[0] == 200)
        devnet.set_price("WETH", 1900)
        wait_for(lambda: devnet.health_factor(alice) >= WAD)
        status, body = http_get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200

        def liquidation_counted() -> str | None:
            metrics = http_get(f"http://127.0.0.1:{port}/metrics")[1]
            return metrics if 'liqkeeper_liquidations_total{outcome="liquidated"} 1.0' in metrics else None

        wait_for(liquidation_counted)
        assert "liqkeeper_last_processed_block" in body
        health = json.loads(http_get(f"http://127.0.0.1:{port}/health")[1])
        assert health["healthy"] is True
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "shutdown_requested signal=SIGTERM" in err
    assert "liquidation_sent" in err
    assert keeper_key[2:] not in err and keeper_key[2:] not in out


def test_scan_status_and_report_from_the_database(devnet, keeper_key, tmp_path, capsys):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    devnet.set_price("WETH", 1900)
    common = [
        "--rpc-url",
        devnet.w3.provider.endpoint_uri,
        "--deployment",
        str(devnet.deployment_path),
        "--db-path",
        str(tmp_path / "k.sqlite"),
        "--env-file",
        str(tmp_path / "none.env"),
    ]
    assert main(["scan", "--once", *common]) == 0
    out = capsys.readouterr().out
    assert "1 liquidatable" in out and alice in out

    os.environ["PRIVATE_KEY"] = keeper_key
    try:
        assert main(["liquidate", "--user", alice, "--yes", *common]) == 0
    finally:
        del os.environ["PRIVATE_KEY"]
    assert devnet.health_factor(alice) >= WAD
    capsys.readouterr()

    assert main(["status", *common]) == 0
    status = capsys.readouterr().out
    assert "liquidations recorded: 1" in status and "pending transactions: 0" in status

    out_dir = tmp_path / "report"
    assert main(["report", "--db-path", str(tmp_path / "k.sqlite"), "--out", str(out_dir)]) == 0
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["liquidations"] == 1 and summary["reached_target"] == 1
    assert summary["debt_repaid_usd"] > 0
    assert Path(out_dir / "delay_blocks.png").stat().st_size > 1000
    assert len(json.loads((out_dir / "records.json").read_text())) == 1
