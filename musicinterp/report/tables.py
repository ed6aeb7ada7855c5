"""Tables in the report: a normalised (columns, rows) value, rendered as a sortable HTML table.

The raw values travel in a JSON block next to the table, so a reader (or a
script) gets the exact numbers, and the page's sort code compares those
numbers rather than the formatted text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..views.numbers import column_decimals, fmt
from .errors import ReportError
from .html import esc, json_script


@dataclass(frozen=True)
class Table:
    """Column names and rows of plain JSON values (numbers, strings, booleans, ``None``)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def to_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows": [list(r) for r in self.rows]}


def _plain(value: Any, where: str) -> Any:
    """A JSON-safe scalar: numpy scalars unwrapped, NaN/inf as ``None``, other objects as text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        raise ReportError(f"table cell {where} holds a {type(value).__name__}; cells must be scalars")
    return str(value)


def is_table(item: Any) -> bool:
    """Whether ``item`` is something :func:`to_table` accepts (a DataFrame or a non-empty list of dicts)."""
    if type(item).__name__ == "DataFrame" and hasattr(item, "columns"):
        return True
    return isinstance(item, (list, tuple)) and len(item) > 0 and all(isinstance(r, Mapping) for r in item)


def to_table(item: Any) -> Table:
    """A DataFrame or a list of dicts as a :class:`Table` (columns in first-seen order)."""
    if type(item).__name__ == "DataFrame" and hasattr(item, "columns"):
        columns = [str(c) for c in item.columns]
        if len(set(columns)) != len(columns):
            raise ReportError(f"table has duplicate column names: {columns}")
        records = item.to_dict(orient="split")["data"]
        rows = tuple(tuple(_plain(v, f"row {i}, column {columns[j]!r}") for j, v in enumerate(r))
                     for i, r in enumerate(records))
        return Table(tuple(columns), rows)
    if not is_table(item):
        raise ReportError("a table must be a pandas DataFrame or a non-empty list of dicts")
    rows_in: Sequence[Mapping[str, Any]] = item
    columns = list(dict.fromkeys(str(k) for r in rows_in for k in r))
    texts = [{str(k): v for k, v in r.items()} for r in rows_in]
    rows = tuple(tuple(_plain(r.get(c), f"row {i}, column {c!r}") for c in columns) for i, r in enumerate(texts))
    return Table(tuple(columns), rows)


def format_cell(value: Any, decimals: int | None = None) -> str:
    """One cell as text: floats with the column's ``decimals`` (else 4 significant digits)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return fmt(value, decimals) if decimals is not None else f"{value:.4g}"
    return str(value)


SHOWN_COLUMNS = 9  # a wider table shows its first columns; the rest fold into a "more" cell per row


def _cell(value: Any, decimals: int | None) -> str:
    kind = "num" if isinstance(value, (int, float)) and not isinstance(value, bool) else "txt"
    return f'<td class="{kind}">{esc(format_cell(value, decimals))}</td>'


def _folded(row: tuple[Any, ...], columns: tuple[str, ...], decimals: list[int | None], start: int) -> str:
    """The columns past ``start`` of one row as a closed ``<details>`` list."""
    items = "".join(f"<dt>{esc(c)}</dt><dd>{esc(format_cell(v, d))}</dd>"
                    for c, v, d in zip(columns[start:], row[start:], decimals[start:], strict=True))
    return f'<td class="more"><details><summary>{len(columns) - start} more</summary><dl>{items}</dl></details></td>'


def table_html(table: Table, element_id: str, shown: int = SHOWN_COLUMNS) -> str:
    """A sortable ``<table>`` (click a header) followed by its data as JSON.

    Numbers get one number of decimals per column (:func:`~.numbers.column_decimals`); past ``shown``
    columns the rest of each row folds into a "more" cell, so the table fits the page.
    """
    cols = table.columns
    decimals = [column_decimals(c, [r[j] for r in table.rows]) for j, c in enumerate(cols)]
    fold = len(cols) > shown + 1
    visible = shown if fold else len(cols)
    head = "".join(f'<th data-col="{j}" title="click to sort">{esc(c)}</th>' for j, c in enumerate(cols[:visible]))
    if fold:
        head += '<th class="more">other columns</th>'
    body = "\n".join(
        f'<tr data-row="{i}">' + "".join(_cell(v, d) for v, d in zip(row[:visible], decimals, strict=False))
        + (_folded(row, cols, decimals, visible) if fold else "") + "</tr>"
        for i, row in enumerate(table.rows))
    return (f'<div class="mi-table-wrap"><table class="mi-table" id="{esc(element_id)}" '
            f'data-json="{esc(element_id)}-data"><thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>'
            f"</table></div>\n{json_script(table.to_json(), element_id + '-data')}")
