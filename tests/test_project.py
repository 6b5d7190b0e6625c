"""Project rules: environment files agree, notebooks are stripped, real data stays out of git."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib

import pytest
import yaml

from helpers import paths

CONDA_ONLY = {"python", "pip", "quarto"}  # Python itself and the site renderer


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}

    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed: set[str] = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            listed |= {_name(r) for r in dep["pip"]}
        else:
            listed.add(_name(dep))
    assert "conda-forge" in env["channels"]
    assert listed - CONDA_ONLY == wanted
    assert "quarto" in listed


@pytest.mark.parametrize("notebook", sorted(paths.NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in cells)


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("data/raw/iiyama/survey_2024.xlsx", True),  # a real export: never committed
        ("data/raw/newtown/回答データ.csv", True),
        ("data/raw/iiyama/飯山市_郵送回答_合成データ.xlsx", False),  # synthetic sample
        ("data/processed/iiyama/survey.parquet", True),
        ("reports/site/index.html", True),
        ("build/towns/iiyama.ipynb", True),
    ],
)
def test_gitignore_keeps_real_and_derived_data_out(path, ignored):
    result = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=paths.ROOT)
    assert (result.returncode == 0) is ignored
