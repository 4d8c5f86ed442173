"""Rank reads at province scale: ``services.stars.ranks`` against the queries a typical system runs.

``python -m bench.ranks`` makes a throwaway PostgreSQL database with 1,000,000 members (10
townships, 4,000 branches; 2% without a standing row, ~1% inactive), three ledger rows per member
and their standing for one month (score = the sum of the member's ledger points), runs
``ranks.rebuild``, then times (p50 / p99, ms):

* rank of one member (county, township, branch; and members without a row), each call reading
  the member's standing row then ``ranks.rank_of``;
* the top 50 (county, a township), ``ranks.top``;

against two baselines on the same data: the count over ``standings`` that the service ran before
(a scan of the scope), and the ledger query a typical system runs (``SUM(points) ... GROUP BY
member``, then the rank of one member or the first 50). The scan also checks every rank measured.
``BENCH_MEMBERS`` changes the number of members. Data is generated in SQL (``generate_series``).

``run(url, closable=True)`` (``bench.closings`` uses it) also makes the data a period close can
read: the ledger rows carry rulebook item codes (deductions for negative points), ``item_months``
is derived from the ledger (as the pipeline keeps it), and the 4,000 branches and 10 township
committees are in ``subjects``. The ranks figures are the same either way (same random stream).
"""
import os
import random
import statistics
import sys
import time
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, os.getcwd())
from services.stars import ranks  # noqa: E402
from services.stars.models import Base, ItemMonth, LedgerEntry, StandingRow, Subject  # noqa: E402
from shared import db  # noqa: E402

PERIOD = "2026-11"
TOWNSHIPS, BRANCHES = 10, 4_000
CALLS, NAIVE_CALLS = 300, 8

SUBJECTS_SQL = """
INSERT INTO subjects (kind, id, name, branch_id, township_id, category, active)
SELECT 'member', g, NULL, b, 1 + (b - 1) % :townships, 'rural', g % 97 <> 0
FROM (SELECT g, 1 + floor(random() * :branches)::int AS b FROM generate_series(1, :members) g) s
"""
# three rows per member (none for every 50th: members without a standing row)
LEDGER_SQL = """
INSERT INTO ledger (subject_kind, subject_id, item, points, count, source_event_id, source,
                    event_type, rule_id, rule_version, occurred_on, recorded_at)
SELECT 'member', m, {item}, p, 1, 'e' || g, 'members', 'activity_recorded', 'rule', '2026.1',
       date '2026-11-01' + (t / 86400)::int, timestamptz '2026-11-01 00:00+00' + t * interval '1 second'
FROM (SELECT g, (g - 1) / 3 + 1 AS m, floor(random() * 29 * 86400)::int AS t,
             CASE floor(random() * 6)::int
                  WHEN 0 THEN floor(random() * 17) * 0.5
                  WHEN 1 THEN 2
                  WHEN 2 THEN 0.2 * (1 + floor(random() * 5))
                  WHEN 3 THEN 0.05 * floor(random() * 40)
                  WHEN 4 THEN -1 * floor(random() * 3)
                  ELSE 1.5 * floor(random() * 4) END AS p
      FROM generate_series(1, 3 * :members) g) s
WHERE m % 50 <> 0
"""
STANDINGS_SQL = """
INSERT INTO standings (subject_kind, subject_id, period, own_score, score, level, vetoes,
                       reached_at, rulebook_version, branch_id, township_id, active)
SELECT 'member', l.subject_id, :period, l.total, l.total,
       CASE WHEN l.subject_id % 1000 = 7 THEN 0 WHEN l.total >= 20 THEN 5 WHEN l.total >= 15 THEN 4
            WHEN l.total >= 10 THEN 3 WHEN l.total >= 7 THEN 2 WHEN l.total >= 4 THEN 1 ELSE 0 END,
       CASE WHEN l.subject_id % 1000 = 7 THEN '["serious_violation"]'::json ELSE '[]'::json END,
       l.reached, '2026.1', s.branch_id, s.township_id, s.active
FROM (SELECT subject_id, sum(points) AS total, max(recorded_at) AS reached FROM ledger
      GROUP BY subject_id) l JOIN subjects s ON s.kind = 'member' AND s.id = l.subject_id
"""

