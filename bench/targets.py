"""The figures of issue 6 (stars at the broker's speed) and of the HTTP API (issue 11), each
beside a baseline measured in the same run, with its target and PASS / MISS. ``make bench`` calls ``measure`` after the bus
figures (whose kombu baselines it reuses) and prints ``table``; nothing here fails the command on
a missed target.

Settings (environment; ``BENCH_QUICK=1`` picks the quick column):

    variable                 full        quick     what
    BENCH_STARS_SCALE        0.1         0.03      demo scale stars absorbs (bench.stars)
    BENCH_LATENCY_SECONDS    20          8         seconds of activities at 100/s (bench.latency)
    BENCH_DEMO_SCALE         1.0         0.1       demo scale of ``jiceng run --demo`` (bench.demo_run);
                                                   below 1 the seconds are extrapolated (x 1/scale)
    BENCH_DEMO_TIMEOUT       420         120       stop the demo run then and extrapolate
    BENCH_MEMBERS            1000000     100000    synthetic members (bench.ranks, bench.closings)
    BENCH_CLOSE_TIMEOUT      90          60        stop a close then (and estimate from a
                                                   100,000-member run, linear in members)
    BENCH_HTTP_SECONDS       15          6         seconds of each wrk run (bench.http)
"""
import os
import platform
import subprocess
import time
import traceback

from bench import closings, demo_run, http, latency, ranks, stars
from shared import db
from tests.support import broker

TARGET_MEMBERS = 1_000_000
CALIBRATION_MEMBERS = 100_000
LATENCY_RATE = 100.0
LATENCY_DEMO_SCALE = 0.05


def settings(quick: bool) -> dict:
    def env(name, full, fast, cast=float):
        return cast(os.environ.get(name, fast if quick else full))
    return {"quick": quick,
            "stars_scale": env("BENCH_STARS_SCALE", 0.1, 0.03),
            "latency_seconds": env("BENCH_LATENCY_SECONDS", 20, 8),
            "latency_rate": LATENCY_RATE,
            "latency_demo_scale": LATENCY_DEMO_SCALE,
            "demo_scale": env("BENCH_DEMO_SCALE", 1.0, 0.1),
            "demo_timeout": env("BENCH_DEMO_TIMEOUT", 420, 120),
            "members": env("BENCH_MEMBERS", TARGET_MEMBERS, CALIBRATION_MEMBERS, int),
            "close_timeout": env("BENCH_CLOSE_TIMEOUT", 90, 60),
            "http_seconds": env("BENCH_HTTP_SECONDS", 15, 6)}


def machine() -> dict:
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    return {"uname": uname, "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_average_start": os.getloadavg()}


def _with_vhost(fn, *args, **kwargs):
    vhost = broker.create_vhost("jiceng-bench")
    try:
        return fn(broker.amqp_uri(vhost), *args, **kwargs)
    finally:
        broker.delete_vhost(vhost)


def _ranks_and_closes(members, close_timeout):
    """bench.ranks at ``members`` on a closable database, then the closes on the same data; a
    stopped close (or a quick run) adds a 100,000-member run of the closes to extrapolate from."""
    url = broker.create_pg_database("jiceng_bench")
    try:
        started = time.perf_counter()
        rank_figures = ranks.run(url, members, closable=True)
        rank_figures["elapsed_s"] = time.perf_counter() - started
        close_figures = closings.run(url, timeout=close_timeout)
    finally:
        broker.drop_pg_database(url)
    stopped = any(isinstance(close_figures.get(name), dict) or name not in close_figures
                  for name, _ in closings.CLOSES)
    if members == CALIBRATION_MEMBERS:
        close_figures["calibration"] = {k: v for k, v in close_figures.items()}
    elif stopped:
        url = broker.create_pg_database("jiceng_bench")
        try:
            ranks.generate(db.database(url).engine, CALIBRATION_MEMBERS, closable=True)
            close_figures["calibration"] = closings.run(url, timeout=close_timeout * 4)
        finally:
            broker.drop_pg_database(url)
    return rank_figures, close_figures


