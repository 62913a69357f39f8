"""The table the deploy script prints: one line per listed reserve, every rate and factor in percent."""

from __future__ import annotations

from collections.abc import Mapping

from keeper.deployment import AssetInfo, Deployment

#: The reserve configuration field of the borrow factor (`maxLtv`); a deployment file written before
#: the pool had one does not record it, and its column then shows "n/a".
BORROW_FACTOR_FIELD = "max_ltv"

HEADERS = (
    "symbol",
    "address",
    "decimals",
    "collateral factor",
    "borrow factor",
    "max bonus",
    "rate model (APR by utilisation)",
)
RIGHT_ALIGNED = {"decimals", "collateral factor", "borrow factor", "max bonus"}


def percent(bps: int) -> str:
    """BPS as a percentage with two decimals: 8000 -> "80.00%"."""
    return f"{bps / 100:.2f}%"


def rate_model(config: Mapping[str, int | bool]) -> str:
    """The kinked rate model as the APR at 0%, at the optimal and at 100% utilisation."""
    base = int(config["base_rate"])
    at_optimal = base + int(config["slope_below_optimal"])
    at_full = at_optimal + int(config["slope_above_optimal"])
    optimal = percent(int(config["optimal_utilization"]))
    return f"{percent(base)} -> {percent(at_optimal)} at {optimal} -> {percent(at_full)} at 100%"


def _row(asset: AssetInfo) -> tuple[str, ...]:
    config = asset.config
    borrow_factor = config.get(BORROW_FACTOR_FIELD)
    return (
        asset.symbol,
        asset.address,
        str(asset.decimals),
        percent(int(config["collateral_factor"])),
        "n/a" if borrow_factor is None else percent(int(borrow_factor)),
        percent(int(config["max_liquidation_bonus"]) - 10_000),
        rate_model(config),
    )


def listing_table(deployment: Deployment) -> str:
    """Every reserve of `deployment` in the order it was listed; the max bonus is what a liquidator
    receives above the repaid value (10500 BPS -> 5.00%)."""
    rows = [HEADERS, *(_row(asset) for asset in deployment.assets)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if header in RIGHT_ALIGNED else cell.ljust(width)
            for header, cell, width in zip(HEADERS, row, widths, strict=True)
        ]
        return "  ".join(cells).rstrip()

    return "\n".join(line(row) for row in rows)


def uniswap_table(deployment: Deployment) -> str:
    """The Uniswap V3 contracts and pools of `deployment` (flash liquidations swap through them), or ""."""
    uniswap = deployment.uniswap
    if uniswap is None:
        return ""
    origin = "deployed here" if uniswap.deployed else "existing"
    lines = [
        f"Uniswap V3 ({origin}): factory {uniswap.factory}, router {uniswap.router}, "
        f"quoter {uniswap.quoter}, positions {uniswap.position_manager}"
    ]
    for pool in uniswap.pools:
        lines.append(f"  {pool.token0}/{pool.token1:<5} fee {pool.fee / 1e4:.2f}%  {pool.address}")
    flash = deployment.flash_liquidator
    if flash is not None:
        lines.append(f"FlashLiquidator {flash.address} (owner {flash.owner})")
    return "\n".join(lines)
