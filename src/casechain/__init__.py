"""casechain: one shared, auditable record per criminal case, from FIR to court."""

__version__ = "0.1.0"
