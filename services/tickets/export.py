"""The measures table as a file: CSV (UTF-8 with a byte-order mark, so a spreadsheet opens the
Chinese names right) or XLSX (openpyxl). Pure: rows in, bytes out."""
from __future__ import annotations

import csv
import io

from services.tickets.measures import FIELDS

HEADER = ("scope", "scope_id", "name", "township_id") + FIELDS
FORMATS = ("csv", "xlsx")


def _cells(row: dict) -> list:
    return [row.get(column) for column in HEADER]


def to_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in _cells(row)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "measures"
    sheet.append([title])
    sheet.append(list(HEADER))
    numeric = set(FIELDS) - {"opened", "resolved", "rated"}
    for row in rows:
        cells = _cells(row)
        sheet.append([float(cell) if column in numeric and cell is not None else cell
                      for column, cell in zip(HEADER, cells)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(rows: list[dict], fmt: str, title: str) -> bytes:
    return to_csv(rows) if fmt == "csv" else to_xlsx(rows, title)
