"""`run` shows it is alive: a `progress` line on the first block and every --progress-every blocks
(head, accounts tracked, candidates, pending transactions); --log-level hides it below info."""

from __future__ import annotations

import itertools
import re
import threading

from keeper.cli import main

PROGRESS = re.compile(r" info    progress head=(\d+) accounts=(\d+) candidates=(\d+) pending_txs=(\d+)$")


def run_while_mining(devnet, tmp_path, capsys, *flags: str) -> list[re.Match]:
    """`liqkeeper run --dry-run` for 12 steps while another thread mines blocks; its progress lines."""
    stop = threading.Event()

    def mine() -> None:
        while not stop.wait(0.05):
            devnet.w3.provider.make_request("evm_mine", [])

    miner = threading.Thread(target=mine, daemon=True)
    miner.start()
    try:
        code = main(
            [
                "run",
                "--dry-run",
                "--env-file",
                str(tmp_path / "none.env"),
                "--rpc-url",
                devnet.w3.provider.endpoint_uri,
                "--deployment",
                str(devnet.deployment_path),
                "--db-path",
                str(tmp_path / "k.sqlite"),
                "--poll-interval",
                "0.05",
                "--max-blocks",
                "12",
                *flags,
            ]
        )
    finally:
        stop.set()
        miner.join()
    assert code == 0
    lines = capsys.readouterr().err.splitlines()
    return [m for m in (PROGRESS.search(line) for line in lines) if m]


def test_run_logs_progress_every_n_blocks(devnet, tmp_path, capsys):
    devnet.borrower(1, "WETH", 10, "USDC", hf=1.5, collateral_price=2000)
    progress = run_while_mining(devnet, tmp_path, capsys, "--progress-every", "3")
    assert len(progress) >= 2
    heads = [int(m.group(1)) for m in progress]
    assert all(later - earlier >= 3 for earlier, later in itertools.pairwise(heads))
    assert all(int(m.group(2)) >= 1 for m in progress)  # the borrower (and its lender) are tracked
    assert {m.group(3) for m in progress} == {"0"} and {m.group(4) for m in progress} == {"0"}


def test_log_level_warning_hides_progress(devnet, tmp_path, capsys):
    assert run_while_mining(devnet, tmp_path, capsys, "--progress-every", "1", "--log-level", "warning") == []


def test_progress_every_zero_turns_it_off(devnet, tmp_path, capsys):
    assert run_while_mining(devnet, tmp_path, capsys, "--progress-every", "0") == []
