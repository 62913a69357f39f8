"""`brownie run` for a checkout at any path.

Brownie imports a script under a module name made of every folder of its absolute path:
`/home/me/work.v2/liqengine/scripts/deploy.py` becomes `home.me.work.v2.liqengine.scripts.deploy`,
which Python cannot import because of the dot in `work.v2`. This runs a project script the way
`brownie run` does (the project compiled and loaded with its brownie-config.yaml, the network
connected, a node Brownie launched stopped at the end), but imports the script under its name inside
the project (`scripts.deploy`, `bench.gas`), which works wherever the checkout lives.

    python scripts/brownie_script.py bench/gas.py [--network NAME] [--function main]
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def module_name(script: Path) -> str:
    """`bench/gas.py` (relative to the project, or absolute inside it) -> `bench.gas`."""
    path = script if script.is_absolute() else (Path.cwd() / script)
    try:
        relative = path.resolve().relative_to(ROOT)
    except ValueError:
        raise SystemExit(f"brownie_script: {script} is not inside the project {ROOT}") from None
    if relative.suffix != ".py" or not path.is_file():
        raise SystemExit(f"brownie_script: {script} is not a Python file of the project")
    return ".".join(relative.with_suffix("").parts)


def run_script(script: Path, network_name: str | None = None, function: str = "main") -> Any:
    """Loads the project, connects to `network_name` (Brownie's default network when None), calls
    `function` of `script` and disconnects, stopping a node that Brownie launched."""
    name = module_name(script)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from brownie import network, project
    from brownie._config import CONFIG

    CONFIG.argv["cli"] = "run"
    active = project.load(ROOT)
    active.load_config()
    network.connect(network_name)
    # As `brownie run` does: the contract containers importable as `from brownie import LendingPool`.
    active._add_to_main_namespace()
    try:
        module = importlib.import_module(name)
        return getattr(module, function)()
    finally:
        active._remove_from_main_namespace()
        if network.is_connected():
            network.disconnect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("script", type=Path, help="a Python file of the project, e.g. bench/gas.py")
    parser.add_argument("--network", help="a Brownie network id (default: Brownie's default, development)")
    parser.add_argument("--function", default="main", help="the function to call (default main)")
    args = parser.parse_args(argv)
    run_script(args.script, args.network, args.function)
    return 0


if __name__ == "__main__":
    sys.exit(main())
