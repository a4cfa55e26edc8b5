#!/bin/sh
# The multi-node layout of compose.yaml on one machine, from Debian packages and moto, all on loopback:
#
#   Caddy :CLUSTER_PORT  ->  gateway node a :NODE_A_PORT, gateway node b :NODE_B_PORT  (health-checked)
#   both nodes share     ->  PostgreSQL (accounts), redis-server (limits, usage), moto (the S3 result store)
#
#   config/deploy/local-cluster.sh start    # starts everything, seeds the demo workspace, waits for Caddy
#   config/deploy/local-cluster.sh status   # which parts run
#   config/deploy/local-cluster.sh stop     # stops everything it started
#
# Needs: caddy, redis-server (Debian packages), a PostgreSQL server reachable with DATABASE_URL (the
# database is created if it is missing), and the project's virtualenv (imgate, and moto for the bucket).
# Everything is set by environment variables (defaults in brackets):
#   CLUSTER_DIR [var/cluster]   pid files, logs, the nodes' data folders
#   CLUSTER_PORT [8080]  NODE_A_PORT [8081]  NODE_B_PORT [8082]  REDIS_PORT [6390]  MOTO_PORT [5390]
#   DATABASE_URL [host=127.0.0.1 port=5432 user=postgres dbname=imgate_cluster]
#   VENV [.venv]   the virtualenv holding imgate and moto_server
#   IMGATE_* settings are passed on to both nodes (for instance IMGATE_WORKERS, IMGATE_TRANSFORM_THREADS).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CLUSTER_DIR=${CLUSTER_DIR:-$REPO/var/cluster}
CLUSTER_PORT=${CLUSTER_PORT:-8080}
NODE_A_PORT=${NODE_A_PORT:-8081}
NODE_B_PORT=${NODE_B_PORT:-8082}
REDIS_PORT=${REDIS_PORT:-6390}
MOTO_PORT=${MOTO_PORT:-5390}
DATABASE_URL=${DATABASE_URL:-host=127.0.0.1 port=5432 user=postgres dbname=imgate_cluster}
VENV=${VENV:-$REPO/.venv}
BUCKET=imgate-results
PARTS="caddy node-b node-a moto redis"

say() { printf '%s\n' "local-cluster: $*" >&2; }

# Run a part in a session of its own (its pid is its process group), logging to CLUSTER_DIR/NAME.log.
launch() {
	name=$1
	shift
	setsid "$@" >"$CLUSTER_DIR/$name.log" 2>&1 </dev/null &
	echo $! >"$CLUSTER_DIR/$name.pid"
}

running() {
	[ -f "$CLUSTER_DIR/$1.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/$1.pid")" 2>/dev/null
}

# Wait until URL answers 200 (curl), or fail naming the part and the end of its log.
wait_http() {
	name=$1 url=$2 tries=0
	until curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -gt 300 ] || ! running "$name"; then
			say "$name did not come up; the end of its log:"
			tail -n 20 "$CLUSTER_DIR/$name.log" >&2 || true
			exit 1
		fi
		sleep 0.1
	done
}

wait_redis() {
	tries=0
	until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
		tries=$((tries + 1))
		[ "$tries" -gt 100 ] && { say "redis did not come up"; exit 1; }
		sleep 0.1
	done
}

node_env() {
	# The settings both nodes share; each node differs only in its port and its data folder.
	export IMGATE_ACCOUNT_STORE=postgres
	export IMGATE_DATABASE_URL="$DATABASE_URL"
	export IMGATE_SECRET_KEY
	IMGATE_SECRET_KEY=$(cat "$CLUSTER_DIR/secret_key")
	export IMGATE_RESULT_STORE=s3
	export IMGATE_RESULT_S3_BUCKET=$BUCKET
	export IMGATE_RESULT_S3_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
	export IMGATE_RESULT_S3_ACCESS_KEY_ID=${IMGATE_RESULT_S3_ACCESS_KEY_ID:-cluster-rehearsal}
	export IMGATE_RESULT_S3_SECRET_ACCESS_KEY=${IMGATE_RESULT_S3_SECRET_ACCESS_KEY:-cluster-rehearsal-secret}
	export IMGATE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
	export IMGATE_LIMITER=${IMGATE_LIMITER:-redis}
	export IMGATE_USAGE_STORE=redis
	export IMGATE_HOST=127.0.0.1
	# Caddy is the proxy in front: believe its X-Forwarded-For, let it ask about certificates.
	export IMGATE_TRUSTED_PROXIES=127.0.0.1/32
	export IMGATE_TLS_ASK_NETWORKS=127.0.0.1/32
}

