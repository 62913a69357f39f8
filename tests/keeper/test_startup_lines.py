"""Start-up failures an operator meets first are one full line and exit 2: the node's reason is not
cut off, a metrics port in use is not a traceback, and read-only commands never create a database."""

from __future__ import annotations

import socket

from keeper.cli import main


def last_err_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1] if err else ""


def test_unreachable_node_line_names_the_reason(capsys, tmp_path):
    code = main(
        [
            "status",
            "--env-file",
            "/nonexistent/.env",
            "--rpc-url",
            "http://127.0.0.1:1",
            "--db-path",
            str(tmp_path / "k.db"),
        ]
    )
    line = last_err_line(capsys)
    assert code == 2
    assert line.startswith("liqkeeper: cannot reach the node at http://127.0.0.1:1: ")
    assert line.endswith("Connection refused")


def test_metrics_port_in_use_is_one_line_and_exit_2(capsys, devnet, keeper_key, tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVATE_KEY", keeper_key)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(
            [
                "run",
                "--env-file",
                "/nonexistent/.env",
                "--rpc-url",
                devnet.w3.provider.endpoint_uri,
                "--deployment",
                str(devnet.deployment_path),
                "--db-path",
                str(tmp_path / "k.db"),
                "--metrics-port",
                str(port),
                "--max-blocks",
                "1",
            ]
        )
    line = last_err_line(capsys)
    assert code == 2
    assert line.startswith(f"liqkeeper: cannot serve metrics on 127.0.0.1:{port}: ")
    assert "Traceback" not in capsys.readouterr().err


def test_status_on_a_mistyped_db_path_creates_nothing(capsys, devnet, tmp_path):
    db = tmp_path / "typo" / "keepr.sqlite"
    code = main(
        [
            "status",
            "--env-file",
            "/nonexistent/.env",
            "--rpc-url",
            devnet.w3.provider.endpoint_uri,
            "--deployment",
            str(devnet.deployment_path),
            "--db-path",
            str(db),
        ]
    )
    assert code == 2
    expected = f"liqkeeper: database {db} not found: run the keeper first or check DB_PATH"
    assert last_err_line(capsys) == expected
    assert not db.exists() and not db.parent.exists()


def test_scan_without_a_database_creates_none(capsys, devnet, tmp_path):
    db = tmp_path / "absent.sqlite"
    code = main(
        [
            "scan",
            "--once",
            "--env-file",
            "/nonexistent/.env",
            "--rpc-url",
            devnet.w3.provider.endpoint_uri,
            "--deployment",
            str(devnet.deployment_path),
            "--db-path",
            str(db),
        ]
    )
    assert code == 0
    assert "liquidatable" in capsys.readouterr().out
    assert not db.exists()


def test_report_on_a_missing_database_is_one_line(capsys, tmp_path):
    db = tmp_path / "none.sqlite"
    code = main(["report", "--env-file", "/nonexistent/.env", "--db-path", str(db), "--out", str(tmp_path)])
    assert code == 2
    assert "not found" in last_err_line(capsys)
    assert not db.exists()


def test_help_documents_keeper_address(capsys):
    try:
        main(["run", "--help"])
    except SystemExit:
        pass
    out = capsys.readouterr().out
    assert "KEEPER_ADDRESS" in out
