"""Freezing a period's members on PostgreSQL: ``closings.close`` without a million Python rows.

At county scale (a million members) building each member's result in Python costs minutes and
gigabytes, so on PostgreSQL the members' results are computed and written by the database in one
``INSERT ... SELECT`` into ``closed_results``; the branches and committees (a few thousand rows)
are then frozen by the same Python code as on SQLite (``closings``), their roll-ups fed by
aggregates of the member rows just written. SQLite (laptop scale, and no exact decimals in SQL)
keeps the Python path for every kind.

The statement does what the Python path does (``scoring.summarise_periods``,
``levels.level_for``, ``rankings.ranking``, ``levels.model_star``), step by step:

* ``stream``: each ``item_months`` row of the period's members clamped to its month's cap (the
  rulebook of the month as ``scoring`` picks it; an item that rulebook does not know is uncapped),
  with every member's directory row and live standing row (``reached_at``), sorted by member; for
  several months ``lines`` first sums the rows per member and item;
* ``summaries``: per member, the own score (sum of the items), the items (two decimals, half up,
  as ``scoring.shown``), the net counts, the veto items with a net positive count (sorted by code
  point), the deductions (deduction items; an item no rulebook of the period knows counts when
  negative) and the directory's place; ``members``: those ranked, as ``closings`` chooses them
  (every active member of the directory and every member with entries in the period that the
  directory does not know; not those who left), with their level from the thresholds of the
  period kind (0 when vetoed);
* ``ranked``, ``branched``, ``placed``: positions (``row_number()``: no shared places) in ranking
  order (level desc, score desc, ``reached_at`` asc with none last, subject id), county-wide,
  then per branch and per township (of the directory row; none without one) in county order;
* the Model Star and its unmet criteria, in the words of ``levels.model_star``, when the
  rulebook's criteria name this kind of period.

Rulebook figures (caps, item kinds, thresholds, criteria) travel as bound parameters (arrays for
the caps and item kinds), never spliced into the SQL. The database works while the green thread
waits on its socket (psycogreen), so the service stays responsive during the statement.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from services.stars import scoring
from services.stars.rulebook import rulebook_for
from services.stars.scoring import shown

ZERO = Decimal(0)


def _shown(value: str) -> str:
    """``scoring.shown`` in SQL: two decimals, half away from zero, and ``-0.00`` for a small
    negative amount (as ``Decimal.quantize`` keeps the sign)."""
    return (f"(CASE WHEN ({value}) < 0 AND round({value}, 2) = 0 THEN '-0.00' "
            f"ELSE round({value}, 2)::text END)")


def month_books(books, months) -> dict:
    """month key -> the rulebook of that month (``scoring``'s choice: the only one, else the one
    in force on the 1st), or None when none is in force then."""
    books = scoring._books(books)
    found = {}
    for month in months:
        try:
            found[month] = books[0] if len(books) == 1 else rulebook_for(f"{month}-01", books)
        except ValueError:
            found[month] = None
    return found


def check_books(session, books, months):
    """The Python path fails (``rulebook_for``'s ValueError) when a month with entries has no
    rulebook in force; so does this one."""
    missing = [month for month, book in month_books(books, months).items() if book is None]
    if missing and session.execute(text(
            "SELECT 1 FROM item_months WHERE month = ANY(CAST(:months AS text[])) LIMIT 1"),
            {"months": missing}).first():
        rulebook_for(f"{missing[0]}-01", scoring._books(books))


def caps_and_kinds(books, months) -> dict:
    """Bound parameters: the cap of every (month, item) the month's rulebook knows, and the item
    codes known to the period's rulebooks by kind (an item's kind is taken from the first month of
    the period whose rulebook knows it)."""
    cap_months, cap_items, cap_values, kinds = [], [], [], {}
    for month, book in month_books(books, months).items():
        if book is None:
            continue
        for code, item in book.items.items():
            if item.monthly_cap is not None:
                cap_months.append(month)
                cap_items.append(code)
                cap_values.append(item.monthly_cap)
            kinds.setdefault(code, item.kind)
    return {"cap_months": cap_months, "cap_items": cap_items, "cap_values": cap_values,
            "known_items": list(kinds),
            "veto_items": [code for code, kind in kinds.items() if kind == "veto"],
            "deduction_items": [code for code, kind in kinds.items() if kind == "deduction"]}


def _model_star(criteria, params) -> tuple[str, str]:
    """(extra summary columns, the ``unmet`` array expression) for the Model Star criteria
    (``levels.model_star``): the same messages, in the same order and words."""
    columns, parts = [], [
        "CASE WHEN level < :ms_level THEN 'level ' || level::text || ' is below ' "
        "|| CAST(:ms_level_text AS text) END",
        "CASE WHEN vetoes IS NOT NULL THEN 'veto item recorded: ' || array_to_string(vetoes, ', ') END"]
    params["ms_level"] = criteria.min_level
    params["ms_level_text"] = str(criteria.min_level)
    for number, (code, minimum) in enumerate(criteria.min_points.items()):
        columns.append(f"sum(points) FILTER (WHERE item = CAST(:mp_code_{number} AS text)) "
                       f"AS mp_{number}")
        got = f"coalesce(mp_{number}, 0)"
        parts.append(f"CASE WHEN {got} < :mp_min_{number} THEN CAST(:mp_code_{number} AS text) "
                     f"|| ': ' || {_shown(got)} || ' points, needs ' "
                     f"|| CAST(:mp_shown_{number} AS text) END")
        params.update({f"mp_code_{number}": code, f"mp_min_{number}": Decimal(minimum),
                       f"mp_shown_{number}": shown(minimum)})
    for number, (code, minimum) in enumerate(criteria.min_counts.items()):
        columns.append(f"sum(n) FILTER (WHERE item = CAST(:mc_code_{number} AS text)) "
                       f"AS mc_{number}")
        got = f"coalesce(mc_{number}, 0)"
        parts.append(f"CASE WHEN {got} < :mc_min_{number} THEN CAST(:mc_code_{number} AS text) "
                     f"|| ': ' || {got}::text || ' times, needs ' "
                     f"|| CAST(:mc_text_{number} AS text) END")
        params.update({f"mc_code_{number}": code, f"mc_min_{number}": int(minimum),
                       f"mc_text_{number}": str(minimum)})
    if criteria.max_deduction is not None:
        parts.append("CASE WHEN summarised AND -deductions > :ms_max_deduction THEN 'deductions ' "
                     f"|| {_shown('-deductions')} || ' exceed ' "
                     "|| CAST(:ms_max_deduction_shown AS text) END")
        params["ms_max_deduction"] = Decimal(criteria.max_deduction)
        params["ms_max_deduction_shown"] = shown(criteria.max_deduction)
    extra = "".join(f",\n           {column}" for column in columns)
    unmet = "array_remove(ARRAY[" + ",\n        ".join(parts) + "]::text[], NULL)"
    return extra, unmet


# One stream per member, sorted by member: the capped item_months rows of the period, the
# directory row and the live standing row; one aggregate per member then gives everything the
# ranking needs without joining a million rows twice. For several months the rows are first
# summed per member and item (the directory and standing rows meet in the member's item-less
# group). The ranks: county first (the full order), then branch and township by the county
# rank (integer sorts); the township ranking last, so rows reach the table in township order,
# which keeps the index insertions local (as rank order would); the Model Star's unmet criteria
# are worded after the last sort (not carried through it). What is returned is per branch and
# level: the roll-ups of the branches and the summary counts read it.
MEMBERS_SQL = """
WITH caps AS (
    SELECT * FROM unnest(CAST(:cap_months AS text[]), CAST(:cap_items AS text[]),
                         CAST(:cap_values AS numeric[])) AS caps(month, item, cap)
), stream AS (
    SELECT m.subject_id, m.item::text COLLATE "C" AS item,
           CASE WHEN caps.cap IS NULL THEN m.points
                ELSE GREATEST(-caps.cap, LEAST(caps.cap, m.points)) END AS points,
           m.count::bigint AS n, NULL::bigint AS branch_id, NULL::bigint AS township_id,
           NULL::boolean AS active, NULL::timestamptz AS reached_at
    FROM item_months m LEFT JOIN caps ON caps.month = m.month AND caps.item = m.item
    WHERE m.subject_kind = 'member' AND m.month = ANY(CAST(:months AS text[]))
    UNION ALL
    SELECT id, NULL, NULL, NULL, branch_id, township_id, active, NULL
    FROM subjects WHERE kind = 'member'
    UNION ALL
    SELECT subject_id, NULL, NULL, NULL, NULL, NULL, NULL, reached_at
    FROM standings WHERE subject_kind = 'member' AND period = :period
), lines AS ({lines}
), summaries AS (
    SELECT subject_id, coalesce(sum(points), 0) AS score,
           json_object_agg(item, {shown_points}) FILTER (WHERE item IS NOT NULL) AS items,
           json_object_agg(item, n) FILTER (WHERE item IS NOT NULL) AS counts,
           array_agg(item) FILTER (WHERE n > 0 AND item = ANY(CAST(:veto_items AS text[]))) AS vetoes,
           coalesce(sum(points) FILTER (WHERE item = ANY(CAST(:deduction_items AS text[]))
                                        OR (points < 0 AND item <> ALL(CAST(:known_items AS text[])))),
                    0) AS deductions,
           bool_or(item IS NOT NULL) AS summarised, bool_or(active) AS active,
           max(branch_id) AS branch_id, max(township_id) AS township_id,
           max(reached_at) AS reached_at{extra}
    FROM lines
    GROUP BY subject_id
), members AS (
    SELECT subject_id, score, items, counts, deductions, summarised, branch_id, township_id,
           reached_at{extra_names},
           CASE WHEN cardinality(vetoes) > 1
                THEN ARRAY(SELECT v FROM unnest(vetoes) AS v ORDER BY v COLLATE "C")
                ELSE vetoes END AS vetoes,
           CASE WHEN vetoes IS NOT NULL THEN 0 ELSE {level} END AS level
    FROM summaries
    WHERE active OR (active IS NULL AND summarised)
), ranked AS (
    SELECT members.*,
           row_number() OVER (ORDER BY level DESC, score DESC, reached_at ASC NULLS LAST,
                                       subject_id) AS rank
    FROM members
), branched AS (
    SELECT ranked.*,
           CASE WHEN branch_id IS NOT NULL THEN
               row_number() OVER (PARTITION BY branch_id ORDER BY rank) END AS branch_rank
    FROM ranked
), placed AS (
    SELECT branched.*,
           CASE WHEN township_id IS NOT NULL THEN
               row_number() OVER (PARTITION BY township_id ORDER BY rank) END AS township_rank
    FROM branched
), inserted AS (
    INSERT INTO closed_results (period, subject_kind, subject_id, branch_id, township_id,
                                own_score, score, level, rank, township_rank, branch_rank, vetoes,
                                items, counts, reached_at, model_star, model_star_unmet)
    SELECT :period, 'member', subject_id, branch_id, township_id, score, score, level, rank,
           township_rank, branch_rank, coalesce(to_json(vetoes), '[]'::json),
           coalesce(items, '{{}}'::json), coalesce(counts, '{{}}'::json), reached_at,
           {model_star}, {model_unmet}
    FROM placed CROSS JOIN LATERAL (SELECT {unmet} AS unmet) AS judged
    RETURNING branch_id, level, score, model_star
)
SELECT branch_id, level, count(*), sum(score), count(*) FILTER (WHERE model_star)
FROM inserted GROUP BY branch_id, level
"""
ONE_MONTH = """
    SELECT * FROM stream ORDER BY subject_id"""
MONTHS = """
    SELECT subject_id, item, sum(points) AS points, sum(n) AS n, max(branch_id) AS branch_id,
           max(township_id) AS township_id, bool_or(active) AS active,
           max(reached_at) AS reached_at
    FROM stream GROUP BY subject_id, item ORDER BY subject_id, item"""


def members_statement(books, book, period) -> tuple[str, dict]:
    """The statement freezing every member of ``period`` and its parameters."""
    thresholds = book.subject("member").thresholds.for_period(period.kind)
    params = {"period": period.key, "months": list(period.months),
              **caps_and_kinds(books, period.months),
              **{f"t{number}": Decimal(value) for number, value in enumerate(thresholds)}}
    # ``levels.level_for``: the number of thresholds reached
    level = " + ".join(f"(CASE WHEN score >= :t{number} THEN 1 ELSE 0 END)"
                       for number in range(len(thresholds))) or "0"
    criteria = book.subject("member").model_star
    if criteria is not None and criteria.period == period.kind:
        extra, unmet = _model_star(criteria, params)
        model_star, model_unmet = "cardinality(unmet) = 0", "to_json(unmet)"
    else:
        extra, unmet = "", "CAST(NULL AS text[])"
        model_star, model_unmet = "CAST(NULL AS boolean)", "CAST(NULL AS json)"
    names = "".join(f", {column.rsplit(' AS ', 1)[1]}" for column in extra.split(",\n")[1:])
    sql = MEMBERS_SQL.format(lines=ONE_MONTH if len(period.months) == 1 else MONTHS,
                             shown_points=_shown("points"), extra=extra, extra_names=names,
                             level=level,
                             unmet=unmet, model_star=model_star, model_unmet=model_unmet)
    return sql, params


def freeze_members(session, books, book, period) -> dict:
    """Write every member's frozen result of ``period`` (its closing row must exist); returns
    ``{(branch id or None, level): (members, score sum, Model Stars)}`` of the rows written."""
    check_books(session, books, period.months)
    sql, params = members_statement(books, book, period)
    # sorts and aggregates in memory rather than in many small runs on disk; for several months
    # the per-item sums are grouped in sorted order (a hash of every member and item spills)
    saved = session.execute(text(
        "SELECT current_setting('work_mem'), current_setting('enable_hashagg')")).one()
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    if len(period.months) > 1:
        session.execute(text("SET LOCAL enable_hashagg = off"))
    frozen = {(branch_id, level): (count, total, stars) for branch_id, level, count, total, stars
              in session.execute(text(sql), params)}
    session.execute(text("SELECT set_config('work_mem', :work_mem, true), "
                         "set_config('enable_hashagg', :hashagg, true)"),
                    {"work_mem": saved[0], "hashagg": saved[1]})
    return frozen


def member_figures(frozen) -> tuple[dict, int, int]:
    """Of the member rows frozen (``freeze_members``): ``{level: count}``, the subjects, the
    Model Stars."""
    at_level, subjects, stars = {}, 0, 0
    for (branch_id, level), (count, total, awarded) in frozen.items():
        at_level[level] = at_level.get(level, 0) + count
        subjects += count
        stars += awarded
    return at_level, subjects, stars


def branch_children(frozen) -> dict:
    """branch id -> ``(count, score sum, {level: count})`` of its frozen members (those placed in
    the branch by the directory: the children of ``levels.rollup_tree``)."""
    found: dict = {}
    for (branch_id, level), (count, total, stars) in frozen.items():
        if branch_id is None:
            continue
        entry = found.setdefault(branch_id, [0, ZERO, {}])
        entry[0] += count
        entry[1] += total
        entry[2][level] = count
    return {branch_id: tuple(entry) for branch_id, entry in found.items()}
