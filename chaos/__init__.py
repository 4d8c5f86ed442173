"""``make chaos``: faults injected against real Jiceng processes, judged end to end.

Each row (``chaos.scenarios.ROWS``) gets a RabbitMQ vhost and two PostgreSQL databases of its
own (created and dropped by the suite), seeds a small county in members, starts ``jiceng serve
members`` and ``jiceng serve stars`` processes, records volunteer activities through members'
write RPCs (one idempotency key per logical request; clients retry after a timeout), injects its
fault, and waits until stars reflects every activity members holds. It then counts, from both
databases: requests sent, activities committed in members, those reflected exactly in stars,
lost, duplicated, and the catch-up time from the end of the fault (``chaos.check``). Any row
with something lost or duplicated, a member whose score differs from the sum of the points of
their activities that exist and are not revoked, or a request never answered fails the run.
"""
