"""``jiceng``: run, serve, migrate and operate the services.

    jiceng run [--demo]            migrate, declare topology, start every service (one process
                                   each), optionally load the demo county; Ctrl-C stops all
    jiceng serve NAME [NAME...]    run these services in this process (one container's command)
    jiceng migrate [NAME...]       bring databases to the newest migration
    jiceng topology                declare exchanges and queues of every installed service
    jiceng health                  call every service's health RPC
    jiceng dlq list QUEUE          the dead letters of a queue, one JSON line each (QUEUE: the
                                   consumer queue, or a partitioned subscription's name for the
                                   dead letters of all its partitions)
    jiceng dlq show QUEUE [N]      dead letter N (1: the oldest) in full: headers, error,
                                   traceback, body (--json: as one JSON object)
    jiceng dlq replay QUEUE --all|--limit N
                                   move dead letters back into their queue (same body, headers
                                   and event id; the attempt count starts again)
    jiceng dlq purge QUEUE [--yes] delete a queue's dead letters for good (asks first)
    jiceng new-service NAME        scaffold services/NAME (service, rules, models, schemas, its
                                   event contracts, first migration, tests) and add it to the
                                   config files, docker-compose.yml and the database init script
    jiceng revision NAME -m MSG    autogenerate NAME's next migration from its models
    jiceng prune [--keep-days N]   delete settled outbox rows, inbox claims and stored write-RPC
                                   replies older than N days
"""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from shared import config as config_module  # noqa: E402
from shared import db as db_module  # noqa: E402

log = logging.getLogger("jiceng")