PLAIN_ITEM = "'item'"
# closable: a rulebook item per row (raw points; monthly caps apply when a period is summarised)
RULEBOOK_ITEM = ("CASE WHEN p < 0 THEN 'meeting_absence' ELSE (ARRAY['volunteer_service', "
                 "'meeting_attendance', 'study', 'badge_wearing', 'blood_donation'])[1 + g % 5] END")
UNITS_SQL = """
INSERT INTO subjects (kind, id, name, branch_id, township_id, category, unit_kind, active)
SELECT 'branch', b, 'branch ' || b, NULL::bigint, 1 + (b - 1) % :townships, NULL, 'village', true
FROM generate_series(1, :branches) b
UNION ALL
SELECT 'committee', t, 'township ' || t, NULL, t, NULL, 'township_committee', true
FROM generate_series(1, :townships) t
"""
ITEM_MONTHS_SQL = """
INSERT INTO item_months (subject_kind, subject_id, month, item, points, count)
SELECT subject_kind, subject_id, to_char(occurred_on, 'YYYY-MM'), item, sum(points), sum(count)
FROM ledger GROUP BY 1, 2, 3, 4
"""

NAIVE_TOTALS = """
SELECT l.subject_id, sum(l.points) AS total FROM ledger l {join}
WHERE l.subject_kind = 'member' AND l.occurred_on BETWEEN date '2026-11-01' AND date '2026-11-30' {where}
GROUP BY l.subject_id
"""
TOWNSHIP_JOIN = "JOIN subjects s ON s.kind = 'member' AND s.id = l.subject_id"
NAIVE_RANK = "WITH totals AS ({totals}) SELECT 1 + count(*) FROM totals " \
             "WHERE total > (SELECT total FROM totals WHERE subject_id = :me)"
NAIVE_TOP = "{totals} ORDER BY total DESC, subject_id LIMIT 50"

# what the service counted before (a scan of the scope's standing rows), also the check
SCAN_RANK = """
SELECT (SELECT count(*) FROM standings WHERE subject_kind = 'member' AND period = :period
          AND active {scope} AND (level > :level OR (level = :level AND (score > :score OR
          (score = :score AND (reached_at < :reached OR (reached_at = :reached AND subject_id < :me)))))))
     + CASE WHEN :level = 0 AND :score < 0 THEN
         (SELECT count(*) FROM subjects WHERE kind = 'member' AND active {people})
         - (SELECT count(*) FROM standings WHERE subject_kind = 'member' AND period = :period
            AND active {scope}) ELSE 0 END + 1
"""
SCAN_TAIL_RANK = """
SELECT (SELECT count(*) FROM standings WHERE subject_kind = 'member' AND period = :period
          AND active {scope} AND (level > 0 OR (level = 0 AND score >= 0)))
     + (SELECT count(*) FROM subjects s WHERE kind = 'member' AND active {people} AND id < :me
          AND NOT EXISTS (SELECT 1 FROM standings r WHERE r.subject_kind = 'member'
                          AND r.subject_id = s.id AND r.period = :period)) + 1
"""


def timed(fn, calls, warm=10):
    for _ in range(min(warm, calls)):
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50": statistics.median(samples), "p99": samples[max(0, int(len(samples) * 0.99) - 1)],
            "calls": calls}


