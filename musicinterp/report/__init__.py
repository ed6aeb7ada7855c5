"""The offline HTML report: figures, audio, tables and notes in one self-contained file (DESIGN.md section 9)."""

from .audio import Audio
from .build import build_report
from .errors import ReportError, ReportItemTypeError
from .provenance import Provenance
from .report import Report

__all__ = ["Report", "Audio", "Provenance", "build_report", "ReportError", "ReportItemTypeError"]
