"""Fixtures for the stars unit tests: the default rulebook and a small rulebook spec to vary."""
import copy
from pathlib import Path

import pytest

from services.stars.rulebook import load_rulebook

DEFAULT_RULEBOOK = Path(__file__).resolve().parents[3] / "config" / "rulebooks" / "stars-2026.yaml"

_SMALL = {
    "version": "test-1",
    "effective_from": "2026-01-01",
    "subjects": {
        "member": {
            "star": "vanguard",
            "thresholds": {"month": [1, 2, 3, 4, 5], "quarter": [10, 20, 30, 40, 50],
                           "year": [40, 80, 120, 160, 200]},
            "items": {
                "volunteer": {"name": "志愿服务", "monthly_cap": 10},
                "meeting": {"name": "三会一课"},
                "pairing": {"name": "结对帮扶", "categories": ["rural"]},
                "absence": {"name": "缺席", "kind": "deduction", "monthly_cap": 4},
                "violation": {"name": "违纪", "kind": "veto"},
            },
            "model_star": {"period": "year", "min_level": 5, "max_deduction": 0,
                           "min_items": {"volunteer": {"points": 24}, "meeting": {"count": 3}}},
        },
        "branch": {
            "star": "fortress",
            "thresholds": {"month": [1, 2, 3, 4, 5], "quarter": [10, 20, 30, 40, 50],
                           "year": [40, 80, 120, 160, 200]},
            "items": {"life": {"name": "组织生活"},
                      "village_work": {"name": "村务", "branch_kinds": ["village"]}},
            "rollup": {"from": "member", "aggregate": "mean", "weight": 0.5},
        },
        "committee": {
            "star": "service",
            "thresholds": {"month": [1, 2, 3, 4, 5], "quarter": [10, 20, 30, 40, 50],
                           "year": [40, 80, 120, 160, 200]},
            "items": {"service": {"name": "代办服务"}},
            "rollup": {"from": "branch", "aggregate": "share_at_least", "min_level": 4,
                       "weight": {"month": 10, "quarter": 30, "year": 120}},
        },
    },
    "rules": [
        {"id": "vol", "source": "members", "type": "activity_recorded",
         "when": {"kind": "volunteer_service"}, "item": "volunteer",
         "points": {"per": "hours", "amount": 1, "quantum": 0.5, "rounding": "down"}},
        {"id": "meeting", "source": "members", "type": "activity_recorded",
         "when": {"kind": "meeting", "attended": True}, "item": "meeting", "points": {"fixed": 2}},
        {"id": "pair", "source": "members", "type": "activity_recorded",
         "when": {"kind": "pairing", "category": {"in": ["rural"]}}, "item": "pairing",
         "points": {"per": "households", "amount": 2}},
        {"id": "absent", "source": "members", "type": "activity_recorded",
         "when": {"kind": "meeting", "attended": False}, "item": "absence", "points": {"fixed": -3}},
        {"id": "violation", "source": "discipline", "type": "sanction_imposed", "item": "violation",
         "points": {"fixed": 0}},
        {"id": "life", "source": "members", "type": "activity_recorded",
         "when": {"kind": "meeting", "attended": True}, "item": "life", "points": {"fixed": 1}},
    ],
    "consequences": {"period": "year", "award_priority": {"min_level": 4},
                     "unqualified_review": {"max_level": 1}},
    "subsidy": {"period": "year", "base": "1000.00",
                "factors": {5: 1.2, 4: 1.1, 3: 1, 2: 0.9, 1: 0.8, 0: 0.7}},
}


@pytest.fixture(scope="session")
def default_book():
    return load_rulebook(DEFAULT_RULEBOOK)


@pytest.fixture
def spec():
    """A fresh, mutable copy of a small valid rulebook mapping."""
    return copy.deepcopy(_SMALL)


@pytest.fixture
def book(spec):
    return load_rulebook(spec)
