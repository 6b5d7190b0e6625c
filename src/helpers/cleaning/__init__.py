"""Cleaning: a town's raw exports → the validated standard dataset in ``data/processed/<town>/``.

Stages: ``read`` (xlsx/CSV, encodings) → ``normalize`` (spelling variants) → ``mapping``
(codebook codes) → ``checks`` (duplicates, ranges, consistency) → ``helpers.derive`` →
``schema`` (pandera, from the codebook) → ``write`` (all or nothing).
"""

from helpers.cleaning.pipeline import CleanResult, check_file, clean_town, clean_towns

__all__ = ["CleanResult", "check_file", "clean_town", "clean_towns"]
