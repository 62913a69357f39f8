"""The deploy script as its users run it: `brownie run scripts/deploy.py [--network NAME]` in a child
process, against real nodes, with Brownie's user configuration in a temporary HOME so the tests
neither read nor change the developer's ~/.brownie and never use the fixed ports 8545 and 8546."""

from __future__ import annotations

import os
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

    def env(self, **overrides: str) -> dict[str, str]:
        path = os.pathsep.join([str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent)])
        env = {**os.environ, "HOME": str(self.home), "PATH": path + os.pathsep + os.environ["PATH"]}
        env.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".solc"))
        # Empty values shadow whatever a developer's .env holds (python-dotenv does not override).
        env.update({"PRIVATE_KEY": "", "DEPLOY_PLAN": "", "DEPLOYMENTS_DIR": ""})
        env.update(overrides)
        return env

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["brownie", *args],
            cwd=ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=BROWNIE_TIMEOUT_SECONDS,
        )

    def deploy(self, *network_args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run("run", "scripts/deploy.py", *network_args, **env)


@pytest.fixture(scope="session")
def brownie_user(tmp_path_factory) -> BrownieUser:
    """Brownie's default networks, with `development` (Brownie's own Anvil) moved to a free port and
    the `ganache` network added by `make setup`'s own script, also on a free port."""
    user = BrownieUser(tmp_path_factory.mktemp("home"), free_port(), free_port())
    env = user.env(GANACHE_PORT=str(user.ganache_port))
    subprocess.run(["bash", str(ROOT / "tools" / "configure_brownie_networks.sh")], env=env, check=True)
    subprocess.run(
        ["brownie", "networks", "modify", "development", f"port={user.development_port}"],
        env=env,
        check=True,
        capture_output=True,
    )
    return user
