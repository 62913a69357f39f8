"""`.env.example` explains every variable the keeper (keeper/config.py's ENV_FIELDS) and the deploy
script read, and nothing else; uncommented as it is, it changes no setting."""

from __future__ import annotations

import re
from pathlib import Path

from keeper.config import ENV_FIELDS, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_VARIABLES = {"DEPLOYER_PRIVATE_KEY", "DEPLOY_PLAN", "DEPLOYMENTS_DIR"}


def documented() -> dict[str, str]:
    """Variable -> the comment lines above it."""
    variables, comment = {}, []
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"# ([A-Z_]+)=.*", line)
        if match:
            variables[match.group(1)] = " ".join(comment)
        elif line.startswith("# ") and not line.startswith("# ----"):
            comment.append(line[2:])
        else:
            comment = []
    return variables


def test_every_variable_the_keeper_and_the_deploy_read_is_explained():
    variables = documented()

    assert set(variables) == set(ENV_FIELDS) | DEPLOY_VARIABLES
    assert all(len(text) > 20 for text in variables.values()), variables


def test_the_example_as_a_dotenv_file_changes_no_setting(tmp_path):
    assert load_settings({}, environ={}, dotenv_path=ROOT / ".env.example") == load_settings(
        {}, environ={}, dotenv_path=tmp_path / "absent"
    )
