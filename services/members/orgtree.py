"""Rules of the organisation tree: city committee -> township/street committees -> branches."""
from collections import defaultdict

from shared.contracts.members import ORG_KINDS
from shared.errors import Conflict, InvalidInput

ROOT_KIND = "city_committee"
COMMITTEE_KINDS = ("township_committee", "street_committee")
BRANCH_CATEGORY = {
    "village_branch": "rural",
    "community_branch": "community",
    "institution_branch": "institution",
    "nonpublic_branch": "nonpublic",
}
ALLOWED_PARENTS = {
    "city_committee": (None,),
    "township_committee": ("city_committee",),
    "street_committee": ("city_committee",),
    "village_branch": COMMITTEE_KINDS,
    "community_branch": COMMITTEE_KINDS,
    "institution_branch": COMMITTEE_KINDS + ("city_committee",),
    "nonpublic_branch": COMMITTEE_KINDS + ("city_committee",),
}


def is_branch(kind: str) -> bool:
    return kind in BRANCH_CATEGORY


def category_of(branch_kind: str) -> str:
    """Member category (rural, community, institution, nonpublic) that follows from a branch kind."""
    try:
        return BRANCH_CATEGORY[branch_kind]
    except KeyError:
        raise InvalidInput({"kind": [f"{branch_kind!r} is not a branch kind; members belong to one of "
                                     f"{', '.join(BRANCH_CATEGORY)}"]}) from None


def check_parent(kind: str, parent_kind: str | None) -> None:
    """Refuse a unit of ``kind`` under a parent of ``parent_kind`` (None: no parent, i.e. the root).

    Only the city committee is a root; whether a root already exists is the caller's check."""
    if kind not in ORG_KINDS:
        raise InvalidInput({"kind": [f"must be one of {', '.join(ORG_KINDS)}"]})
    if parent_kind is not None and parent_kind not in ORG_KINDS:
        raise InvalidInput({"parent_id": [f"parent has unknown kind {parent_kind!r}"]})
    allowed = ALLOWED_PARENTS[kind]
    if parent_kind in allowed:
        return
    if kind == ROOT_KIND:
        reason = "the city committee is the root of the tree and cannot have a parent"
    elif parent_kind is None:
        reason = f"a {kind} needs a parent unit: one of {', '.join(allowed)}"
    else:
        reason = f"a {kind} cannot sit under a {parent_kind}; allowed parents: {', '.join(allowed)}"
    raise InvalidInput({"parent_id": [reason]})


def check_move(unit_id: int, new_parent_id: int | None, ancestors_of_new_parent: list[int]) -> None:
    """Refuse moving a unit under itself or under one of its own descendants."""
    if new_parent_id is None:
        return
    if new_parent_id == unit_id:
        raise InvalidInput({"parent_id": ["a unit cannot be its own parent"]})
    if unit_id in ancestors_of_new_parent:
        raise InvalidInput({"parent_id": [f"unit {new_parent_id} lies inside unit {unit_id}; "
                                          "moving there would create a cycle"]})


def check_dissolve(member_count: int, child_count: int) -> None:
    """Refuse dissolving a unit that still has members or child units."""
    reasons = []
    if member_count:
        reasons.append(f"transfer the {member_count} member{'s' if member_count != 1 else ''} first")
    if child_count:
        reasons.append(f"dissolve or move the {child_count} child unit{'s' if child_count != 1 else ''} "
                       "first")
    if reasons:
        raise Conflict("cannot dissolve this unit: " + "; ".join(reasons))


def subtree(units: list[dict], root_id: int) -> list[int]:
    """Ids of ``root_id`` and every unit below it, breadth first ([] if ``root_id`` is unknown)."""
    children = defaultdict(list)
    known = set()
    for unit in units:
        known.add(unit["id"])
        children[unit.get("parent_id")].append(unit["id"])
    if root_id not in known:
        return []
    found, seen, i = [root_id], {root_id}, 0
    while i < len(found):
        for child in children.get(found[i], ()):
            if child not in seen:
                seen.add(child)
                found.append(child)
        i += 1
    return found
