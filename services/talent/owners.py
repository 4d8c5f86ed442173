"""Which organisation unit each object of the talent service belongs to: the ``owner`` methods
of its by-id routes (``shared.scope``) ask here. Functions of a session (no nameko); each answers
a unit id, or None when there is no such object (the RPC then answers NotFound itself).

An object that exists but belongs to no unit (a training base of the county, a profile the
county keeps) is refused with ``Forbidden``: ``shared.scope`` consults owners for callers bound
to one unit only, and such an object lies outside every one of their scopes."""
from datetime import date

from sqlalchemy import select

from services.talent import cadres, profiles
from services.talent.models import (Cadre, DutyItem, Member, OnlineShop, PartyProject, Post,
                                    ReserveEntry, TrainingBase, TrainingSession, WealthLeader)
from shared.errors import Forbidden


def county_kept(what: str):
    raise Forbidden(f"{what} belongs to no organisation unit (the county keeps it): only a "
                    f"county-wide role may act on it")


def cadre_unit(session, cadre_id, today: date) -> int | None:
    """The unit of a cadre's profile (``profiles.home_unit``)."""
    cadre = session.get(Cadre, cadre_id)
    if cadre is None:
        return None
    held = cadres.open_post(session, cadre.id, today)
    last = session.scalars(select(Post).where(Post.cadre_id == cadre.id)
                           .order_by(Post.started_on.desc(), Post.id.desc())).first()
    reserve = session.get(ReserveEntry, cadre.id)
    leader = session.get(WealthLeader, cadre.id)
    member = session.get(Member, cadre.member_id) if cadre.member_id is not None else None
    unit_id = profiles.home_unit(
        held_post=held and held.unit_id, registered=cadre.unit_id,
        reserve=reserve and (reserve.village_id or reserve.township_id),
        wealth_leader=leader and leader.village_id, last_post=last and last.unit_id,
        member_branch=member and member.branch_id)
    return county_kept(f"cadre {cadre.id}") if unit_id is None else unit_id


def post_unit(session, post_id) -> int | None:
    """The unit of the post (a village, or the township of a township secretary)."""
    post = session.get(Post, post_id)
    return post and post.unit_id


def reserve_unit(session, cadre_id) -> int | None:
    """The township whose reserve pool holds the cadre (as ``add_reserve_candidate`` names it)."""
    entry = session.get(ReserveEntry, cadre_id)
    return entry and entry.township_id


def duty_item_unit(session, item_id) -> int | None:
    """The township of the secretary whose list holds the item."""
    item = session.get(DutyItem, item_id)
    return item and item.township_id


def project_unit(session, project_id) -> int | None:
    project = session.get(PartyProject, project_id)
    return project and project.township_id


def base_unit(session, base_id) -> int | None:
    """The township of a training base; a county base is the county's."""
    base = session.get(TrainingBase, base_id)
    if base is None:
        return None
    return county_kept(f"training base {base.id}") if base.township_id is None \
        else base.township_id


def training_session_unit(session, session_id) -> int | None:
    """A session is its training base's (``base_unit``)."""
    held = session.get(TrainingSession, session_id)
    return held and base_unit(session, held.base_id)


def leader_village(session, cadre_id) -> int | None:
    """The village a wealth-creation leader is registered in."""
    leader = session.get(WealthLeader, cadre_id)
    return leader and leader.village_id


def leader_township(session, cadre_id) -> int | None:
    """The township of a wealth-creation leader: where their zones and shops are kept."""
    leader = session.get(WealthLeader, cadre_id)
    return leader and leader.township_id


def shop_unit(session, shop_id) -> int | None:
    shop = session.get(OnlineShop, shop_id)
    return shop and shop.township_id
