"""Two municipalities with one name (府中市 is in 東京都 and in 広島県) build side by side: towns
are keyed by id everywhere and labelled with their prefecture where names clash.

A throwaway project root (``TSUNAGARI_ROOT``) holds two synthetic towns (合成データ: copies of the
Tsukumi sample under new ids), the real notebooks and site sources; ``tsunagari build`` runs in
it as a user would."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import paths
from helpers.build import quarto

pytestmark = pytest.mark.slow
TOWNS = {"fuchu-tokyo": ("府中市", "東京都", "Fuchu"),
         "fuchu-hiroshima": ("府中市", "広島県", "Fuchu")}


def _project(root: Path) -> Path:
    shutil.copytree(paths.CONFIG, root / "config", ignore=shutil.ignore_patterns("*.yml"))
    for f in paths.CONFIG.glob("*.yml"):  # the codebook, the national figures
        shutil.copy(f, root / "config" / f.name)
    for name in ("notebooks", "site"):
        shutil.copytree(paths.ROOT / name, root / name)
    shutil.copy(paths.ROOT / "_quarto.yml", root / "_quarto.yml")
    template = (paths.TOWNS / "tsukumi.yml").read_text(encoding="utf-8")
    for town, (ja, prefecture, en) in TOWNS.items():
        text = re.sub(r"^id: .*$", f"id: {town}", template, flags=re.M)
        text = re.sub(r"^name: .*$", f"name: {{ja: {ja}, en: {en}}}", text, flags=re.M)
        text = re.sub(r"^prefecture: .*$", f"prefecture: {prefecture}", text, flags=re.M)
        text = text.replace("津久見市", ja)  # the survey title; the file names are kept below
        for kept in ("アンケート", "年齢別人口"):  # the raw files keep their names
            text = text.replace(f"{ja}_{kept}_合成データ.csv", f"津久見市_{kept}_合成データ.csv")
        (root / "config" / "towns" / f"{town}.yml").write_text(text, encoding="utf-8")
        shutil.copytree(paths.raw_dir("tsukumi"), root / "data" / "raw" / town)
    return root


def test_two_towns_with_one_name_build_side_by_side(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    env = {**os.environ, "TSUNAGARI_ROOT": str(root)}
    del env["TSUNAGARI_PROCESSED"]  # the project's own data/processed
    run = subprocess.run([sys.executable, "-c", "from helpers.cli import app; app()", "build"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    results = {t: json.loads((root / "build" / "towns" / t / "results.json").read_text("utf-8"))
               for t in TOWNS}
    assert {(r["town"], r["name_ja"], r["prefecture"]) for r in results.values()} == {
        (t, ja, pref) for t, (ja, pref, _) in TOWNS.items()}
    compare = (root / "build" / "compare.ipynb").read_text(encoding="utf-8")
    assert "duplicate entries" not in compare
    for label in ("府中市（東京都）", "府中市（広島県）"):
        assert label in compare  # the headline list, the tables and the chart legends
    if quarto.find_quarto() is None:
        pytest.skip("Quarto not found: the site was not rendered")
    site = root / "reports" / "site"
    index = (site / "index.html").read_text(encoding="utf-8")
    for town, (ja, pref, _) in TOWNS.items():
        assert f"towns/{town}.html" in index and f"{ja}（{pref}）" in index
        page = (site / "towns" / f"{town}.html").read_text(encoding="utf-8")
        assert f"<title>{ja}（{pref}）" in page
    for town, (ja, pref, _) in TOWNS.items():  # each in its prefecture's table, labelled
        row = re.search(rf"<tr><th scope=\"row\"><a href=\"towns/{town}\.html\">([^<]*)</a>",
                        index)
        assert row and row[1] == f"{ja}（{pref}）（合成データ）", row
    sections = re.findall(r'<section id="(pref-\d\d)" class="level3 prefecture">', index)
    assert sections == ["pref-13", "pref-34"]  # 東京都, then 広島県: in code order
    assert "audit" in run.stdout and "passed" in run.stdout
