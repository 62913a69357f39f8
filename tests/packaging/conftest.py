"""Packaging tests: the built wheel in a fresh virtual environment, against a real Anvil node."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests" / "keeper"):  # the keeper tests' devnet helpers
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
