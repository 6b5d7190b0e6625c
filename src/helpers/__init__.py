"""tsunagari-reports: helpers for municipal loneliness and isolation survey reports."""

__version__ = "0.1.0"
