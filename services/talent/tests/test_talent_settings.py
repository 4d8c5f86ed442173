"""The talent settings: the default file loads, the running config overrides it key by key, and
a bad value stops the service naming its key."""
from decimal import Decimal

import pytest

from services.talent import settings
from shared.config import load_yaml


def test_the_default_file_loads_with_every_rule():
    found = settings.load({})
    assert found.term_years == {"township_secretary": 5, "village_secretary": 5, "first_secretary": 2}
    assert found.city_sends_to == ("weak", "special")
    assert found.shortlist.min_star_level == 3 and found.shortlist.standings == ("full_member",)
    assert sum(found.assessment.weights.values()) == 1
    assert [grade for grade, _ in found.assessment.bands] == ["优秀", "良好", "一般", "较差"]
    assert found.today is None


def test_the_running_config_overrides_a_key_and_keeps_its_neighbours():
    found = settings.load({"talent": {"shortlist": {"max_age": 45}, "today": "2026-12-01"}})
    assert found.shortlist.max_age == 45 and found.shortlist.min_star_level == 3
    assert found.today.isoformat() == "2026-12-01"


@pytest.mark.parametrize("change, key", [
    ({"assessment": {"weights": {"service_star": 0.5, "review_votes": 0.4,
                                 "rectification_on_time": 0.2}}}, "assessment.weights"),
    ({"assessment": {"bands": [{"grade": "良好", "min": 75}, {"grade": "优秀", "min": 90},
                               {"grade": "较差", "min": 0}]}}, "assessment.bands"),
    ({"shortlist": {"min_star_level": 6}}, "shortlist.min_star_level"),
    ({"shortlist": {"age_full_marks_at": 60}}, "shortlist.age_full_marks_at"),
    ({"shortlist": {"colour": "red"}}, "shortlist.colour"),
    ({"first_secretaries": {"city_sends_to": ["poor"]}}, "first_secretaries.city_sends_to.0"),
    ({"terms": {"years": {"township_secretary": 0}}}, "terms.years"),
])
def test_a_bad_value_is_refused_naming_its_key(change, key):
    with pytest.raises(ValueError) as refused:
        settings.from_mapping(settings.merged(load_yaml("talent.yaml"), change))
    assert str(refused.value).startswith(key)


def test_weights_read_from_yaml_floats_add_up_exactly():
    found = settings.load({"talent": {"assessment": {"weights": {
        "service_star": 0.3, "review_votes": 0.3, "rectification_on_time": 0.4}}}})
    assert found.assessment.weights["service_star"] == Decimal("0.3")
