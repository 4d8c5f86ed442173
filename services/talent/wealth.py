"""Rural wealth-creation leaders (致富带头人): the industry each leads, cooperatives (合作社),
demonstration zones, households helped, online shops and their sales, and the county summary
of the figures the article gives. Functions of a session (no nameko)."""
from decimal import Decimal

from sqlalchemy import func, select

from services.talent import cadres, directory
from services.talent.models import (Cooperative, DemonstrationZone, OnlineShop, ShopSales,
                                    WealthLeader)
from services.talent.plain import plain
from shared.errors import Conflict, NotFound


def leader(session, cadre_id, field="leader_id") -> WealthLeader:
    found = session.get(WealthLeader, cadre_id)
    if found is None:
        raise NotFound(f"{field} {cadre_id}: not a registered wealth-creation leader")
    return found


def register_leader(session, data) -> dict:
    cadre = cadres.get(session, data["cadre_id"])
    village = directory.village(session, data["village_id"])
    if session.get(WealthLeader, cadre.id) is not None:
        raise Conflict(f"cadre {cadre.id} is a wealth-creation leader already")
    row = WealthLeader(cadre_id=cadre.id, village_id=village.id, township_id=village.township_id,
                       industry=data["industry"], households_helped=data["households_helped"],
                       since=data["since"])
    session.add(row)
    session.flush()
    return leader_dict(row, cadre.name)


def set_households(session, data) -> dict:
    row = leader(session, data["cadre_id"], "cadre_id")
    row.households_helped = data["households_helped"]
    session.flush()
    return leader_dict(row, cadres.get(session, row.cadre_id).name)


def leader_dict(row: WealthLeader, name) -> dict:
    return plain({"cadre_id": row.cadre_id, "name": name, "village_id": row.village_id,
                  "township_id": row.township_id, "industry": row.industry,
                  "households_helped": row.households_helped, "since": row.since})


def add_cooperative(session, data) -> dict:
    village = directory.village(session, data["village_id"])
    if data["leader_id"] is not None:
        leader(session, data["leader_id"])
    if session.scalar(select(Cooperative.id).where(Cooperative.name == data["name"])):
        raise Conflict(f"a cooperative is named {data['name']} already")
    row = Cooperative(**data, township_id=village.township_id)
    session.add(row)
    session.flush()
    return plain({"id": row.id, "name": row.name, "industry": row.industry,
                  "village_id": row.village_id, "township_id": row.township_id,
                  "leader_id": row.leader_id, "member_households": row.member_households,
                  "founded_on": row.founded_on})


def add_zone(session, data) -> dict:
    found = leader(session, data["leader_id"])
    if session.scalar(select(DemonstrationZone.id).where(DemonstrationZone.name == data["name"])):
        raise Conflict(f"a demonstration zone is named {data['name']} already")
    row = DemonstrationZone(**data, township_id=found.township_id)
    session.add(row)
    session.flush()
    return plain({"id": row.id, "name": row.name, "industry": row.industry,
                  "township_id": row.township_id, "leader_id": row.leader_id,
                  "area_mu": row.area_mu})


def add_shop(session, data) -> dict:
    found = leader(session, data["leader_id"])
    row = OnlineShop(**data, township_id=found.township_id)
    session.add(row)
    session.flush()
    return {"id": row.id, "leader_id": row.leader_id, "township_id": row.township_id,
            "platform": row.platform, "name": row.name}


def record_sales(session, data) -> dict:
    shop = session.get(OnlineShop, data["shop_id"])
    if shop is None:
        raise NotFound(f"shop_id {data['shop_id']}: no such online shop")
    row = session.get(ShopSales, (shop.id, data["year"])) or ShopSales(shop_id=shop.id,
                                                                        year=data["year"])
    row.amount = data["amount"]
    session.add(row)
    session.flush()
    return plain({"shop_id": shop.id, "year": row.year, "amount": row.amount})


def summary(session, year: int, township_id=None, unit_id=None) -> dict:
    """The county's (or one township's) wealth-creation figures: leaders, industries,
    households helped, cooperatives, demonstration zones, online shops and their sales in
    ``year``, with the same figures per township. ``unit_id`` narrows them to that unit and the
    units under it (``in_units``): a village's leaders and cooperatives, and the zones and shops
    its leaders run."""
    per_township = {}
    units = None if unit_id is None else directory.subtree(session, unit_id)

    def add(rows, *names):
        for row in rows:
            line = per_township.setdefault(row[0], _empty())
            for name, value in zip(names, row[1:]):
                line[name] = value or 0

    def grouped(*columns, model, where=()):
        query = select(model.township_id, *columns).group_by(model.township_id)
        for condition in where:
            query = query.where(condition)
        if township_id is not None:
            query = query.where(model.township_id == township_id)
        if units is not None:
            query = query.where(in_units(model, units))
        return session.execute(query).all()

    add(grouped(func.count(), func.sum(WealthLeader.households_helped), model=WealthLeader),
        "leaders", "households_helped")
    add(grouped(func.count(), func.sum(Cooperative.member_households), model=Cooperative),
        "cooperatives", "cooperative_households")
    add(grouped(func.count(), func.sum(DemonstrationZone.area_mu), model=DemonstrationZone),
        "demonstration_zones", "zone_area_mu")
    add(grouped(func.count(), model=OnlineShop), "online_shops")
    sales = select(OnlineShop.township_id, func.sum(ShopSales.amount)).join(
        ShopSales, ShopSales.shop_id == OnlineShop.id).where(ShopSales.year == year)
    if township_id is not None:
        sales = sales.where(OnlineShop.township_id == township_id)
    if units is not None:
        sales = sales.where(in_units(OnlineShop, units))
    add(session.execute(sales.group_by(OnlineShop.township_id)).all(), "sales")
    industries = select(WealthLeader.industry, func.count()).group_by(WealthLeader.industry)
    if township_id is not None:
        industries = industries.where(WealthLeader.township_id == township_id)
    if units is not None:
        industries = industries.where(in_units(WealthLeader, units))
    names = directory.names(session, per_township)
    county = _empty()
    for line in per_township.values():
        for key in county:
            county[key] += line[key]
    return plain({
        "year": year, "township_id": township_id, "unit_id": unit_id, **_shown(county),
        "industries": [{"industry": name, "leaders": count} for name, count in
                       sorted(session.execute(industries).all(), key=lambda r: (-r[1], r[0]))],
        "townships": [{"township_id": tid, "township": names.get(tid), **_shown(line)}
                      for tid, line in sorted(per_township.items())]})


def in_units(model, units):
    """The condition that a row of ``model`` lies in ``units``: a leader or a cooperative by its
    village, a demonstration zone or an online shop by its leader's village."""
    if model in (WealthLeader, Cooperative):
        return model.village_id.in_(units)
    return model.leader_id.in_(select(WealthLeader.cadre_id)
                               .where(WealthLeader.village_id.in_(units)))


def _empty() -> dict:
    return {"leaders": 0, "households_helped": 0, "cooperatives": 0, "cooperative_households": 0,
            "demonstration_zones": 0, "zone_area_mu": Decimal(0), "online_shops": 0,
            "sales": Decimal(0)}


def _shown(line) -> dict:
    return {**line, "zone_area_mu": Decimal(line["zone_area_mu"]).quantize(Decimal("0.1")),
            "sales": Decimal(line["sales"]).quantize(Decimal("0.01"))}
