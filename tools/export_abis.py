"""Copies the ABIs the keeper needs from Brownie's build artifacts into keeper/abi/.

The keeper ships these files so that it runs without Brownie or a compiler; the test
`tests/keeper/test_abi_files.py` fails when they drift from the compiled contracts.
Run: `python tools/export_abis.py` after `brownie compile`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ("LendingPool", "PriceOracle", "LiquidationLens", "MockPriceFeed", "MockERC20")


def exported_abi(name: str) -> str:
    artifact = json.loads((ROOT / "build" / "contracts" / f"{name}.json").read_text())
    return json.dumps(artifact["abi"], indent=1, sort_keys=True) + "\n"


def main() -> int:
    out = ROOT / "keeper" / "abi"
    out.mkdir(exist_ok=True)
    for name in CONTRACTS:
        (out / f"{name}.json").write_text(exported_abi(name))
    print(f"wrote {len(CONTRACTS)} ABIs to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