def broker_problem(amqp_uri: str) -> str | None:
    from kombu import Connection
    try:
        with Connection(amqp_uri, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def no_broker_message(amqp_uri, problem):
    return (f"RabbitMQ is not reachable at {amqp_uri} ({problem}).\n"
            "Start one, then try again:\n"
            "  on this machine:   rabbitmq-server -detached   (Debian package rabbitmq-server)\n"
            "  with Docker:       docker compose up -d rabbitmq\n"
            "or point AMQP_URI at a running broker.")


def selected(names):
    """The named services' classes (all installed ones when ``names`` is empty), importing only
    those: a process serving one service does not carry the others' modules."""
    from shared import plugins
    if not names:
        return plugins.services()
    found = {name: plugins.service(name) for name in names}
    unknown = [name for name, cls in found.items() if cls is None]
    if unknown:
        raise SystemExit(f"unknown service(s) {', '.join(unknown)}; installed: "
                         f"{', '.join(plugins.installed_names())}")
    return found


def cmd_migrate(args, config):
    from shared import migrate
    for name, cls in selected(args.services).items():
        url = config_module.database_url(config, name)
        migrate.upgrade(cls, url)
        print(f"migrated {name}: {_safe_url(url)}")


def cmd_topology(args, config):
    from shared.bus.store import declare_all
    plan = declare_all(config)
    print(json.dumps(plan.names(), indent=2))


def cmd_health(args, config):
    from shared.bus.rpc import rpc_client
    failed = 0
    with rpc_client(config, timeout=args.timeout) as cluster:
        for name in selected(args.services):
            try:
                print(json.dumps(getattr(cluster, name).health(), ensure_ascii=False))
            except Exception as exc:
                failed += 1
                print(json.dumps({"service": name, "status": "down",
                                  "error": f"{type(exc).__name__}: {exc}"}))
    return 1 if failed else 0


def cmd_serve(args, config):
    from nameko.runners import ServiceRunner
    db_module.green_postgres()
    classes = selected(args.services)
    config = process_config(config, list(classes))
    runner = ServiceRunner(config)
    for cls in classes.values():
        runner.add_service(cls)

    shutdown = stop_once(runner)
    signal.signal(signal.SIGTERM, shutdown)
    freeze_startup_objects()
    runner.start()
    freeze_startup_objects()
    log.info("serving %s (pid %s)", ", ".join(classes), os.getpid())
    runnlet = eventlet.spawn(runner.wait)
    while True:
        try:
            runnlet.wait()
            return 0
        except KeyboardInterrupt:
            shutdown()


def freeze_startup_objects():
    """Leave the objects made so far (modules, mappers, schemas, URL maps: most of a service's
    heap) out of every later garbage collection. A full collection of them took 100-250 ms,
    during which a process answers nothing: the slowest hundredth of the gateway's requests
    were these pauses (``bench.http``). Called before the service starts (the one long
    collection, before it takes requests) and after (a short one, of what starting made)."""
    gc.collect()
    gc.freeze()


def stop_once(runner):
    """A handler for SIGTERM and Ctrl-C that stops ``runner`` on the first signal and ignores
    the repeats (orchestrators repeat SIGTERM; Ctrl-C reaches every process of the group):
    nameko stopping a container twice at once unregisters its RPC consumer twice, and the
    process then hangs or logs ``CRITICAL ... KeyError: <RpcConsumer>``."""
    stopping = []

    def stop(signum=None, frame=None):
        if stopping:
            log.info("already stopping; signal %s ignored", signum)
            return
        stopping.append(signum)
        eventlet.spawn_n(runner.stop)

    return stop


def process_config(config, names):
    """The config of a process serving ``names``: a single service's ``web_address`` (where
    its HTTP entrypoints listen) and ``max_workers`` override the shared values."""
    if len(names) != 1:
        return config
    section = config_module.service_section(config, names[0])
    overrides = {}
    if section.get("web_address"):
        overrides["WEB_SERVER_ADDRESS"] = section["web_address"]
    if section.get("max_workers"):
        overrides["max_workers"] = int(section["max_workers"])
    return {**config, **overrides}


def cmd_run(args, config):
    problem = broker_problem(config["AMQP_URI"])
    if problem:
        print(no_broker_message(config["AMQP_URI"], problem), file=sys.stderr)
        return 2
    args.services = args.services or []
    cmd_migrate(args, config)
    cmd_topology_quiet(config)
    if args.demo:
        load_demos(config, args.demo_scale)
    children = {}
    env = dict(os.environ, JICENG_CONFIG=os.path.abspath(args.config or _default_config()))
    for name in selected(args.services):
        children[name] = subprocess.Popen(
            [sys.executable, "-m", "shared.cli", "serve", name], env=env)
    stopping = {"flag": False}

    def stop_all(signum=None, frame=None):
        stopping["flag"] = True

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    try:
        _wait_healthy(config, list(children), children, stopping)
        if args.demo and not stopping["flag"]:
            load_live_demos(config, args.demo_scale)
        _print_table(config, children)
        while not stopping["flag"]:
            dead = [name for name, proc in children.items() if proc.poll() is not None]
            if dead:
                print(f"service(s) stopped unexpectedly: {', '.join(dead)}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        _stop_children(children)


def cmd_topology_quiet(config):
    from shared.bus.store import declare_all
    declare_all(config)


def load_demos(config, scale=1.0):
    """Run every service's ``load_demo(config, scale=...)`` hook once (each decides if it already
    ran)."""
    for name, cls in selected([]).items():
        loader = getattr(cls, "load_demo", None)
        if loader is not None:
            started = time.monotonic()
            summary = loader(config, scale=scale)
            if summary:
                print(f"demo data for {name} loaded in {time.monotonic() - started:.1f} s: "
                      f"{json.dumps(summary, ensure_ascii=False)}")


def load_live_demos(config, scale=1.0):
    """Run every service's ``load_demo_live(config, cluster, scale=...)`` hook once everything
    answers: for a service whose demo builds on other services' data (asked by RPC through
    ``cluster``, a ``rpc_client``). Each hook decides itself if it already ran."""
    from shared.bus.rpc import rpc_client
    with rpc_client(config, timeout=60) as cluster:
        for name, cls in selected([]).items():
            loader = getattr(cls, "load_demo_live", None)
            if loader is not None:
                started = time.monotonic()
                summary = loader(config, cluster, scale=scale)
                if summary:
                    print(f"demo data for {name} loaded in {time.monotonic() - started:.1f} s: "
                          f"{json.dumps(summary, ensure_ascii=False)}")


def _wait_healthy(config, names, children, stopping, deadline_seconds=60):
    from shared.bus.rpc import rpc_client
    pending = set(names)
    deadline = time.monotonic() + deadline_seconds
    with rpc_client(config, timeout=2) as cluster:
        while pending and not stopping["flag"] and time.monotonic() < deadline:
            for name in sorted(pending):
                if children[name].poll() is not None:
                    raise SystemExit(f"service {name} exited with code {children[name].returncode}")
                try:
                    getattr(cluster, name).health()
                    pending.discard(name)
                except Exception:
                    pass
            time.sleep(0.2)
    if pending and not stopping["flag"]:
        raise SystemExit(f"no health answer from {', '.join(sorted(pending))} in {deadline_seconds} s")


def _print_table(config, children):
    print("\nJiceng is running (Ctrl-C stops everything):")
    print(f"  broker: {_safe_url(config['AMQP_URI'])}")
    for name, proc in children.items():
        print(f"  {name:<10} pid {proc.pid:<7} database {_safe_url(config_module.database_url(config, name))}")
    print("  check:  .venv/bin/jiceng health\n", flush=True)


def _stop_children(children):
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def dlq_queues(config, queue) -> list[str]:
    """The consumer queues ``queue`` names: a partitioned subscription's name (its hash exchange)
    stands for all its partition queues."""
    from shared import plugins
    _, subscriptions = plugins.bus_participants(config)
    for spec in subscriptions:
        if spec.queue_name == queue and spec.partitions > 1:
            return spec.queue_names
    return [queue]


def cmd_dlq(args, config):
    from shared.bus import deadletters
    amqp_uri, queues = config["AMQP_URI"], dlq_queues(config, args.queue)
    if args.action == "list":
        for queue in queues:
            for item in deadletters.peek(amqp_uri, queue, args.limit):
                print(json.dumps({"queue": queue, **item}, ensure_ascii=False, default=str))
        return 0
    if args.action == "show":
        return _dlq_show(args, amqp_uri, queues)
    if args.action == "replay":
        if not args.all and args.limit is None:
            print("say which: --all (every dead letter of the queue) or --limit N (the oldest N)",
                  file=sys.stderr)
            return 2
        left = None if args.all else args.limit
        for queue in queues:
            moved = deadletters.replay(amqp_uri, queue, left)
            print(f"replayed {moved} message(s) from {queue}.dlq into {queue}")
            if left is not None:
                left -= moved
                if left <= 0:
                    break
        return 0
    return _dlq_purge(args, amqp_uri, queues)


def _dlq_show(args, amqp_uri, queues):
    from shared.bus import deadletters
    position = args.position
    if position < 1:
        print("N counts from 1 (the oldest dead letter)", file=sys.stderr)
        return 2
    for queue in queues:
        waiting = deadletters.count(amqp_uri, queue)
        if position <= waiting:
            letter = deadletters.show(amqp_uri, queue, position)
            if letter is not None:
                break
        position -= waiting
    else:
        print(f"no dead letter number {args.position} in {args.queue}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(letter, ensure_ascii=False, indent=2, default=str))
        return 0
    body = letter["body"]
    lines = [f"queue:      {letter['queue']}.dlq (dead letter {letter['position']})",
             f"message id: {letter['message_id']}",
             f"error:      {letter['error']}",
             f"attempt:    {letter['attempt']}",
             f"failed at:  {letter['failed_at']}",
             f"content:    {letter['content_type']} ({letter['content_encoding']}), "
             f"{letter['body_bytes']} bytes",
             "properties:", *(f"  {k}: {v}" for k, v in sorted(letter["properties"].items())),
             "headers:", *(f"  {k}: {v}" for k, v in sorted(letter["headers"].items())),
             "traceback:", *(f"  {line}" for line in (letter["traceback"] or "(none)").splitlines()),
             "body:", body if isinstance(body, str) else
             json.dumps(body, ensure_ascii=False, indent=2, default=str)]
    print("\n".join(lines))
    return 0


def _dlq_purge(args, amqp_uri, queues):
    from shared.bus import deadletters
    waiting = {queue: deadletters.count(amqp_uri, queue) for queue in queues}
    total = sum(waiting.values())
    if not total:
        print(f"no dead letters in {args.queue}")
        return 0
    if not args.yes:
        where = ", ".join(f"{queue}.dlq ({n})" for queue, n in waiting.items() if n)
        try:
            answer = input(f"Delete {total} dead letter(s) for good: {where}? Type yes: ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing purged")
            return 1
    for queue in queues:
        purged = deadletters.purge(amqp_uri, queue)
        print(f"purged {purged} message(s) from {queue}.dlq")
    return 0


def cmd_prune(args, config):
    from shared.bus.housekeeping import prune
    for name, cls in selected(args.services).items():
        store = getattr(cls, "store", None)
        if store is None:
            continue
        database = db_module.database(config_module.database_url(config, name))
        result = prune(database, store.outbox_table, store.inbox_table, args.keep_days,
                       store.requests_table)
        print(json.dumps({"service": name, **result}))


def cmd_new_service(args, config):
    from shared import migrate, scaffold
    root = config_module.ROOT
    try:
        written = scaffold.create(root, args.name)
    except (scaffold.ScaffoldError, scaffold.wiring.WiringError) as exc:
        print(f"new-service: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"  wrote {path}")
    for path in migrate.new_revision(service_class(args.name), "initial tables"):
        print(f"  wrote {os.path.relpath(path, root)}")
    print("\n" + scaffold.next_steps(args.name))
    return 0


def cmd_revision(args, config):
    from shared import migrate
    written = migrate.new_revision(service_class(args.name), args.message)
    if not written:
        print(f"{args.name}: the models match the newest migration; nothing written")
    for path in written:
        print(f"wrote {os.path.relpath(path, config_module.ROOT)} (read it before committing)")
    return 0


def service_class(name):
    """An installed service's class, or the one in ``services/NAME/service.py`` of this checkout
    (a service scaffolded a moment ago and not installed yet)."""
    from shared import plugins
    installed = plugins.service(name)
    if installed is not None:
        return installed
    try:
        return plugins.from_folder(name, config_module.ROOT)
    except plugins.PluginError as exc:
        raise SystemExit(str(exc)) from None


def _safe_url(url):
    import re
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _default_config():
    return os.environ.get("JICENG_CONFIG") or str(config_module.ROOT / "config" / "dev.yaml")


def parser():
    p = argparse.ArgumentParser(prog="jiceng", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML config (default $JICENG_CONFIG or config/dev.yaml)")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("services", nargs="*")
    run.add_argument("--demo", action="store_true", help="load the demo county if not loaded")
    run.add_argument("--demo-scale", type=float, default=1.0,
                     help="size of the demo county (1.0 = the article's county)")
    run.add_argument("--config", dest="sub_config")
    serve = sub.add_parser("serve")
    serve.add_argument("services", nargs="+")
    serve.add_argument("--config", dest="sub_config")
    for name in ("migrate", "health"):
        cmd = sub.add_parser(name)
        cmd.add_argument("services", nargs="*")
        cmd.add_argument("--config", dest="sub_config")
        if name == "health":
            cmd.add_argument("--timeout", type=float, default=5)
    topo = sub.add_parser("topology")
    topo.add_argument("--config", dest="sub_config")
    prune_cmd = sub.add_parser("prune")
    prune_cmd.add_argument("services", nargs="*")
    prune_cmd.add_argument("--keep-days", type=int, default=30)
    prune_cmd.add_argument("--config", dest="sub_config")
    new_service = sub.add_parser("new-service")
    new_service.add_argument("name", help="lowercase letters and digits, e.g. affairs")
    new_service.add_argument("--config", dest="sub_config")
    revision = sub.add_parser("revision")
    revision.add_argument("name")
    revision.add_argument("-m", "--message", required=True, help="what changed, in a few words")
    revision.add_argument("--config", dest="sub_config")
    dlq = sub.add_parser("dlq")
    dlq_actions = dlq.add_subparsers(dest="action", required=True)
    for action in ("list", "show", "replay", "purge"):
        cmd = dlq_actions.add_parser(action)
        cmd.add_argument("queue", help="the consumer queue, e.g. evt-members-activity_recorded--"
                         "stars.on_activity, or a partitioned subscription (all its .p<i> queues)")
        cmd.add_argument("--config", dest="sub_config")
        if action == "list":
            cmd.add_argument("--limit", type=int, default=100)
        elif action == "show":
            cmd.add_argument("position", nargs="?", type=int, default=1,
                             help="which dead letter, 1 (the oldest) by default")
            cmd.add_argument("--json", action="store_true", help="print one JSON object")
        elif action == "replay":
            which = cmd.add_mutually_exclusive_group()
            which.add_argument("--all", action="store_true",
                               help="every dead letter there when the replay starts")
            which.add_argument("--limit", type=int, help="the oldest N")
        else:
            cmd.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    return p


COMMANDS = {"run": cmd_run, "serve": cmd_serve, "migrate": cmd_migrate, "topology": cmd_topology,
            "health": cmd_health, "dlq": cmd_dlq, "prune": cmd_prune,
            "new-service": cmd_new_service, "revision": cmd_revision}


def main(argv=None):
    args = parser().parse_args(argv)
    args.config = getattr(args, "sub_config", None) or args.config
    config = config_module.load(args.config)
    from shared import logs
    logs.configure(config)    # config `logging: {format, level}`; LOG_FORMAT / LOG_LEVEL win
    return COMMANDS[args.command](args, config) or 0


if __name__ == "__main__":
    sys.exit(main())