def measure(baselines: dict, options: dict) -> dict:
    """Every figure of the issue; a measurement that raises is kept as its error (and the others
    still run)."""
    found, errors = {}, {}

    def attempt(name, fn, *args, **kwargs):
        started = time.perf_counter()
        print(f"  measuring {name} ...", flush=True)
        try:
            found[name] = fn(*args, **kwargs)
        except Exception as exc:  # a bench reports, it does not stop at the first failure
            errors[name] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        print(f"    ({time.perf_counter() - started:.0f} s)", flush=True)

    attempt("stars_absorb", _with_vhost, stars.absorb_demo, "postgresql", options["stars_scale"])
    attempt("latency", _with_vhost, latency.record_to_standing, options["latency_rate"],
            options["latency_seconds"], options["latency_demo_scale"])
    attempt("demo_month", _with_vhost, demo_run.demo_month, options["demo_scale"],
            timeout=options["demo_timeout"])
    attempt("bare_process_rss_mb", demo_run.bare_rss_mb)
    attempt("http", _with_vhost, http.run, options["http_seconds"])

    def ranks_and_closes():
        found["ranks"], found["closes"] = _ranks_and_closes(options["members"],
                                                            options["close_timeout"])
    attempt("ranks_and_closes", ranks_and_closes)
    found.pop("ranks_and_closes", None)
    return {"figures": found, "errors": errors}


# -- the table -----------------------------------------------------------------------------------

def _verdict(ok):
    return "PASS" if ok else "MISS"


def _n(value, digits=0):
    return f"{value:,.{digits}f}"


def _secs(value):
    return f"{value:.1f} s" if isinstance(value, float) else "stopped"


