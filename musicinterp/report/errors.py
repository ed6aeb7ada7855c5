"""Errors the report raises; each names the argument, item or file at fault."""

from __future__ import annotations

from ..errors import MusicInterpError


class ReportError(ValueError, MusicInterpError):
    """A report item, argument or input folder cannot be used."""


class ReportItemTypeError(ReportError, TypeError):
    """``Report.add`` was given an item of a type it cannot show."""
