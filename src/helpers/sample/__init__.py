"""Deterministic, seeded synthetic sample surveys (合成データ) for six towns (BRIEF §3, §5).

``generate(town, out_dir)`` writes one town's raw files in its vendor's layout, as described by
its parameter file ``config/towns/<id>.yml``; ``generate_all()`` writes every sample town into
``data/raw/<id>/``. The command line is ``tsunagari sample [TOWN ...] [--out DIR]``.
"""

from helpers.sample.generator import generate, generate_all, sample_towns

__all__ = ["generate", "generate_all", "sample_towns"]