def table(baselines: dict, measured: dict, options: dict) -> tuple[list[dict], list[str]]:
    """Rows (measure, figure, baseline, target, result) and the notes printed under them."""
    f, errors = measured["figures"], measured["errors"]
    confirm, consume = baselines["kombu_publish_confirm_each_per_s"], baselines["kombu_consume_ack_per_s"]
    rpc = baselines["rpc_round_trip_ms"]
    rows, notes = [], []

    def row(measure, figure="", baseline="", target="", result="", value=None):
        rows.append({"measure": measure, "figure": figure, "baseline": baseline, "target": target,
                     "result": result, "value": value})

    def error(measure, name):
        row(measure, "ERROR", "", "", "ERROR")
        notes.append(f"{measure}: {errors.get(name, 'not measured')}")

    row("baseline: kombu persistent publish, confirm each", f"{_n(confirm)} msg/s", value=confirm)
    row("baseline: kombu consume with ack", f"{_n(consume)} msg/s", value=consume)

    absorb = f.get("stars_absorb")
    if absorb:
        rate = absorb["events_per_s"]
        row(f"stars absorbs the demo from members' outbox (scale {options['stars_scale']}, PG)",
            f"{_n(rate)} events/s", f"{rate / confirm:.2f}x confirm-each publish", ">= 1,000/s and >= 0.75x",
            _verdict(rate >= 1000 and rate >= 0.75 * confirm), rate)
    else:
        error("stars absorbs the demo from members' outbox", "stars_absorb")

    lat = f.get("latency")
    if lat:
        label = f"record_activity -> score_changed at {lat['offered_per_s']:.0f}/s"
        row(f"{label}: p50", f"{_n(lat['p50_ms'])} ms", f"RPC round trip p50 {rpc['p50']:.1f} ms",
            "", "", lat["p50_ms"])
        row(f"{label}: p99", f"{_n(lat['p99_ms'])} ms", f"RPC round trip p99 {rpc['p99']:.1f} ms",
            "<= 250 ms", _verdict(lat["p99_ms"] <= 250), lat["p99_ms"])
        if lat["missing"] or lat["errors"]:
            notes.append(f"latency: {lat['missing']} activities without score_changed within 30 s "
                         f"(counted as slowest), {lat['errors']} RPC errors {lat['first_errors']}")
        notes.append(f"latency: {lat['recorded']:,} activities in {lat['seconds']:.0f} s offered "
                     f"at {lat['offered_per_s']:.0f}/s ({lat['achieved_per_s']:.0f}/s achieved); "
                     f"members, stars, the load and the spy in one process (services_running); "
                     f"demo county at scale {lat['demo_scale']} ({lat['demo_members']:,} members) "
                     f"absorbed first")
    else:
        error("record_activity -> score_changed p50/p99", "latency")

    demo = f.get("demo_month")
    if demo:
        scale = demo["scale"]
        events = demo["demo"]["events"]
        if "extrapolated_s" in demo:
            seconds, how = demo["extrapolated_s"], "extrapolated"
            notes.append(f"demo month: stopped after {demo['stopped_after_s']:.0f} s with "
                         f"{demo['scored']:,} of {demo['activities']:,} activities scored; the "
                         f"seconds are extrapolated at the rate since the demo was loaded")
        else:
            seconds, how = demo["seconds"], "measured"
        if scale < 1:
            # the demo load and the absorption grow with the scale, the services' start-up not
            start_up = demo.get("first_scored_s", demo["load_s"]) - demo["load_s"]
            measured = seconds
            seconds = (seconds - start_up) / scale + start_up
            events, how = events / scale, "extrapolated"
            notes.append(f"demo month: run at scale {scale} ({measured:.0f} s, "
                         f"{demo['activities']:,} activities); the full month is estimated as "
                         f"(seconds - start-up {start_up:.0f} s) / scale + start-up: rough, the "
                         f"absorption rate falls as the county grows")
        row(f"demo month after `jiceng run --demo` (SQLite, scale {scale})",
            f"{_n(seconds)} s" + (" (est.)" if how != "measured" else ""),
            f"confirm-each publish of its {_n(events)} events: {_n(events / confirm)} s",
            "<= 120 s", _verdict(seconds <= 120) + (" (est.)" if how != "measured" else ""),
            seconds)
    else:
        error("demo month after `jiceng run --demo`", "demo_month")

    rk = f.get("ranks")
    members = options["members"]
    at = f"{_n(members)} members"
    if members != TARGET_MEMBERS:
        notes.append(f"ranks and closes: {_n(members)} members, not the issue's 1,000,000")
    if rk:
        for label, fast, slow in (("rank-of-one", ("rank_of_county", "rank_of_township",
                                                   "rank_of_branch", "rank_of_county_no_row",
                                                   "rank_of_township_no_row"),
                                   ("rank_of_county", "rank_of_township")),
                                  ("top-50", ("top50_county", "top50_township"),
                                   ("top50_county", "top50_township"))):
            p50 = max(rk[name]["p50"] for name in fast)
            p99 = max(rk[name]["p99"] for name in fast)
            ratio = min(min(rk["ratios"][name].values()) for name in slow)
            naive = {"rank-of-one": "naive_rank_county", "top-50": "naive_top50_county"}[label]
            row(f"{label} p50 / p99, {at}", f"{p50:.2f} / {p99:.2f} ms",
                f"naive ledger SUM p50 {_n(rk[naive]['p50'])} ms; >= {_n(ratio)}x",
                "p99 <= 5 ms and >= 100x", _verdict(p99 <= 5 and ratio >= 100), p99)
        if rk.get("wrong"):
            notes.append(f"ranks: {rk['wrong']} of {rk['checked']} ranks differ from the scan")
    else:
        error(f"rank-of-one and top-50, {at}", "ranks_and_closes")

    cl = f.get("closes")
    if cl:
        naive = rk["naive_top50_county"]["p50"] / 1000 if rk else None
        base = f"naive month totals (ledger SUM) {naive:.1f} s" if naive is not None else ""
        calibration = cl.get("calibration")
        factor = TARGET_MEMBERS / CALIBRATION_MEMBERS
        for label, names, limit in (("month close", ("month_close_s",), 30),
                                    ("year-end reset (Q4 + year close)",
                                     ("quarter_close_s", "year_close_s"), 60)):
            values = [cl.get(name) for name in names]
            measured_all = all(isinstance(v, float) for v in values)
            estimate = None
            if calibration and all(isinstance(calibration.get(n), float) for n in names):
                estimate = sum(calibration[n] for n in names) * factor
            if measured_all and members == TARGET_MEMBERS:
                seconds = sum(values)
                row(f"{label}, {at}", f"{_n(seconds, 1)} s", base, f"<= {limit} s",
                    _verdict(seconds <= limit), seconds)
                continue
            if measured_all:
                shown = f"{_n(sum(values), 1)} s"
            elif any(isinstance(v, dict) for v in values):
                shown = f">= {_n(options['close_timeout'])} s (stopped)"
            else:
                shown = "not run"
            if estimate is not None:
                shown += f"; est. {_n(estimate)} s at 1M"
            stopped_past_limit = any(isinstance(v, dict) for v in values) \
                and options["close_timeout"] >= limit
            if stopped_past_limit:
                verdict = "MISS"
            elif estimate is not None:
                verdict = _verdict(estimate <= limit) + " (est.)"
            else:
                verdict = "n/a"
            row(f"{label}, {at}", shown, base, f"<= {limit} s", verdict, estimate)
        if calibration and (members != TARGET_MEMBERS or any(
                not isinstance(cl.get(n), float) for n, _ in closings.CLOSES)):
            notes.append(
                "closes: est. = the same closes at 100,000 members x 10 (linear in members; at "
                f"100,000: month {_secs(calibration.get('month_close_s'))}, Q4 "
                f"{_secs(calibration.get('quarter_close_s'))}, year "
                f"{_secs(calibration.get('year_close_s'))}); a close stopped at "
                f"{_n(options['close_timeout'])} s leaves those after it (which need it) not run")
    else:
        error(f"month close and year-end reset, {at}", "ranks_and_closes")

    _http_rows(f.get("http"), row, error, notes)

    bare = f.get("bare_process_rss_mb")
    if demo and demo["scale"] < 1:
        notes.append(f"peak RSS: of the demo run at scale {demo['scale']}, not the full month")
    if demo and demo.get("peak_rss_mb"):
        for name in ("members", "stars"):
            value = demo["peak_rss_mb"].get(name)
            if value is None:
                row(f"peak RSS of the {name} process", "not read", "", "<= 150 MB", "ERROR")
                notes.append(f"peak RSS: no pid of {name} in the `jiceng run` output")
                continue
            row(f"peak RSS of the {name} process (VmHWM, demo month)",
                f"{_n(value)} MB", f"idle interpreter + imports {_n(bare)} MB" if bare else "",
                "<= 150 MB", _verdict(value <= 150), value)
    else:
        error("peak RSS of each service process", "demo_month")
    return rows, notes


