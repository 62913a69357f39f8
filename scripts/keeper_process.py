"""`liqkeeper run` as a child process, the way an operator runs it: for the demo and the keeper
benchmarks. Its log goes to a file; its Prometheus endpoint tells when it is up and what it did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from scripts.devnode import ROOT, free_port


class KeeperProcess:
    """One `liqkeeper run` with its own database and metrics port; stopped with SIGTERM."""

    def __init__(self, rpc_url: str, deployment: Path, out: Path, key: str, extra: list[str] | None = None):
        self.rpc_url = rpc_url
        self.deployment = deployment
        self.out = out
        self.key = key
        self.extra = extra or []
        self.metrics_port = free_port()
        self.db_path = out / "keeper.sqlite"
        self.log_path = out / "keeper.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60, fresh: bool = True) -> None:
        """Starts the keeper (on a fresh database unless `fresh` is False: a restart) and waits until
        it has processed a block."""
        if fresh:
            for stale in ("keeper.sqlite", "keeper.sqlite-wal", "keeper.sqlite-shm"):
                (self.out / stale).unlink(missing_ok=True)
        env = {**os.environ, "PRIVATE_KEY": self.key}
        with self.log_path.open("wb" if fresh else "ab") as logfile:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "keeper.cli",
                    "run",
                    "--rpc-url",
                    self.rpc_url,
                    "--deployment",
                    str(self.deployment),
                    "--db-path",
                    str(self.db_path),
                    "--metrics-port",
                    str(self.metrics_port),
                    "--env-file",
                    str(self.out / ".none"),
                    *self.extra,
                ],
                env=env,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        deadline = time.time() + timeout
        while self.metric("liqkeeper_last_processed_block") is None:
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the keeper did not start; see {self.log_path}")
            time.sleep(0.2)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metric(self, name: str) -> float | None:
        """The sum of every sample of `name` (over its labels), or None when the keeper is not up."""
        try:
            url = f"http://127.0.0.1:{self.metrics_port}/metrics"
            body = urllib.request.urlopen(url, timeout=2).read().decode()
        except OSError:
            return None
        total = None
        for line in body.splitlines():
            if line.startswith(name) and not line.startswith("#"):
                total = (total or 0.0) + float(line.rsplit(" ", 1)[1])
        return total

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (the keeper finishes its step and exits 0); killed if it does not stop in time."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code
