#!/usr/bin/env bash
# stop.sh [--purge] STATE_DIR: stops a test cluster started by start.sh STATE_DIR.
#
# Why it exists: the cluster's processes outlive start.sh, so something has to end them, and only them:
# this script signals exactly the PIDs start.sh recorded in STATE_DIR/pids (and only while their command
# line still names STATE_DIR, so a reused PID is never hit). Clients go first (watchdog, kwok, scheduler,
# controller-manager, API server), etcd last; each gets SIGTERM, then SIGKILL after a grace period, and
# the script waits until they are gone. Safe to run twice or on a directory with nothing running.
#
# Logs (STATE_DIR/logs), certificates and etcd data are kept for post-mortems unless --purge is given,
# which removes everything start.sh created in STATE_DIR (and STATE_DIR itself when it is then empty).
#
# Environment: SAILPLAN_STOP_GRACE  seconds between SIGTERM and SIGKILL (default 15)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAILPLAN_LOG_TAG=stop
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

PURGE=0
STATE_ARG=""
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        -*) echo "usage: $0 [--purge] STATE_DIR" >&2; exit 2 ;;
        *) [ -z "$STATE_ARG" ] || { echo "usage: $0 [--purge] STATE_DIR" >&2; exit 2; }
           STATE_ARG="$arg" ;;
    esac
done
[ -n "$STATE_ARG" ] || { echo "usage: $0 [--purge] STATE_DIR" >&2; exit 2; }
if [ ! -d "$STATE_ARG" ]; then
    log "$STATE_ARG does not exist; nothing to stop"
    exit 0
fi
STATE="$(cd "$STATE_ARG" && pwd -P)"
GRACE="${SAILPLAN_STOP_GRACE:-15}"

exec 8>"$STATE/.lock"
flock -w 60 8 || die "timed out waiting for the lock on $STATE (is start.sh still running?)"

# alive PID...: prints the PIDs (of those given) that are still our processes.
alive() {
    local pid
    for pid in "$@"; do
        if pid_is_ours "$pid" "$STATE"; then printf '%s\n' "$pid"; fi
    done
}

# stop_group NAME=PID...: SIGTERM, wait up to $GRACE s, SIGKILL, wait again.
stop_group() {
    local entry name pid deadline
    local -a pids=() left=()
    for entry in "$@"; do
        name="${entry%%=*}"
        pid="${entry#*=}"
        if pid_is_ours "$pid" "$STATE"; then
            log "SIGTERM $name ($pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    [ "${#pids[@]}" -gt 0 ] || return 0
    deadline=$((SECONDS + GRACE))
    while :; do
        mapfile -t left < <(alive "${pids[@]}")
        [ "${#left[@]}" -gt 0 ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.2
    done
    log "still running after ${GRACE}s, SIGKILL: ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while :; do
        mapfile -t left < <(alive "${left[@]}")
        [ "${#left[@]}" -gt 0 ] || return 0
        [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.2
    done
    log "ERROR: could not stop: ${left[*]}"
    return 1
}

rc=0
if [ -f "$STATE/pids" ]; then
    clients=()
    servers=()
    # Reverse start order: the last started stops first. Never signal ourselves (the watchdog execs
    # this script, keeping its PID).
    while read -r name pid; do
        if [ -z "$pid" ] || [ "$pid" = "$$" ]; then continue; fi
        case "$name" in
            etcd) servers=("$name=$pid" "${servers[@]}") ;;
            *) clients=("$name=$pid" "${clients[@]}") ;;
        esac
    done <"$STATE/pids"
    stop_group "${clients[@]}" || rc=1
    stop_group "${servers[@]}" || rc=1
    if [ "$rc" -eq 0 ]; then
        rm -f "$STATE/pids"
        log "cluster in $STATE stopped"
    fi
else
    log "no $STATE/pids; nothing to stop"
fi

if [ "$PURGE" -eq 1 ] && [ "$rc" -eq 0 ]; then
    rm -rf "$STATE/etcd-data" "$STATE/pki" "$STATE/kwok" "$STATE/logs" \
        "$STATE/kubeconfig" "$STATE/cluster.env" "$STATE/pids" "$STATE/.lock"
    rmdir "$STATE" 2>/dev/null || true
    log "purged $STATE"
fi
exit "$rc"
