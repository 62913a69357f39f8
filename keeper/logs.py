"""Structured logging: one line per event, `event key=value ...` (or JSON with --log-json)."""

from __future__ import annotations

import json
import logging
import sys
import time


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z {record.levelname.lower():7s} {record.getMessage()}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, _, rest = message.partition(" ")
        fields: dict[str, str] = {}
        for part in rest.split():
            key, sep, value = part.partition("=")
            if sep:
                fields[key] = value
        return json.dumps({"ts": record.created, "level": record.levelname.lower(), "event": event, **fields})


def configure(level: str = "info", as_json: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("web3", "urllib3", "websockets", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
