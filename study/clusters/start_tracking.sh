#!/usr/bin/env bash
# Start the study's MLflow server on the head node, once (a second call finds it answering):
# bound to the node's private address, the one Ray uses, so workers reach it and nothing outside
# the cluster's network does (users reach the UI through an SSH tunnel; see docs/cluster.md), backed by
# PostgreSQL, with artifacts at a destination that outlives the cluster. Its URL is written to
# ~/mlflow-server.url, where study/clusters/submit_study.py reads it.
#
# Settings come from ~/study-tracking.env (copied by `ray up` from study/clusters/tracking.env):
#   MLFLOW_BACKEND_STORE_URI      postgresql://USER:PASSWORD@HOST:5432/DB; empty: a PostgreSQL on
#                                 this node (installed and created here; on-prem machines keep it)
#   MLFLOW_ARTIFACTS_DESTINATION  s3://BUCKET/PREFIX or a directory (default ~/mlartifacts)
#   MLFLOW_PORT                   default 5000
#   MLFLOW_WORKERS                the server's worker processes (default 4)
# STUDY_PYTHON is the python with this repository installed (default python3); STUDY_NODE_IP the
# address to bind (default: the node's address as Ray sees it).
set -euo pipefail
PYTHON="${STUDY_PYTHON:-python3}"
if [ -f "$HOME/study-tracking.env" ]; then set -a; . "$HOME/study-tracking.env"; set +a; fi
PORT="${MLFLOW_PORT:-5000}"
HOST="${STUDY_NODE_IP:-$("$PYTHON" -c 'import ray.util; print(ray.util.get_node_ip_address())')}"
URL="http://$HOST:$PORT"

answers() { "$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/health", timeout=3)' "$URL" 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if answers; then
  echo "$URL" > "$HOME/mlflow-server.url"
  echo "MLflow server already answers at $URL"
  exit 0
fi

if [ -z "${MLFLOW_BACKEND_STORE_URI:-}" ]; then  # a PostgreSQL on this node
  if ! command -v pg_ctlcluster >/dev/null; then
    as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
  fi
  as_root service postgresql start
  PASSFILE="$HOME/.study-mlflow-db-password"
  [ -s "$PASSFILE" ] || (umask 077; "$PYTHON" -c 'import secrets; print(secrets.token_hex(16))' > "$PASSFILE")
  PASSWORD="$(cat "$PASSFILE")"
  cd /tmp  # postgres cannot read the caller's home
  as_postgres psql -qtAc "select 1 from pg_roles where rolname = 'mlflow'" | grep -q 1 ||
    as_postgres psql -qc "create role mlflow login password '$PASSWORD'"
  as_postgres psql -qtAc "select 1 from pg_database where datname = 'mlflow'" | grep -q 1 ||
    as_postgres createdb -O mlflow mlflow
  cd - >/dev/null
  MLFLOW_BACKEND_STORE_URI="postgresql://mlflow:$PASSWORD@127.0.0.1:5432/mlflow"
fi
# in the environment, not on the command line, where every user's `ps` would show the password
export MLFLOW_BACKEND_STORE_URI
export MLFLOW_ARTIFACTS_DESTINATION="${MLFLOW_ARTIFACTS_DESTINATION:-$HOME/mlartifacts}"
# --allowed-hosts: the Host headers it serves: its own address (MLflow's default admits only
# loopback and RFC 1918 addresses, and answers 403 on any other node address) and loopback, where
# an SSH tunnel ends
nohup "$PYTHON" -m mlflow server --host "$HOST" --port "$PORT" --workers "${MLFLOW_WORKERS:-4}" \
  --allowed-hosts "$HOST:$PORT,$HOST,localhost:*,localhost,127.0.0.1:*,127.0.0.1" \
  > "$HOME/mlflow-server.log" 2>&1 < /dev/null &
for _ in $(seq 300); do
  if answers; then
    echo "$URL" > "$HOME/mlflow-server.url"
    echo "MLflow server answers at $URL (records: ${MLFLOW_BACKEND_STORE_URI%%:*}; artifacts: $MLFLOW_ARTIFACTS_DESTINATION)"
    exit 0
  fi
  sleep 1
done
echo "start_tracking.sh: the MLflow server did not answer at $URL; ~/mlflow-server.log ends with:" >&2
tail -n 20 "$HOME/mlflow-server.log" >&2
exit 1
