"""The scripts as their users run them: `python scripts/deploy.py [--network NAME | --rpc-url URL]`
(and `brownie run scripts/deploy.py`), `python scripts/devnet.py`, `make test-contracts` and the
README's Brownie example, in child processes against real nodes, with Brownie's user configuration
in a temporary HOME so the tests neither read nor change the developer's ~/.brownie and never use
the fixed ports 8545, 8546 and 8555."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.devnode import free_port  # noqa: E402

BROWNIE_TIMEOUT_SECONDS = 240


@dataclass(frozen=True)
class BrownieUser:
    """A Brownie installation as a user has it: networks configured in `home`."""

    home: Path
    development_port: int
    ganache_port: int
    liqengine_dev_port: int

    def env(self, **overrides: str) -> dict[str, str]:
        path = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent)])
        env = {**os.environ, "HOME": str(self.home), "PATH": path + os.pathsep + os.environ["PATH"]}
        env.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solc"))
        # Empty values shadow whatever a developer's .env holds (python-dotenv does not override).
        env.update({"PRIVATE_KEY": "", "DEPLOYER_PRIVATE_KEY": "", "DEPLOY_PLAN": "", "DEPLOYMENTS_DIR": ""})
        env.update(overrides)
        return env

    def command(self, argv: list[str], cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=cwd,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=BROWNIE_TIMEOUT_SECONDS,
        )

    def run(self, *args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
        """`brownie ARGS...`."""
        return self.command(["brownie", *args], cwd, **env)

    def deploy(self, *args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
        """`python scripts/deploy.py ARGS...`, the form that works wherever the checkout lives."""
        return self.command([sys.executable, "scripts/deploy.py", *args], cwd, **env)

    def brownie_run_deploy(
        self, *args: str, cwd: Path = ROOT, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """`brownie run scripts/deploy.py ARGS...`."""
        return self.run("run", "scripts/deploy.py", *args, cwd=cwd, **env)


@pytest.fixture(scope="session")
def brownie_user(tmp_path_factory) -> BrownieUser:
    """Brownie's default networks, with `development` (Brownie's own Anvil) moved to a free port and
    the `liqengine-dev` and `ganache` networks added by `make setup`'s own script, also on free ports."""
    user = BrownieUser(tmp_path_factory.mktemp("home"), free_port(), free_port(), free_port())
    env = user.env(GANACHE_PORT=str(user.ganache_port), LIQENGINE_DEV_PORT=str(user.liqengine_dev_port))
    subprocess.run(["bash", str(ROOT / "tools" / "configure_brownie_networks.sh")], env=env, check=True)
    subprocess.run(
        ["brownie", "networks", "modify", "development", f"port={user.development_port}"],
        env=env,
        check=True,
        capture_output=True,
    )
    return user


@pytest.fixture
def copy_project():
    """Copies the parts of the project the deploy script needs (sources, Brownie's build, scripts,
    keeper) to a folder, with node_modules linked: the same project at another path."""
    return _copy_project


def _copy_project(destination: Path) -> Path:
    destination.mkdir(parents=True)
    shutil.copy2(ROOT / "brownie-config.yaml", destination)
    for folder in ("contracts", "scripts", "keeper"):
        shutil.copytree(ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("contracts", "interfaces"):
        shutil.copytree(ROOT / "build" / folder, destination / "build" / folder)
    (destination / "tests" / "contracts").mkdir(parents=True)
    (destination / "node_modules").symlink_to(ROOT / "node_modules")
    return destination
