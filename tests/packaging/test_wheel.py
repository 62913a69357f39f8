"""`pip install .` gives a working keeper: the wheel carries the ABIs and the alerting rules, building
it leaves Brownie's build/ folder alone, and the installed `liqkeeper` (not the checkout's keeper/)
prints its version, explains itself and scans a devnet.

The wheel is built from a copy of the package's sources as a fresh clone has them (no egg-info: a
stale SOURCES.txt would smuggle the ABIs in) beside a Brownie build/ folder.

How the wheel is installed, offline and in seconds: a fresh virtual environment is created without
pip (`python -m venv --without-pip`), the project's pip installs the wheel into it with `--no-deps`
(`pip --python <venv python>`), and a .pth file appends the project venv's site-packages to its path,
so the dependencies (web3, eth-account, ...) are the project's, already installed, and nothing is
downloaded but the build backend. The checkout's editable install stays inactive there: Python runs
the .pth files of its own site-packages only, not of a folder a .pth adds, and the venv's own
site-packages (with the wheel's keeper) comes first."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The keeper tests' devnet helpers. No conftest.py here: the keeper tests import theirs as the
# module `conftest`, which a conftest of this folder, collected later, would replace.
sys.path[:0] = [p for p in (str(ROOT), str(ROOT / "tests" / "keeper")) if p not in sys.path]

from devnet import AnvilNode, Devnet  # noqa: E402

from keeper import __version__  # noqa: E402
from keeper.contracts import ABI_NAMES  # noqa: E402

BUILD_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    build_before: frozenset[str]
    build_after: frozenset[str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def liqkeeper(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "liqkeeper"), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        )


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _source_copy(destination: Path) -> Path:
    """pyproject.toml, README.md, LICENSE and keeper/ as committed, and a Brownie build/ folder."""
    destination.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, destination)
    shutil.copytree(ROOT / "keeper", destination / "keeper", ignore=shutil.ignore_patterns("__pycache__"))
    (destination / "build" / "contracts").mkdir(parents=True)
    (destination / "build" / "contracts" / "LendingPool.json").write_text("{}")
    return destination


def _build_folder(source: Path) -> frozenset[str]:
    return frozenset(str(p.relative_to(source)) for p in (source / "build").rglob("*"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    source = _source_copy(work / "src")
    before = _build_folder(source)
    _run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--quiet", "-w", str(work / "dist")],
        cwd=source,
    )
    after = _build_folder(source)
    (wheel,) = (work / "dist").glob("liqengine_keeper-*.whl")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    purelib = _run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    )
    Path(purelib.stdout.strip(), "project_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    _run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)]
    )  # fmt: skip
    return Installed(wheel, venv, before, after)


def test_the_wheel_carries_the_abis_and_the_alerting_rules(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())

    assert {f"keeper/abi/{name}.json" for name in ABI_NAMES} <= names
    assert "keeper/alerts/liqkeeper.rules.yml" in names


def test_building_the_wheel_leaves_brownies_build_folder_alone(installed):
    assert installed.build_after == installed.build_before


def test_the_installed_keeper_is_the_wheels_not_the_checkouts(installed, tmp_path):
    where = _run([str(installed.python), "-c", "import keeper; print(keeper.__file__)"], cwd=tmp_path)

    assert Path(where.stdout.strip()).is_relative_to(installed.venv)


def test_the_installed_command_prints_the_package_version_and_its_help(installed, tmp_path):
    metadata = _run(
        [str(installed.python), "-c", "import importlib.metadata as m; print(m.version('liqengine-keeper'))"]
    )
    version = installed.liqkeeper("--version", cwd=tmp_path)
    help_ = installed.liqkeeper("--help", cwd=tmp_path)

    assert metadata.stdout.strip() == __version__
    assert version.returncode == 0 and version.stdout.strip() == f"liqkeeper {__version__}"
    assert help_.returncode == 0
    assert all(command in help_.stdout for command in ("run", "scan", "liquidate", "status", "report"))


@pytest.fixture
def devnet(tmp_path):
    node = AnvilNode()
    node.start()
    try:
        yield Devnet.create(node, tmp_path / "deployments")
    finally:
        node.stop()


def test_the_installed_command_scans_a_devnet(installed, devnet, tmp_path):
    supplier = devnet.w3.eth.accounts[2]
    devnet.supply(supplier, "USDC", devnet.units("USDC", 100_000))
    alice = devnet.borrower(1, "WETH", 10, "USDC", hf=1.02, collateral_price=2000)
    devnet.set_price("WETH", 1900)

    result = installed.liqkeeper(
        "scan", "--once", "--rpc-url", devnet.w3.provider.endpoint_uri,
        "--deployment", str(devnet.deployment_path), "--db-path", str(tmp_path / "k.sqlite"),
        "--env-file", str(tmp_path / "none.env"),
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 liquidatable" in result.stdout
    assert alice in result.stdout
