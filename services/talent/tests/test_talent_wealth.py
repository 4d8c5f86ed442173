"""Wealth-creation leaders, cooperatives, demonstration zones, online shops and the county
summary on a real session (PostgreSQL and SQLite)."""
from datetime import date
from decimal import Decimal

import pytest

from services.talent import wealth
from shared.errors import Conflict, NotFound
from talent_helpers import OTHER_TOWN, TOWN, person, store  # noqa: F401


def leader(store, village_id, industry, households, **profile):
    cadre = person(store, **profile)
    with store.transaction() as session:
        return wealth.register_leader(session, {"cadre_id": cadre["id"], "village_id": village_id,
                                                "industry": industry,
                                                "households_helped": households,
                                                "since": date(2015, 4, 1)})


def test_the_summary_adds_up_the_countys_figures_and_each_townships(store):
    jujube = leader(store, 12, "冬枣种植", 35, member_id=101)
    fish = leader(store, 31, "水产养殖", 20, name="马海")
    leader(store, 13, "冬枣种植", 5, name="赵敏")
    with store.transaction() as session:
        with pytest.raises(Conflict, match="already"):
            wealth.register_leader(session, {"cadre_id": jujube["cadre_id"], "village_id": 12,
                                             "industry": "x", "households_helped": 1,
                                             "since": date(2020, 1, 1)})
        wealth.add_cooperative(session, {"name": "前辛庄冬枣专业合作社", "industry": "冬枣种植",
                                         "village_id": 12, "leader_id": jujube["cadre_id"],
                                         "member_households": 68, "founded_on": date(2012, 3, 15)})
        wealth.add_cooperative(session, {"name": "歧口渔业合作社", "industry": "水产养殖",
                                         "village_id": 31, "leader_id": None,
                                         "member_households": 40, "founded_on": date(2016, 5, 1)})
        wealth.add_zone(session, {"name": "旧城镇冬枣示范园", "industry": "冬枣种植",
                                  "leader_id": jujube["cadre_id"], "area_mu": Decimal("320.5")})
        shop = wealth.add_shop(session, {"leader_id": jujube["cadre_id"], "platform": "淘宝",
                                         "name": "前辛庄冬枣旗舰店"})
        other = wealth.add_shop(session, {"leader_id": fish["cadre_id"], "platform": "抖音小店",
                                          "name": "歧口海鲜"})
        wealth.record_sales(session, {"shop_id": shop["id"], "year": 2026, "amount": Decimal("1000")})
        wealth.record_sales(session, {"shop_id": shop["id"], "year": 2026,
                                      "amount": Decimal("186000.50")})       # corrected
        wealth.record_sales(session, {"shop_id": other["id"], "year": 2025, "amount": Decimal(9)})
        wealth.set_households(session, {"cadre_id": fish["cadre_id"], "households_helped": 25})
        with pytest.raises(NotFound):
            wealth.add_shop(session, {"leader_id": 999, "platform": "x", "name": "y"})
        with pytest.raises(Conflict):
            wealth.add_cooperative(session, {"name": "歧口渔业合作社", "industry": "水产养殖",
                                             "village_id": 31, "leader_id": None,
                                             "member_households": 1, "founded_on": date(2016, 5, 1)})
    with store.reading() as session:
        county = wealth.summary(session, 2026)
        town = wealth.summary(session, 2026, TOWN)
    assert (county["leaders"], county["households_helped"], county["cooperatives"],
            county["cooperative_households"], county["demonstration_zones"], county["online_shops"],
            county["sales"], county["zone_area_mu"]) == (3, 65, 2, 108, 1, 2, "186000.50", "320.5")
    assert county["industries"] == [{"industry": "冬枣种植", "leaders": 2},
                                    {"industry": "水产养殖", "leaders": 1}]
    by_town = {t["township_id"]: t for t in county["townships"]}
    assert (by_town[OTHER_TOWN]["leaders"], by_town[OTHER_TOWN]["sales"]) == (1, "0.00")
    assert (town["leaders"], town["sales"], len(town["townships"])) == (2, "186000.50", 1)
