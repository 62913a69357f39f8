"""Refuses, in one line with exit code 2, when something already listens on the port of a Brownie
development network: Brownie would attach to that node instead of launching its own.

    python tools/require_free_port.py liqengine-dev

Reads the port from Brownie's user configuration (~/.brownie/network-config.yaml).
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import yaml

CONFIG = Path.home() / ".brownie" / "network-config.yaml"


def network_port(network_id: str, config: Path = CONFIG) -> int:
    data = yaml.safe_load(config.read_text()) if config.is_file() else {}
    for entry in (data or {}).get("development", []):
        if entry.get("id") == network_id:
            return int(entry["cmd_settings"]["port"])
    raise LookupError(f"Brownie has no development network {network_id!r} in {config}: run `make setup`")


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/require_free_port.py NETWORK_ID", file=sys.stderr)
        return 2
    network_id = argv[0]
    try:
        port = network_port(network_id)
    except LookupError as exc:
        print(f"require_free_port: {exc}", file=sys.stderr)
        return 2
    if listening(port):
        print(
            f"require_free_port: port {port} of Brownie network {network_id} is already in use and Brownie "
            f"would attach to that node: stop it, or move the network with "
            f"`brownie networks modify {network_id} port=N`",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
