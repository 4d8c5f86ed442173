"""The first secretary (第一书记) coverage report (pure): every village should have one.

Inputs are plain dicts: ``villages`` ({id, name, township_id, township}), the first secretary
posts held on the day (``posts``: {post_id, cadre_id, name, unit_id, sent_by, started_on,
ends_on}) and the designated statuses (``statuses``: {village_id: weak | special}; a village
without one is normal)."""
from datetime import date, timedelta

from services.talent import terms
from services.talent.plain import plain


def report(villages, posts, statuses, day: date, window_days: int, city_sends_to) -> dict:
    held = {post["unit_id"]: post for post in posts}
    horizon = day + timedelta(days=window_days)
    without, ending, mismatched = [], [], []
    for village in villages:
        status = statuses.get(village["id"], "normal")
        expected = terms.sender_of(status, city_sends_to)
        post = held.get(village["id"])
        if post is None:
            without.append({**_village(village), "status": status, "to_be_sent_by": expected})
            continue
        if post["ends_on"] <= horizon:
            days_left = (post["ends_on"] - day).days
            ending.append({**_post(post), **_village(village), "days_left": days_left,
                           "note": (f"term ends in {days_left} days" if days_left >= 0 else
                                    f"term ended {-days_left} days ago; still in post")})
        if post["sent_by"] != expected:
            mismatched.append({**_post(post), **_village(village), "status": status,
                               "note": f"sent by the {post['sent_by']}, but a {status} village's "
                                       f"first secretary is sent by the {expected}"})
    ending.sort(key=lambda row: (row["ends_on"], row["village_id"]))
    return plain({"on": day, "window_days": window_days, "villages": len(villages),
                  "covered": len(villages) - len(without), "without_first_secretary": without,
                  "terms_ending": ending, "sender_mismatches": mismatched})


def _village(village) -> dict:
    return {"village_id": village["id"], "village": village["name"],
            "township_id": village["township_id"], "township": village.get("township")}


def _post(post) -> dict:
    return {"post_id": post["post_id"], "cadre_id": post["cadre_id"], "name": post["name"],
            "sent_by": post["sent_by"], "started_on": post["started_on"],
            "ends_on": post["ends_on"]}
