"""The ABIs shipped in keeper/abi/ are those of the compiled contracts (tools/export_abis.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from export_abis import CONTRACTS, PACKAGE_ARTIFACTS, exported_abi  # noqa: E402


@pytest.mark.parametrize("name", [*CONTRACTS, *PACKAGE_ARTIFACTS])
def test_shipped_abi_matches_the_build(name):
    shipped = (ROOT / "keeper" / "abi" / f"{name}.json").read_text()
    assert shipped == exported_abi(name), f"run `python tools/export_abis.py`: {name} ABI drifted"