create_database() {
	"$VENV/bin/python" - "$DATABASE_URL" <<'EOF'
import sys

import psycopg
from psycopg import conninfo, sql

target = conninfo.conninfo_to_dict(sys.argv[1])
name = str(target.pop("dbname", "imgate_cluster"))
with psycopg.connect(conninfo.make_conninfo(**target, dbname="postgres"), autocommit=True) as admin:
    if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
EOF
}

create_bucket() {
	# moto takes an unsigned request; against MinIO or S3 create the bucket with their own tools.
	curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$MOTO_PORT/$BUCKET"
}

start() {
	mkdir -p "$CLUSTER_DIR/a" "$CLUSTER_DIR/b"
	for part in $PARTS; do
		if running "$part"; then
			say "$part is running already: stop first"
			exit 1
		fi
	done
	[ -f "$CLUSTER_DIR/secret_key" ] || "$VENV/bin/python" -c \
		'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' >"$CLUSTER_DIR/secret_key"
	chmod 600 "$CLUSTER_DIR/secret_key"

	launch redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$CLUSTER_DIR"
	launch moto "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
	wait_redis
	wait_http moto "http://127.0.0.1:$MOTO_PORT/moto-api/"
	create_bucket
	create_database

	node_env
	# The same workspace on every node, written once to the shared store.
	IMGATE_DATA_DIR="$CLUSTER_DIR/a" "$VENV/bin/imgate" demo >"$CLUSTER_DIR/demo.txt"
	launch node-a env IMGATE_DATA_DIR="$CLUSTER_DIR/a" IMGATE_PORT="$NODE_A_PORT" "$VENV/bin/imgate" serve
	launch node-b env IMGATE_DATA_DIR="$CLUSTER_DIR/b" IMGATE_PORT="$NODE_B_PORT" "$VENV/bin/imgate" serve
	wait_http node-a "http://127.0.0.1:$NODE_A_PORT/_/health"
	wait_http node-b "http://127.0.0.1:$NODE_B_PORT/_/health"

	launch caddy env CLUSTER_PORT="$CLUSTER_PORT" NODE_A="127.0.0.1:$NODE_A_PORT" NODE_B="127.0.0.1:$NODE_B_PORT" \
		caddy run --config "$HERE/Caddyfile.cluster" --adapter caddyfile
	wait_http caddy "http://127.0.0.1:$CLUSTER_PORT/_/health"
	say "up: http://127.0.0.1:$CLUSTER_PORT/demo/photo-kite.jpg?w=640 (nodes :$NODE_A_PORT and :$NODE_B_PORT)"
}

stop() {
	# Every part at once (SIGTERM to its process group: a node drains its requests), then whatever is left.
	pids=""
	for part in $PARTS; do
		if [ -f "$CLUSTER_DIR/$part.pid" ]; then
			pid=$(cat "$CLUSTER_DIR/$part.pid")
			kill -TERM "-$pid" 2>/dev/null || true
			pids="$pids $pid"
			rm -f "$CLUSTER_DIR/$part.pid"
		fi
	done
	tries=0
	for pid in $pids; do
		while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 100 ]; do
			tries=$((tries + 1))
			sleep 0.1
		done
		kill -KILL "-$pid" 2>/dev/null || true
	done
	say "stopped"
}

status() {
	for part in $PARTS; do
		if running "$part"; then echo "$part running"; else echo "$part stopped"; fi
	done
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*)
	echo "usage: $0 start|stop|status" >&2
	exit 2
	;;
esac
