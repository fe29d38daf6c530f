"""Archive-scale re-analysis on a Dask cluster (``planarmpi batch``)."""

from planarmpi.batch.runner import COLUMNS, BatchSummary, read_ledger, run_batch, write_summary
from planarmpi.batch.units import BatchOptions, analyze_unit, iter_units, summary_row

__all__ = ["COLUMNS", "BatchOptions", "BatchSummary", "analyze_unit", "iter_units",
           "read_ledger", "run_batch", "summary_row", "write_summary"]
