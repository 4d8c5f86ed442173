#!/usr/bin/env bash
# Start the local servers the tests use (RabbitMQ with management and the consistent-hash exchange,
# PostgreSQL, Redis) when they are not running, and install the Debian tools the tests call.
# Idempotent; needs root.
set -euo pipefail

say() { echo "[local-services] $*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done
  say "port $1 did not open"; return 1
}

apt_updated=0
need_apt() {
  if ! dpkg -s "$1" >/dev/null 2>&1; then
    [ $apt_updated = 1 ] || { apt-get update -qq; apt_updated=1; }
    say "installing $1"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
  fi
}

command -v rabbitmq-server >/dev/null || need_apt rabbitmq-server
command -v pg_ctlcluster >/dev/null || need_apt postgresql
command -v redis-server >/dev/null || need_apt redis-server
command -v docker-compose >/dev/null || need_apt docker-compose
command -v wrk >/dev/null || need_apt wrk   # make bench: HTTP load
# the gateway's browser tests (Selenium, headless): the browser, its matching driver, a CJK font
command -v chromium >/dev/null || need_apt chromium
command -v chromedriver >/dev/null || need_apt chromium-driver
need_apt fonts-wqy-zenhei

if ! port_open 5672; then
  say "starting RabbitMQ"
  rabbitmq-server -detached
  wait_port 5672
fi
if ! port_open 15672; then
  say "enabling the RabbitMQ management plugin"
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  wait_port 15672
fi
if ! rabbitmq-plugins -q is_enabled rabbitmq_consistent_hash_exchange >/dev/null 2>&1; then
  say "enabling the RabbitMQ consistent-hash exchange plugin (partitioned batch subscriptions)"
  rabbitmq-plugins enable rabbitmq_consistent_hash_exchange >/dev/null
fi
if ! port_open 5432; then
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  wait_port 5432
fi
if ! port_open 6379; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379
fi
say "RabbitMQ, PostgreSQL and Redis are up"
