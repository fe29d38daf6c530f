"""Quality control: checks that return findings before (and about) any analysis."""

from planarmpi.model.findings import Finding, overall_status
from planarmpi.qc.checks import check_series, check_study
from planarmpi.qc.limits import QCLimits

__all__ = ["Finding", "QCLimits", "check_series", "check_study", "overall_status"]
