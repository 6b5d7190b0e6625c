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
        # the pages, then the comparison's page once it has run
        assert summary.site.startswith("rendered every page in 2 shards"), summary.site
        assert submitted.count("render_shard") == 2  # on the cluster's workers
        assert (layout.site / "towns" / "suzaka.html").exists()
    # three towns, then the comparison while the other pages render; the workers' kernels are
    # shut down once it has run (before its page is rendered)
    assert submitted[:3] == ["run_job"] * 3 and submitted.count("run_job") == 4
    assert submitted.index("drop_kernel") > len(submitted) - 1 - submitted[::-1].index("run_job")
    if FIND_QUARTO() is not None:
        assert submitted[-1] == "render_shard"  # the comparison's page
    assert set(submitted) <= {"run_job", "drop_kernel", "render_shard"}
