"""Scale-out: the per-town work and the site's render shards on a Dask cluster (a local one with
two worker processes)."""

from __future__ import annotations

import pytest

from helpers.build import quarto
from helpers.build.pipeline import Options, build

FIND_QUARTO = quarto.find_quarto


@pytest.mark.slow
def test_towns_run_on_a_local_dask_cluster(
    build_layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    clusters = []

    def local_cluster(**kwargs: object) -> object:
        clusters.append(kwargs)
        return real_cluster(**kwargs)

    real_cluster = distributed.LocalCluster
    monkeypatch.setattr(distributed, "LocalCluster", local_cluster)
    submitted = []
    real_submit = distributed.Client.submit

    def submit(self: object, fn: object, *args: object, **kwargs: object) -> object:
        submitted.append(fn.__name__)
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "submit", submit)
    real_run = distributed.Client.run

    def run(self: object, fn: object, *args: object, **kwargs: object) -> object:
        submitted.append(fn.__name__)
        return real_run(self, fn, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "run", run)
    layout = build_layout(("iiyama", "suzaka", "tsuruoka"))
    monkeypatch.setattr(quarto, "find_quarto", FIND_QUARTO)  # the workers find it themselves
    summary = build(Options(dask=True, workers=2), layout)
    assert [(c["n_workers"], c["processes"]) for c in clusters] == [(2, True)]
    assert summary.failed == {}  # 3 towns on 2 workers: a reused kernel had its namespace reset
    assert sorted(summary.towns) == ["iiyama", "suzaka", "tsuruoka"]
    assert summary.compare.startswith("built")
    for t in summary.towns:
        assert (layout.towns_dir / t / "results.json").exists()
    assert "towns/suzaka.html" in (layout.build / "site" / "index.qmd").read_text(encoding="utf-8")
    if FIND_QUARTO() is not None:
        assert summary.site.startswith("rendered every page in 2 shards"), summary.site
        assert submitted.count("render_shard") == 2  # on the cluster's workers
        assert (layout.site / "towns" / "suzaka.html").exists()
    # three towns and the comparison, then the workers' kernels are shut down (before the site
    # is rendered on the workers)
    assert submitted[:5] == ["run_job"] * 4 + ["drop_kernel"]
    assert set(submitted[5:]) <= {"render_shard"}