def generate(engine, members, closable=False):
    """Tables, then the data in SQL, then the indexes (faster than maintaining them row by row).
    ``closable``: rulebook items, ``item_months`` and the units too (see the module docstring)."""
    Base.metadata.create_all(engine)
    loaded = [Subject.__table__, LedgerEntry.__table__, StandingRow.__table__]
    if closable:
        loaded.append(ItemMonth.__table__)
    indexes = [index for table in loaded for index in table.indexes]
    started = time.perf_counter()
    with engine.begin() as connection:
        for index in indexes:
            index.drop(connection)
        connection.execute(text("ALTER TABLE ledger DROP CONSTRAINT IF EXISTS ledger_compensates_id_key"))
        connection.execute(text("SELECT setseed(0.42)"))
        params = {"members": members, "townships": TOWNSHIPS, "branches": BRANCHES, "period": PERIOD}
        connection.execute(text(SUBJECTS_SQL), params)
        connection.execute(text(LEDGER_SQL.format(item=RULEBOOK_ITEM if closable else PLAIN_ITEM)),
                           params)
        connection.execute(text(STANDINGS_SQL), params)
        if closable:
            connection.execute(text(UNITS_SQL), params)
            connection.execute(text(ITEM_MONTHS_SQL))
        connection.execute(text("SET maintenance_work_mem = '512MB'"))
        for index in indexes:
            index.create(connection)
        connection.execute(text("ALTER TABLE ledger ADD UNIQUE (compensates_id)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _figure(session, member):
    row = session.execute(text(
        "SELECT level, score, reached_at, branch_id, township_id, active FROM standings "
        "WHERE subject_kind = 'member' AND subject_id = :m AND period = :p"),
        {"m": member, "p": PERIOD}).first()
    return ranks.Entry(*row) if row is not None else None


def _scan_rank(session, member, figure, scope, place):
    scope_sql = {"county": "", "township": "AND township_id = :scope_id",
                 "branch": "AND branch_id = :scope_id"}[scope]
    params = {"period": PERIOD, "me": member, "scope_id": place.get(scope)}
    if figure is None:
        sql = SCAN_TAIL_RANK
    else:
        sql = SCAN_RANK
        params.update(level=figure.level, score=figure.score, reached=figure.reached_at)
    return session.execute(text(sql.format(scope=scope_sql, people=scope_sql)), params).scalar()


def run(pg_url, members=1_000_000, closable=False) -> dict:
    """Generate, rebuild, measure; returns every figure (ms) and the ratios. ``closable``: the
    data a period close reads too (``generate``)."""
    engine = db.database(pg_url).engine
    result = {"members": members, "generate_s": generate(engine, members, closable)}
    with Session(engine) as session:
        started = time.perf_counter()
        result["rebuild_rows"] = ranks.rebuild(session)
        session.commit()
        result["rebuild_s"] = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE rank_buckets, rank_id_blocks, scope_sizes"))
    pick = random.Random(7)
    with Session(engine) as session:
        places = dict(session.execute(text(
            "SELECT id, branch_id FROM subjects WHERE kind = 'member' AND active")).all())

        def member(with_row=True):
            while True:
                m = pick.randint(1, members)
                if m in places and (m % 50 != 0) == with_row:
                    return m

        def place(m):
            branch = places[m]
            return {"branch": branch, "township": 1 + (branch - 1) % TOWNSHIPS}

        def rank_call(scope, with_row=True, check=None):
            def call():
                m = member(with_row)
                figure = _figure(session, m)
                got = ranks.rank_of(session, "member", m, PERIOD, scope, place(m)["branch"],
                                    place(m)["township"], figure)
                if check is not None:
                    check.append((m, figure, scope, got["rank"]))
            return call

        checks = []
        for scope in ("county", "township", "branch"):
            result[f"rank_of_{scope}"] = timed(rank_call(scope, check=checks), CALLS)
        result["rank_of_county_no_row"] = timed(rank_call("county", False, checks), CALLS // 3)
        result["rank_of_township_no_row"] = timed(rank_call("township", False, checks), CALLS // 3)
        result["top50_county"] = timed(lambda: ranks.top(session, "member", "county", None,
                                                         PERIOD, 50), CALLS)
        result["top50_township"] = timed(lambda: ranks.top(
            session, "member", "township", pick.randint(1, TOWNSHIPS), PERIOD, 50), CALLS)

        # the check: every rank measured equals the scan's
        sample = checks[::max(1, len(checks) // 60)]
        wrong = [(m, scope, rank) for m, figure, scope, rank in sample
                 if _scan_rank(session, m, figure, scope, place(m)) != rank]
        result["checked"], result["wrong"] = len(sample), len(wrong)
        # the board has the naive query's best totals (less vetoed and inactive members; the
        # naive query knows neither, nor levels, nor the tie-break)
        board = [Decimal(t["score"]) for t in ranks.top(session, "member", "county", None, PERIOD, 50)]
        naive = session.execute(text(NAIVE_TOP.format(totals=NAIVE_TOTALS.format(
            join="", where="")).replace("LIMIT 50", "LIMIT 500"))).all()
        result["top50_scores_match_naive"] = board == [
            total for m, total in naive if m % 1000 != 7 and m % 97 != 0][:50]

        def scan_call(scope, with_row=True):
            def call():
                m = member(with_row)
                _scan_rank(session, m, _figure(session, m), scope, place(m))
            return call

        result["scan_rank_county"] = timed(scan_call("county"), NAIVE_CALLS * 4, warm=2)
        result["scan_rank_township"] = timed(scan_call("township"), NAIVE_CALLS * 4, warm=2)

        def naive_rank(scope):
            def call():
                m = member()
                where = "" if scope == "county" else "AND s.township_id = :t"
                join = "" if scope == "county" else TOWNSHIP_JOIN
                session.execute(text(NAIVE_RANK.format(totals=NAIVE_TOTALS.format(
                    join=join, where=where))), {"me": m, "t": place(m)["township"]}).scalar()
            return call

        result["naive_rank_county"] = timed(naive_rank("county"), NAIVE_CALLS, warm=1)
        result["naive_rank_township"] = timed(naive_rank("township"), NAIVE_CALLS, warm=1)
        result["naive_top50_county"] = timed(lambda: session.execute(text(NAIVE_TOP.format(
            totals=NAIVE_TOTALS.format(join="", where="")))).all(), NAIVE_CALLS, warm=1)
        result["naive_top50_township"] = timed(lambda: session.execute(text(NAIVE_TOP.format(
            totals=NAIVE_TOTALS.format(join=TOWNSHIP_JOIN, where="AND s.township_id = :t"))),
            {"t": pick.randint(1, TOWNSHIPS)}).all(), NAIVE_CALLS, warm=1)

        # writes: a batch of score changes, as the pipeline would apply them (rolled back)
        def write_batch(size, calls):
            batches = []
            for _ in range(calls + 10):
                moves = []
                for _ in range(size):
                    m = member()
                    before = _figure(session, m)
                    after = ranks.Entry(before.level, before.score + Decimal("0.5"),
                                        before.reached_at, before.branch_id, before.township_id,
                                        before.active)
                    moves.append(("member", m, PERIOD, before, after))
                batches.append(moves)
            return lambda: ranks.apply_standing_moves(session, batches.pop())

        result["apply_1_move"] = timed(write_batch(1, 100), 100)
        result["apply_100_moves"] = timed(write_batch(100, 30), 30)
        session.rollback()
    for name, fast, slow in (("rank_of_county", "rank_of_county", "naive_rank_county"),
                             ("rank_of_township", "rank_of_township", "naive_rank_township"),
                             ("top50_county", "top50_county", "naive_top50_county"),
                             ("top50_township", "top50_township", "naive_top50_township"),
                             ("rank_of_county_vs_scan", "rank_of_county", "scan_rank_county"),
                             ("rank_of_township_vs_scan", "rank_of_township", "scan_rank_township")):
        result.setdefault("ratios", {})[name] = {
            "p50": result[slow]["p50"] / result[fast]["p50"],
            "p99": result[slow]["p99"] / result[fast]["p99"]}
    return result


def show(result):
    print(f"members {result['members']:,}; generated in {result['generate_s']:.0f} s; "
          f"rebuild {result['rebuild_s']:.1f} s {result['rebuild_rows']}")
    print(f"checked {result['checked']} ranks against the scan: {result['wrong']} wrong; "
          f"top-50 scores match the naive query: {result['top50_scores_match_naive']}\n")
    print(f"{'measure (ms)':<34}{'p50':>10}{'p99':>10}{'calls':>7}")
    for name, figures in result.items():
        if isinstance(figures, dict) and "p50" in figures and "calls" in figures:
            print(f"{name:<34}{figures['p50']:>10.2f}{figures['p99']:>10.2f}{figures['calls']:>7}")
    print(f"\n{'speed-up (slower / ranks)':<34}{'p50':>10}{'p99':>10}")
    for name, ratio in result["ratios"].items():
        print(f"{name:<34}{ratio['p50']:>9.0f}x{ratio['p99']:>9.0f}x")


def main():
    from tests.support import broker
    url = broker.create_pg_database("jiceng_bench")
    try:
        show(run(url, int(os.environ.get("BENCH_MEMBERS", "1000000"))))
    finally:
        broker.drop_pg_database(url)


if __name__ == "__main__":
    main()
