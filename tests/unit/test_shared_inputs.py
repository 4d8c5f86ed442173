"""shared.inputs: the guards every service's RPC inputs go through."""
import math
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, validate

from shared import inputs
from shared.errors import InvalidInput


def refused(check, *args, **kwargs):
    with pytest.raises(InvalidInput) as caught:
        check(*args, **kwargs)
    return caught.value.errors


# -- text -----------------------------------------------------------------------------------------

def test_full_width_and_other_digits_become_ascii():
    assert inputs.normalise_digits("１３０９８３１９８００５１７０４３Ｘ") == "13098319800517043X"
    assert inputs.normalise_digits("１３８－１２３４") == "138-1234"
    assert inputs.normalise_digits("٢٠٢٦") == "2026"            # Arabic-Indic digits
    assert inputs.normalise_digits("王建国 2026") == "王建国 2026"


def test_control_characters_are_found_but_not_ordinary_text():
    assert inputs.control_characters("a\x00b\x07") == ["U+0000", "U+0007"]
    assert inputs.control_characters("\ud800") == ["U+D800"]
    assert inputs.control_characters("next\x85line") == ["U+0085"]
    assert inputs.control_characters("line\nbreak") == ["U+000A"]
    assert inputs.control_characters("line\nbreak\ttab", multiline=True) == []
    assert inputs.control_characters("党员😀 ＡＢ\u3000x") == []


def test_text_argument():
    assert inputs.text("  重复登记 ", "reason") == "重复登记"
    assert refused(inputs.text, "a\x00b", "reason") == {
        "reason": ["must not contain control characters (found U+0000)"]}
    assert list(refused(inputs.text, "   ", "reason")) == ["reason"]
    assert list(refused(inputs.text, "x" * 101, "operator", 100)) == ["operator"]
    assert list(refused(inputs.text, 5, "operator")) == ["operator"]
    assert inputs.optional_text(None, "note") is None and inputs.optional_text("  ", "note") is None
    assert inputs.text("１２３", "code", normalise=True) == "123"


def test_choice_and_flag():
    assert inputs.choice("active", "state", ("active", "left")) == "active"
    for wrong in ("x", ["active"], {"a": 1}, None, 1):
        assert list(refused(inputs.choice, wrong, "state", ("active", "left"))) == ["state"]
    assert inputs.flag(False, "early") is False
    for wrong in (0, 1, "true", None):
        assert list(refused(inputs.flag, wrong, "early")) == ["early"]


# -- numbers --------------------------------------------------------------------------------------

def test_ids_fit_a_bigint():
    assert inputs.positive_id(2 ** 63 - 1, "member_id") == 2 ** 63 - 1
    for wrong in (0, -1, 2 ** 63, 2 ** 70, True, 1.0, "1", None):
        assert list(refused(inputs.positive_id, wrong, "member_id")) == ["member_id"]


def test_whole_numbers_in_range():
    assert inputs.whole_number(0, "offset", 0) == 0
    assert list(refused(inputs.whole_number, -1, "offset", 0)) == ["offset"]
    assert list(refused(inputs.whole_number, 1001, "limit", 1, 1000)) == ["limit"]
    assert list(refused(inputs.whole_number, 2 ** 64, "offset", 0)) == ["offset"]


@pytest.mark.parametrize("value,problem", [
    (Decimal("12.34"), None), (Decimal("12.340000"), None), (Decimal("9999999999.99"), None),
    (Decimal("0"), None), (Decimal("-5.5"), None), (Decimal("1E+2"), None),
    (Decimal("12.345"), "at most 2 decimal places"),
    (Decimal("10000000000"), "at most 10 digits before the decimal point"),
    (Decimal("1E+999"), "at most 10 digits before the decimal point"),
    (Decimal("123456789012345678901234567890"), "at most 10 digits before the decimal point"),
    (Decimal("1E-999999"), "at most 2 decimal places"),
    (Decimal("NaN"), "must be a finite number"), (Decimal("Infinity"), "must be a finite number"),
    (Decimal("-sNaN"), "must be a finite number"),
])
def test_decimal_problem_fits_a_numeric_column_without_raising(value, problem):
    assert inputs.decimal_problem(value, 12, 2) == problem


@given(st.decimals(allow_nan=True, allow_infinity=True))
@settings(max_examples=300, derandomize=True, database=None)
def test_decimal_problem_never_raises_and_accepts_only_what_fits(value):
    problem = inputs.decimal_problem(value, 12, 2)
    if problem is None:
        assert value.is_finite() and abs(value) < Decimal("1E10")
        assert value == value.quantize(Decimal("0.01"))


class Money(Schema):
    amount = inputs.Decimal(12, 2, validate=validate.Range(min=0, min_inclusive=False))
    count = inputs.Integer(minimum=1, maximum=50)
    member_id = inputs.Id()
    on = inputs.Date()
    name = inputs.Text(max_length=5)
    code = inputs.Code(upper=True, max_length=20)
    note = inputs.Text(multiline=True, allow_none=True)


def errors(data):
    with pytest.raises(ValidationError) as caught:
        Money().load(data)
    return caught.value.messages


def test_schema_fields_accept_good_input_and_normalise_digits():
    loaded = Money().load({"amount": "１２.５", "count": "１２", "member_id": 7, "on": "２０２６－１１－２０",
                           "name": " 王建国 ", "code": "１３０ｘ", "note": "line\nbreak"})
    assert loaded == {"amount": Decimal("12.5"), "count": 12, "member_id": 7,
                      "on": date(2026, 11, 20), "name": "王建国", "code": "130X",
                      "note": "line\nbreak"}
    assert Money().load({"on": date(2026, 1, 1)}) == {"on": date(2026, 1, 1)}


@pytest.mark.parametrize("field,value", [
    ("amount", "1e999"), ("amount", "123456789012345678901234567890"), ("amount", "NaN"),
    ("amount", math.inf), ("amount", math.nan), ("amount", "0.001"), ("amount", Decimal("1E+30")),
    ("amount", "x" * 100), ("amount", 0),
    ("count", 2 ** 70), ("count", 2.5), ("count", math.inf), ("count", 0), ("count", "1" * 100),
    ("count", True),
    ("member_id", 2 ** 63), ("member_id", 0), ("member_id", -1),
    ("on", "2026-13-01"), ("on", "20261120"), ("on", 20261120), ("on", "2026-11-20\x00"),
    ("on", "x" * 100),
    ("name", "a\x00"), ("name", "abcdef"), ("name", "\x1b[31m"), ("name", 5),
    ("code", "a\x00"), ("note", "bell\x07"),
])
def test_schema_fields_refuse_naming_the_field(field, value):
    assert list(errors({field: value})) == [field]
