"""Lists as spreadsheets: any list answer of the API as CSV or XLSX (``?format=csv|xlsx``).

Cells a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) are written with a leading apostrophe, so an exported name like
``=HYPERLINK(...)`` stays text (OWASP "CSV injection"). Nested values are written as JSON."""
import csv
import io
import json

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
RISKY_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(RISKY_START):
        return "'" + value
    return value


def columns(items: list[dict]) -> list[str]:
    seen = {}
    for item in items:
        for key in item:
            seen.setdefault(key, None)
    return list(seen)


def to_csv(items: list[dict]) -> bytes:
    heads = columns(items)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(heads)
    for item in items:
        writer.writerow([safe_cell(item.get(head)) for head in heads])
    return ("\ufeff" + out.getvalue()).encode("utf-8")     # BOM: Excel reads UTF-8 Chinese


def to_xlsx(items: list[dict], title="export") -> bytes:
    heads = columns(items)
    from openpyxl import Workbook  # on the first sheet: openpyxl is 175 modules
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(heads)
    for item in items:
        sheet.append([safe_cell(item.get(head)) for head in heads])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(items, fmt, title) -> bytes:
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("only a list of records can be exported")
    return to_csv(items) if fmt == "csv" else to_xlsx(items, title)