def _http_rows(found, row, error, notes):
    if not found:
        error("HTTP ranking read / activity write at 50 connections", "http")
        return
    rpc, read, write = found["rpc_read"], found["http_read"], found["http_write"]
    row("baseline: nameko RPC stars.top, 50 concurrent callers",
        f"{_n(rpc['requests_per_s'])}/s, p99 {_n(rpc['p99_ms'])} ms", value=rpc["requests_per_s"])
    row("HTTP ranking read (GET /api/v1/boards/member), 50 connections",
        f"{_n(read['requests_per_s'])}/s, p99 {_n(read['p99_ms'])} ms",
        f"{read['requests_per_s'] / rpc['requests_per_s']:.2f}x RPC",
        ">= 500/s and p99 <= 100 ms",
        _verdict(read["requests_per_s"] >= 500 and read["p99_ms"] <= 100), read["requests_per_s"])
    uncached = found.get("http_read_uncached")
    if uncached:
        row("HTTP ranking read, Cache-Control: no-cache (every read asks stars)",
            f"{_n(uncached['requests_per_s'])}/s, p99 {_n(uncached['p99_ms'])} ms",
            f"{uncached['requests_per_s'] / rpc['requests_per_s']:.2f}x RPC", "", "",
            uncached["requests_per_s"])
    two = found.get("http_read_two_gateways")
    if two:
        row("HTTP ranking read, two gateway processes on one port",
            f"{_n(two['requests_per_s'])}/s, p99 {_n(two['p99_ms'])} ms",
            f"{two['requests_per_s'] / rpc['requests_per_s']:.2f}x RPC",
            ">= 500/s and p99 <= 100 ms",
            _verdict(two["requests_per_s"] >= 500 and two["p99_ms"] <= 100),
            two["requests_per_s"])
    row("HTTP activity write (POST /api/v1/activities), 50 connections",
        f"{_n(write['requests_per_s'])}/s, p99 {_n(write['p99_ms'])} ms",
        f"{write['requests_per_s'] / rpc['requests_per_s']:.2f}x RPC read", "", "",
        write["requests_per_s"])
    for name, figures in (("read", read), ("read uncached", uncached), ("write", write),
                          ("read, two gateways", two)):
        if figures and (figures["non_2xx"] or figures["socket_errors"]):
            notes.append(f"http {name}: {figures['non_2xx']} non-2xx answers, socket errors "
                         f"{figures['socket_errors'] or 'none'}")
    notes.append("http: members, stars and the gateway as processes of their own on "
                 "PostgreSQL; wrk (one thread, 50 connections) and the RPC callers (one "
                 "process, 50 green threads) on the same 2 cores; reads measured after a "
                 "3 s warm-up")


def show(rows, notes):
    heads = ("measure", "figure", "baseline (same run)", "target", "result")
    keys = ("measure", "figure", "baseline", "target", "result")
    widths = [max(len(heads[i]), *(len(r[k]) for r in rows)) for i, k in enumerate(keys)]
    line = "  ".join(h.ljust(w) for h, w in zip(heads, widths))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(r[k].ljust(w) for k, w in zip(keys, widths)).rstrip())
    for note in notes:
        print(f"  note: {note}")
