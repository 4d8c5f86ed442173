"""Sheets (CSV, UTF-8 with BOM optional, or XLSX) read into rows, and the activity sheet.

``table`` reads any sheet whose header row names its columns; ``parse`` / ``validate_rows``
are the activity sheet: the header names ``ActivityInput`` fields, the member is given by
``resident_id`` or ``member_id``. Row numbers are the sheet's own (header = row 1); blank rows
are skipped. The member roster sheet is ``roster``.
"""
import csv
import io
from datetime import datetime
from decimal import Decimal

from marshmallow import ValidationError

from services.members import resident_id as rid
from services.members.schemas import KIND_SPECIFIC, ActivityInput
from shared.errors import InvalidInput, flatten_messages
from shared.inputs import normalise_digits

MAX_ROWS = 5000
MEMBER_COLUMNS = ("resident_id", "member_id")
REQUIRED_COLUMNS = ("kind", "occurred_on")
COLUMNS = MEMBER_COLUMNS + REQUIRED_COLUMNS + KIND_SPECIFIC
ROW = "_row"


def _file_error(reason):
    return InvalidInput({"file": [reason]})


def _csv_rows(content):
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error("the CSV is not UTF-8 text; save it as \"CSV UTF-8\"") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows = []
    try:
        for number, cells in enumerate(reader, 1):
            cells = [c.strip() for c in cells]
            if not _blank(cells):
                rows.append((number, cells))
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error as error:
        raise _file_error(f"unreadable CSV near line {reader.line_num}: {error}") from None
    return rows


def _blank(cells):
    return all(c in (None, "") for c in cells)


def _cell(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return value.strip()
    return value


def _xlsx_rows(content):
    from openpyxl import load_workbook  # on the first sheet: openpyxl is 175 modules
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            rows = []
            for number, cells in enumerate(book.worksheets[0].iter_rows(values_only=True), 1):
                cells = [_cell(c) for c in cells]
                if not _blank(cells):
                    rows.append((number, cells))
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows
        finally:
            book.close()
    except Exception as error:  # a damaged upload can fail anywhere inside openpyxl
        raise _file_error(f"unreadable XLSX file ({type(error).__name__})") from None


def format_of(filename: str) -> str:
    """"csv" or "xlsx" from the file name; ``InvalidInput({"file": [...]})`` for anything else."""
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".xls"):
        raise _file_error("old .xls workbooks are not supported; save the sheet as .xlsx or CSV UTF-8")
    raise _file_error("unknown format: upload a .csv or .xlsx file")


def parse(content: bytes, filename: str) -> list[dict]:
    """Raw rows of an activity sheet (see ``table``): the member by ``resident_id`` or
    ``member_id``, then ``kind`` and ``occurred_on``."""
    return table(content, filename, COLUMNS,
                 (MEMBER_COLUMNS,) + tuple((name,) for name in REQUIRED_COLUMNS))


def table(content: bytes, filename: str, columns, required) -> list[dict]:
    """Raw rows of a sheet whose header row names some of ``columns`` and at least one of each
    group in ``required``, as dicts (empty cells left out, ``"_row"``: the sheet row number,
    ``"_extra"``: values right of the last header column, for the caller to refuse).

    Raises ``InvalidInput({"file": [...]})`` for an unknown format, an unreadable file, a missing
    header, unknown or missing columns, no data rows or more than ``MAX_ROWS`` data rows."""
    rows = _csv_rows(content) if format_of(filename) == "csv" else _xlsx_rows(content)
    if not rows:
        raise _file_error("the sheet is empty")
    header_row, header = rows[0]
    names = [str(c).strip().lower() if c is not None else "" for c in header]
    while names and not names[-1]:
        names.pop()
    if header_row != 1 or "" in names or not set(names) & set(columns):
        raise _file_error("row 1 must be the header row naming the columns: " + ", ".join(columns))
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise _file_error(f"unknown column(s): {', '.join(unknown)}; allowed: {', '.join(columns)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _file_error(f"repeated column(s): {', '.join(repeated)}")
    missing = [" or ".join(group) for group in required if not set(group) & set(names)]
    if missing:
        raise _file_error(f"missing column(s): {', '.join(missing)}")
    data = rows[1:]
    if not data:
        raise _file_error("no data rows below the header")
    if len(data) > MAX_ROWS:
        raise _file_error(f"more than {MAX_ROWS} data rows; split the file")
    out = []
    for number, cells in data:
        extra = [c for c in cells[len(names):] if c not in (None, "")]
        row = {ROW: number}
        if extra:
            row["_extra"] = extra
        row.update({n: c for n, c in zip(names, cells) if c not in (None, "")})
        out.append(row)
    return out


def resident_id_text(value) -> str:
    """A resident ID cell as text, NFKC-normalised (full-width digits as typed by a Chinese
    input method become ASCII) and upper-cased."""
    return normalise_digits(str(value)).strip().upper()


def _same_id(given, member_id):
    try:
        return Decimal(str(given)) == member_id
    except ArithmeticError:
        return False


def validate_rows(rows: list[dict], resolve_member) -> list[dict]:
    """Validate every row with ``ActivityInput``; ``resolve_member(resident_id) -> member_id | None``.

    Returns the loaded activities in row order, or raises one ``InvalidInput`` whose keys are
    ``"row N.<field>"`` for every problem in every row (so nothing is stored)."""
    errors, loaded, resolved = {}, [], {}
    for index, raw in enumerate(rows):
        number = raw.get(ROW, index + 2)
        prefix = f"row {number}"
        row = {k: v for k, v in raw.items() if k not in (ROW, "_extra", "resident_id")}
        problems = {}
        if raw.get("_extra"):
            problems["_row"] = ["values found right of the last named column"]
        if raw.get("resident_id") is not None:
            number_text = resident_id_text(raw["resident_id"])
            found = rid.problems(number_text)
            if found and isinstance(raw["resident_id"], float):
                found.append("store resident IDs as text: a number cell loses digits")
            if found:
                problems["resident_id"] = found
            else:
                if number_text not in resolved:
                    resolved[number_text] = resolve_member(number_text)
                member_id = resolved[number_text]
                if member_id is None:
                    problems["resident_id"] = ["no member of this branch has this resident ID"]
                elif row.get("member_id") is not None and not _same_id(row["member_id"], member_id):
                    problems["member_id"] = ["does not match the member found by resident_id"]
                else:
                    row["member_id"] = member_id
        elif row.get("member_id") is None:
            problems["member_id"] = ["resident_id or member_id is required"]
        try:
            activity = ActivityInput().load(row)
        except ValidationError as error:
            for field, reasons in flatten_messages(error.messages).items():
                if field == "member_id" and ("resident_id" in problems or "member_id" in problems):
                    continue
                problems.setdefault(field, []).extend(reasons)
        if problems:
            errors.update({f"{prefix}.{field}": reasons for field, reasons in problems.items()})
        else:
            loaded.append(activity)
    if errors:
        raise InvalidInput(errors)
    return loaded


def template_csv() -> bytes:
    """An empty import sheet (UTF-8 with BOM so spreadsheet programs show Chinese text)."""
    columns = ("resident_id", "kind", "occurred_on") + KIND_SPECIFIC
    return ("\ufeff" + ",".join(columns) + "\r\n").encode("utf-8")
