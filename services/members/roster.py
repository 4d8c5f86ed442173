"""The member roster sheet: a branch's members registered in bulk (``import_members``).

The header row names ``MemberInput`` fields except ``branch_id`` (the branch is the one the
sheet is uploaded to). Each row is checked as ``register_member`` checks one member (the
resident ID by GB 11643 and against the birth date and gender, the age on joining...); a
resident ID that appears on two rows, or that a registered member already has, is refused on
its row. ``validate_rows`` reports every problem of every row at once, keyed ``"row N.column"``,
so a sheet is stored whole or not at all.

Cells are taken as typed: text stays text (a name starting with ``=`` is stored as that text,
never evaluated), numbers in the text columns become their digits. The Chinese words people type
are accepted for gender (男/女), status (正式党员/预备党员), household plaque (是/否) and
education (本科...).
"""
from marshmallow import ValidationError

from services.members import resident_id as rid
from services.members import sheets
from services.members.schemas import MemberInput
from shared.errors import InvalidInput, flatten_messages

COLUMNS = ("name", "gender", "ethnicity", "birth_date", "resident_id", "phone", "education",
           "join_date", "status", "household_plaque")
REQUIRED = ("name", "gender", "ethnicity", "birth_date", "resident_id", "join_date", "status")
TEXT_COLUMNS = ("name", "ethnicity", "phone")
CODE_COLUMNS = ("resident_id", "phone")
WORDS = {
    "gender": {"男": "male", "女": "female"},
    "status": {"正式党员": "full", "正式": "full", "预备党员": "probationary", "预备": "probationary"},
    "household_plaque": {"是": True, "否": False},
    "education": {"小学": "primary", "初中": "junior_secondary", "高中": "senior_secondary",
                  "中专": "vocational", "职高": "vocational", "大专": "associate",
                  "本科": "bachelor", "大学本科": "bachelor", "硕士": "master",
                  "硕士研究生": "master", "博士": "doctorate", "博士研究生": "doctorate"},
}
NUMBER_CELL = "store resident IDs as text: a number cell loses digits"


def parse(content: bytes, filename: str) -> list[dict]:
    """Raw rows of a roster sheet (``sheets.table``); ``InvalidInput({"file": [...]})`` for a
    sheet that cannot be read as one (format, header, missing columns, more than
    ``sheets.MAX_ROWS`` rows)."""
    return sheets.table(content, filename, COLUMNS, tuple((name,) for name in REQUIRED))


def template_csv() -> bytes:
    """An empty roster sheet (UTF-8 with BOM so spreadsheet programs show Chinese text)."""
    return ("\ufeff" + ",".join(COLUMNS) + "\r\n").encode("utf-8")


def cell(column: str, value):
    """A cell as ``MemberInput`` takes it: text stripped (and a leading apostrophe, which
    spreadsheets use to keep digits as text, dropped from codes), Chinese words translated,
    whole numbers in text columns as their digits. Anything else is left for the schema."""
    if isinstance(value, str):
        value = value.strip()
        if column in CODE_COLUMNS and value.startswith("'"):
            value = value[1:].strip()
        return WORDS.get(column, {}).get(value, value)
    if column in TEXT_COLUMNS + ("resident_id",) and not isinstance(value, bool):
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and value.is_integer() and column != "resident_id":
            return str(int(value))
    return value


def resident_id_of(raw: dict) -> str | None:
    """The row's resident ID as it is stored and compared, when it is a valid one."""
    value = raw.get("resident_id")
    if value is None or isinstance(value, (float, bool)):
        return None
    value = cell("resident_id", value)
    if not isinstance(value, str):
        return None
    number = sheets.resident_id_text(value)
    return None if rid.problems(number) else number


def resident_ids(rows: list[dict]) -> list[str]:
    """The valid resident IDs the rows name (to ask which belong to registered members)."""
    return sorted({number for number in map(resident_id_of, rows) if number is not None})


def _rows_by_number(rows) -> dict[str, list]:
    found: dict[str, list] = {}
    for index, raw in enumerate(rows):
        number = resident_id_of(raw)
        if number is not None:
            found.setdefault(number, []).append(raw.get(sheets.ROW, index + 2))
    return found


def _load(raw: dict, branch_id: int, schema: MemberInput) -> tuple[dict | None, dict]:
    """(the member of one row, or None; its problems by column)."""
    problems = {}
    if raw.get("_extra"):
        problems["_row"] = ["values found right of the last named column"]
    data = {column: cell(column, raw[column]) for column in COLUMNS if column in raw}
    try:
        member = schema.load({**data, "branch_id": branch_id})
    except ValidationError as error:
        member = None
        for field, reasons in flatten_messages(error.messages).items():
            problems.setdefault(field, []).extend(reasons)
    if isinstance(raw.get("resident_id"), float):
        problems["resident_id"] = [NUMBER_CELL]
    return (None if problems else member), problems


def validate_rows(rows: list[dict], branch_id: int, registered: dict[str, int]) -> list[dict]:
    """Every row loaded with ``MemberInput`` for ``branch_id``, in row order; ``registered``:
    ``{resident_id: member_id}`` of the rows' resident IDs that members already have.

    Raises one ``InvalidInput`` keyed ``"row N.<column>"`` for every problem in every row
    (``"row N._row"`` for the row as a whole), so nothing is stored."""
    errors, loaded, schema = {}, [], MemberInput()
    same = _rows_by_number(rows)
    for index, raw in enumerate(rows):
        number = raw.get(sheets.ROW, index + 2)
        member, problems = _load(raw, branch_id, schema)
        resident = resident_id_of(raw)
        if resident is not None:
            others = [str(n) for n in same[resident] if n != number]
            if others:
                problems.setdefault("resident_id", []).append(
                    f"the same resident ID is on row(s) {', '.join(others)}")
            if resident in registered:
                problems.setdefault("resident_id", []).append(
                    f"already registered (member {registered[resident]})")
        if problems:
            errors.update({f"row {number}.{field}": reasons for field, reasons in problems.items()})
        else:
            loaded.append(member)
    if errors:
        raise InvalidInput(errors)
    return loaded
