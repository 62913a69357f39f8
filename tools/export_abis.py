"""Copies the ABIs the keeper needs from Brownie's build artifacts (and, for Uniswap's QuoterV2, from
the npm package's artifact) into keeper/abi/.

The keeper ships these files so that it runs without Brownie or a compiler; the test
`tests/keeper/test_abi_files.py` fails when they drift from the compiled contracts.
Run: `python tools/export_abis.py` after `brownie compile`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ("LendingPool", "PriceOracle", "LiquidationLens", "MockPriceFeed", "MockERC20", "FlashLiquidator")
#: Uniswap V3 contracts the keeper calls, from the compiled artifacts the npm packages ship.
PACKAGE_ARTIFACTS = {
    "QuoterV2": "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
    "UniswapV3Pool": "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
}


def exported_abi(name: str) -> str:
    if name in PACKAGE_ARTIFACTS:
        path = ROOT / "node_modules" / PACKAGE_ARTIFACTS[name]
    else:
        path = ROOT / "build" / "contracts" / f"{name}.json"
    artifact = json.loads(path.read_text())
    return json.dumps(artifact["abi"], indent=1, sort_keys=True) + "\n"


def main() -> int:
    out = ROOT / "keeper" / "abi"
    out.mkdir(exist_ok=True)
    names = (*CONTRACTS, *PACKAGE_ARTIFACTS)
    for name in names:
        (out / f"{name}.json").write_text(exported_abi(name))
    print(f"wrote {len(names)} ABIs to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
