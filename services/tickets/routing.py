"""Where a ticket goes: the level of a service point from its organisation unit, the level a
matter is settled at, and the level above. Pure."""
from __future__ import annotations

from services.tickets.lifecycle import LEVELS

LEVEL_OF_UNIT_KIND = {
    "city_committee": "city",                 # 市级平台
    "township_committee": "township",         # 乡镇便民服务中心
    "street_committee": "township",           # 街道便民服务中心
    "village_branch": "village",              # 村便民服务站
    "community_branch": "village",            # 社区便民服务站
}


def level_of_unit(kind: str) -> str | None:
    """The service level an organisation unit of ``kind`` can host (None: it hosts none)."""
    return LEVEL_OF_UNIT_KIND.get(kind)


def rank(level: str) -> int:
    return LEVELS.index(level)


def settling_level(opened_at_level: str, matter_level: str) -> str:
    """The lowest level that can settle the matter, never below where the ticket was opened
    (a matter brought to a township centre is not sent down to a village)."""
    return LEVELS[max(rank(opened_at_level), rank(matter_level))]

