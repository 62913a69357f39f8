"""One human unit for liquidation bonuses: the part above 100%, in percent, as the charts show it,
in `scan`, the `liquidate` preview and the report table."""

from __future__ import annotations

import json
import os
import re

from keeper.cli import main
from keeper.report import bonus_percent

PERCENT = re.compile(r"\b\d+\.\d\d%")


def test_bonus_percent_is_the_part_above_one_hundred_percent():
    assert bonus_percent(10_128) == "1.28%"
    assert bonus_percent(10_000) == "0.00%"
    assert bonus_percent(11_050) == "10.50%"


def test_scan_preview_and_report_show_the_bonus_in_percent(devnet, keeper_key, tmp_path, capsys):
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    devnet.set_price("WETH", 1900)
    db = tmp_path / "k.sqlite"
    common = [
        "--rpc-url",
        devnet.w3.provider.endpoint_uri,
        "--deployment",
        str(devnet.deployment_path),
        "--db-path",
        str(db),
        "--env-file",
        str(tmp_path / "none.env"),
    ]
    assert main(["scan", "--once", *common]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith(alice)]
    assert PERCENT.search(row), row
    assert not re.search(r"\b1\d{4}\b", row), row  # no raw BPS such as 10128

    os.environ["PRIVATE_KEY"] = keeper_key
    try:
        assert main(["liquidate", "--user", alice, "--yes", *common]) == 0
    finally:
        del os.environ["PRIVATE_KEY"]
    preview = capsys.readouterr().out
    assert re.search(r"bonus \d+\.\d\d%", preview), preview
    assert "BPS" not in preview

    out = tmp_path / "report"
    assert main(["report", "--db-path", str(db), "--out", str(out)]) == 0
    capsys.readouterr()
    record = json.loads((out / "records.json").read_text())[0]
    table_row = (out / "table.txt").read_text().splitlines()[1]
    assert bonus_percent(record["bonus_bps"]) in table_row.split()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bonus_pct_mean"] == round((record["bonus_bps"] - 10_000) / 100, 2)
