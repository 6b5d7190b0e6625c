"""Batch build: clean every town, run the reports, render the Quarto website, audit it.

Modules: ``manifest`` (content hashes, incremental skips), ``runner`` (notebooks executed in
long-lived kernels, one per worker process or Dask worker), ``site`` (the Quarto project staged
from the executed notebooks), ``quarto`` (finding and running Quarto), ``audit`` (disclosure
checks) and ``pipeline`` (the whole build). Importing this package imports nothing heavy.
"""
