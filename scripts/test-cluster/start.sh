#!/usr/bin/env bash
# start.sh STATE_DIR: starts a real, loopback-only Kubernetes control plane for sailplan's real-cluster
# tests and prints the admin kubeconfig path as the LAST line of stdout (logging goes to stderr).
#
# Why it exists: the real-cluster test tier (ARCHITECTURE.md section 7) needs a real API server with real
# admission, RBAC and controllers, and pods that become Ready, on a machine without Docker. This script
# runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (fake nodes that move pods
# through their lifecycle) as plain processes on free 127.0.0.1 ports, using the binaries from build.sh.
#
# What it sets up:
#   - a CA, the API server's serving certificate, client certificates (admin in group system:masters,
#     system:kube-controller-manager, system:kube-scheduler, kwok), a service-account signing key and a
#     serving certificate for 127.0.0.1 for the stand-in injector (pki/stand-in-injector.{crt,key}; see
#     stand-in-injector/ and stand-in-smoke.sh), all generated with openssl into STATE_DIR/pki
#   - etcd (data in STATE_DIR/etcd-data), kube-apiserver (TLS, Node,RBAC authorization, default admission
#     plugins including the webhook ones, service-account issuer, service CIDR), kube-controller-manager
#     (default controllers, --use-service-account-credentials, no leader election), kube-scheduler, kwok
#     (stages from kwok.yaml next to this script; see that file for making pods NotReady or fail)
#   - the stand-in for istiod's webhook server (stand-in-injector --proxy-listen): kube-apiserver's
#     webhook calls to Services go through it as an HTTPS proxy (see stand-in-injector/proxy.go)
#   - $SAILPLAN_KWOK_NODES fake nodes (kwok-node-0, ...), waited on until Ready and untainted
#   - waits for /readyz, controller-manager and scheduler /healthz, and the default ServiceAccount
#
# Outputs in STATE_DIR:
#   kubeconfig   admin kubeconfig (server https://127.0.0.1:PORT, CA and client cert embedded)
#   cluster.env  KEY=VALUE lines: SAILPLAN_TEST_BIN, KUBECONFIG, ports, CIDRs (for tests and humans)
#   pids         "name pid" per started process (read by stop.sh)
#   logs/        one log per component
#
# Environment:
#   SAILPLAN_TEST_BIN       use this bin dir instead of running build.sh
#   SAILPLAN_KWOK_NODES     number of fake nodes (default 1)
#   SAILPLAN_START_TIMEOUT  seconds to wait for each readiness step (default 120)
#   SAILPLAN_SERVICE_CIDR   service cluster IP range (default 10.96.0.0/16)
#   SAILPLAN_ADVERTISE_ADDRESS  kube-apiserver --advertise-address (default: its own choice, the host's
#                           default-route address; only recorded in the `kubernetes` Service endpoints)
#   SAILPLAN_OWNER_PID      if set, a watchdog runs stop.sh when this process exits (use the test
#                           process's PID so a crashed or killed test run does not leave a cluster behind)
# plus those of build.sh. The processes outlive this script: always pair it with stop.sh STATE_DIR.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAILPLAN_LOG_TAG=start
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

[ "$#" -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
mkdir -p "$1"
STATE="$(cd "$1" && pwd -P)"
PKI="$STATE/pki"
LOGS="$STATE/logs"
NODES="${SAILPLAN_KWOK_NODES:-1}"
TIMEOUT="${SAILPLAN_START_TIMEOUT:-120}"
SERVICE_CIDR="${SAILPLAN_SERVICE_CIDR:-10.96.0.0/16}"
# The address written into the `kubernetes` Service's endpoints (nothing connects to it here). Empty
# means kube-apiserver's default: the host's default-route address. Set it on hosts without one.
ADVERTISE="${SAILPLAN_ADVERTISE_ADDRESS:-}"
CLUSTER_NAME=sailplan-test

case "$NODES" in '' | *[!0-9]*) die "SAILPLAN_KWOK_NODES must be a number (got '$NODES')" ;; esac
[ "$NODES" -ge 1 ] || die "SAILPLAN_KWOK_NODES must be at least 1"

# One start/stop at a time per state directory. fd 8 is closed for every child process (8>&-) so the
# long-running components do not keep holding the lock.
exec 8>"$STATE/.lock"
flock -n 8 || die "another start.sh or stop.sh is running on $STATE"

# Refuse to start over a cluster that is still running; clear the leftovers of one that is not.
if [ -f "$STATE/pids" ]; then
    running=()
    while read -r name pid; do
        if pid_is_ours "$pid" "$STATE"; then running+=("$name=$pid"); fi
    done <"$STATE/pids"
    if [ "${#running[@]}" -gt 0 ]; then
        die "a cluster is already running in $STATE (${running[*]}); stop it first: $SCRIPT_DIR/stop.sh $STATE"
    fi
    log "clearing state of a previous cluster in $STATE (none of its processes is running)"
fi
rm -rf "$STATE/etcd-data" "$PKI" "$STATE/kwok" "$LOGS" "$STATE/kubeconfig" "$STATE/cluster.env" "$STATE/pids"
mkdir -p "$PKI" "$LOGS" "$STATE/kwok"

# --- binaries ---
if [ -n "${SAILPLAN_TEST_BIN:-}" ]; then
    BIN="$SAILPLAN_TEST_BIN"
else
    BIN="$("$SCRIPT_DIR/build.sh" | tail -n 1)"
fi
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing; run $SCRIPT_DIR/build.sh"
done
need_cmd openssl openssl
KUBECTL=("$BIN/kubectl" --kubeconfig "$STATE/kubeconfig")

# --- cleanup on failure: stop whatever this run started ---
STARTED_OK=0
on_exit() {
    local rc=$?
    if [ "$STARTED_OK" -ne 1 ]; then
        log "start failed (exit $rc); stopping what was started. Logs: $LOGS"
        exec 8>&- # release the state lock so stop.sh can take it
        "$SCRIPT_DIR/stop.sh" "$STATE" >&2 || true
    fi
}
trap on_exit EXIT

# --- free loopback ports ---
# Ports in use are read from /proc/net/tcp{,6} (no ss/netstat needed); candidates come from 10000-31999,
# below the kernel's default ephemeral range so outgoing connections do not collide with them.
used_ports() {
    local f sl local_addr rest
    for f in /proc/net/tcp /proc/net/tcp6; do
        [ -r "$f" ] || continue
        while read -r sl local_addr rest; do
            [ "$sl" = "sl" ] && continue
            printf '%d\n' "$((16#${local_addr##*:}))"
        done <"$f"
    done
}
USED=" $(used_ports | sort -un | tr '\n' ' ') "
pick_port() {
    local p tries=0
    while :; do
        p=$((10000 + RANDOM % 22000))
        case "$USED" in *" $p "*) ;; *)
            USED+="$p "
            printf '%s\n' "$p"
            return 0
            ;;
        esac
        tries=$((tries + 1))
        [ "$tries" -lt 1000 ] || die "no free port found"
    done
}
ETCD_PORT="$(pick_port)"
ETCD_PEER_PORT="$(pick_port)"
API_PORT="$(pick_port)"
KCM_PORT="$(pick_port)"
SCHED_PORT="$(pick_port)"
log "ports: etcd=$ETCD_PORT etcd-peer=$ETCD_PEER_PORT apiserver=$API_PORT controller-manager=$KCM_PORT scheduler=$SCHED_PORT"

# --- PKI ---
# The first address of the service range is the `kubernetes` Service's ClusterIP; it goes in the SANs.
svc_first_ip() {
    local net="${SERVICE_CIDR%/*}" a b c d
    IFS=. read -r a b c d <<<"$net"
    printf '%s.%s.%s.%s\n' "$a" "$b" "$c" "$((d + 1))"
}
cat >"$PKI/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:$(svc_first_ip),DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
[stand_in_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:127.0.0.1,DNS:localhost
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
# RSA everywhere: the most widely accepted key type (Go, rustls, OpenSSL clients alike).
gen_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
# issue NAME SUBJECT EXTENSION_SECTION: key + certificate signed by the test CA, valid for a year.
issue() {
    gen_key "$PKI/$1.key"
    openssl req -new -config "$PKI/openssl.cnf" -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr"
    openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days 365 \
        -extfile "$PKI/openssl.cnf" -extensions "$3" -out "$PKI/$1.crt" 2>/dev/null
    rm -f "$PKI/$1.csr"
}
log "generating certificates"
gen_key "$PKI/ca.key"
openssl req -x509 -new -config "$PKI/openssl.cnf" -extensions ca_ext -key "$PKI/ca.key" \
    -subj "/CN=sailplan-test-ca" -days 365 -out "$PKI/ca.crt"
issue serving "/CN=sailplan-test-apiserver" server_ext
issue admin "/O=system:masters/CN=sailplan-test-admin" client_ext
issue controller-manager "/CN=system:kube-controller-manager" client_ext
issue scheduler "/CN=system:kube-scheduler" client_ext
issue kwok "/O=system:masters/CN=kwok" client_ext
# For the stand-in sidecar injector the tests may run (stand-in-injector/): the API server calls webhooks
# at https://127.0.0.1:PORT and verifies them against ca.crt, the caBundle of the webhook configuration.
issue stand-in-injector "/CN=sailplan-test-stand-in-injector" stand_in_ext
# Front proxy (request-header authentication): its own CA, as in kubeadm clusters. It fills the
# requestheader part of kube-system/extension-apiserver-authentication, which the controller-manager and
# scheduler read, and lets aggregated API servers (APIService) work.
gen_key "$PKI/front-proxy-ca.key"
openssl req -x509 -new -config "$PKI/openssl.cnf" -extensions ca_ext -key "$PKI/front-proxy-ca.key" \
    -subj "/CN=sailplan-test-front-proxy-ca" -days 365 -out "$PKI/front-proxy-ca.crt"
gen_key "$PKI/front-proxy-client.key"
openssl req -new -config "$PKI/openssl.cnf" -key "$PKI/front-proxy-client.key" \
    -subj "/CN=front-proxy-client" -out "$PKI/front-proxy-client.csr"
openssl x509 -req -in "$PKI/front-proxy-client.csr" -CA "$PKI/front-proxy-ca.crt" \
    -CAkey "$PKI/front-proxy-ca.key" -set_serial "0x$(openssl rand -hex 16)" -days 365 \
    -extfile "$PKI/openssl.cnf" -extensions client_ext -out "$PKI/front-proxy-client.crt" 2>/dev/null
rm -f "$PKI/front-proxy-client.csr"
gen_key "$PKI/sa.key"
openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
chmod 600 "$PKI"/*.key

# write_kubeconfig FILE CERT_NAME USER: a kubeconfig with everything embedded (self-contained file).
write_kubeconfig() {
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $3
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$2.crt")
    client-key-data: $(base64 -w0 <"$PKI/$2.key")
contexts:
- name: $CLUSTER_NAME
  context:
    cluster: $CLUSTER_NAME
    user: $3
current-context: $CLUSTER_NAME
EOF
    chmod 600 "$1"
}
write_kubeconfig "$STATE/kubeconfig" admin sailplan-test-admin
write_kubeconfig "$PKI/controller-manager.kubeconfig" controller-manager system:kube-controller-manager
write_kubeconfig "$PKI/scheduler.kubeconfig" scheduler system:kube-scheduler
write_kubeconfig "$PKI/kwok.kubeconfig" kwok kwok

# --- process helpers ---
# launch NAME COMMAND...: runs the command in the background with its output in logs/NAME.log and
# records its PID. stdin/stdout/stderr are detached so callers capturing start.sh's output do not hang.
launch() {
    local name="$1"
    shift
    "$@" </dev/null >"$LOGS/$name.log" 2>&1 8>&- &
    printf '%s %s\n' "$name" "$!" >>"$STATE/pids"
    eval "PID_${name//-/_}=$!"
}

# wait_until WHAT PROCESS_NAME COMMAND...: retries COMMAND every 0.5s until it succeeds, failing early if
# the named process died, or after $TIMEOUT seconds.
wait_until() {
    local what="$1" proc="$2" deadline=$((SECONDS + TIMEOUT)) pidvar
    shift 2
    pidvar="PID_${proc//-/_}"
    until "$@" >/dev/null 2>&1; do
        if [ -n "$proc" ] && ! kill -0 "${!pidvar}" 2>/dev/null; then
            log "$proc exited; last lines of $LOGS/$proc.log:"
            tail -n 30 "$LOGS/$proc.log" >&2 || true
            die "$proc died while waiting for $what"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            [ -n "$proc" ] && tail -n 30 "$LOGS/$proc.log" >&2
            die "timed out after ${TIMEOUT}s waiting for $what"
        fi
        sleep 0.5
    done
    log "ready: $what"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
raw_ok() { [ "$("${KUBECTL[@]}" "$@" 2>/dev/null)" = ok ]; }

# --- etcd ---
launch etcd "$BIN/etcd" \
    --name "$CLUSTER_NAME" \
    --data-dir "$STATE/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$CLUSTER_NAME=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state new \
    --logger zap --log-outputs stderr
wait_until "etcd on 127.0.0.1:$ETCD_PORT" etcd port_open "$ETCD_PORT"

# --- the stand-in for istiod's webhook server (stand-in-injector/proxy.go) ---
# kwok's pods serve nothing, so webhook calls to a Service (Istio's webhooks all name one) reach this
# proxy instead: kube-apiserver sends them through HTTPS_PROXY, and the stand-in answers for the pods
# behind the Service while it has ready endpoints. kube-apiserver trusts the test CA that signs the
# stand-in's certificates through SSL_CERT_FILE, as it would trust the caBundle istiod patches in.
rm -f "$STATE/stand-in-proxy.addr"
launch stand-in-proxy "$BIN/stand-in-injector" \
    --proxy-listen 127.0.0.1:0 --addr-file "$STATE/stand-in-proxy.addr" \
    --ca-file "$PKI/ca.crt" --ca-key "$PKI/ca.key" \
    --api-server "https://127.0.0.1:$API_PORT" \
    --client-cert "$PKI/admin.crt" --client-key "$PKI/admin.key"
wait_until "the stand-in webhook proxy" stand-in-proxy test -s "$STATE/stand-in-proxy.addr"
STAND_IN_PROXY="$(cat "$STATE/stand-in-proxy.addr")"

# --- kube-apiserver ---
launch kube-apiserver env HTTPS_PROXY="http://$STAND_IN_PROXY" NO_PROXY=127.0.0.1,localhost \
    SSL_CERT_FILE="$PKI/ca.crt" "$BIN/kube-apiserver" \
    --bind-address=127.0.0.1 \
    --secure-port="$API_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$PKI/serving.crt" \
    --tls-private-key-file="$PKI/serving.key" \
    --client-ca-file="$PKI/ca.crt" \
    --cert-dir="$PKI/apiserver-generated" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
    --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --allow-privileged=true \
    --profiling=false \
    ${ADVERTISE:+"--advertise-address=$ADVERTISE"}
wait_until "kube-apiserver /readyz on https://127.0.0.1:$API_PORT" kube-apiserver raw_ok get --raw /readyz

# --- kube-controller-manager and kube-scheduler ---
launch kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$PKI/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$PKI/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$PKI/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$KCM_PORT" \
    --tls-cert-file="$PKI/serving.crt" \
    --tls-private-key-file="$PKI/serving.key" \
    --cert-dir="$PKI/controller-manager-generated" \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" \
    --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=true \
    --leader-elect=false \
    --controllers='*' \
    --cluster-name="$CLUSTER_NAME" \
    --profiling=false
launch kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$PKI/scheduler.kubeconfig" \
    --authentication-kubeconfig="$PKI/scheduler.kubeconfig" \
    --authorization-kubeconfig="$PKI/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$SCHED_PORT" \
    --tls-cert-file="$PKI/serving.crt" \
    --tls-private-key-file="$PKI/serving.key" \
    --cert-dir="$PKI/scheduler-generated" \
    --leader-elect=false \
    --profiling=false

# --- kwok ---
# HOME and KWOK_WORKDIR point into STATE_DIR so a developer's ~/.kwok/kwok.yaml is never picked up.
cp "$SCRIPT_DIR/kwok.yaml" "$STATE/kwok/kwok.yaml"
launch kwok env HOME="$STATE/kwok" KWOK_WORKDIR="$STATE/kwok" "$BIN/kwok" \
    --kubeconfig="$PKI/kwok.kubeconfig" \
    --config="$STATE/kwok/kwok.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=10.245.0.1

wait_until "kube-controller-manager /healthz" kube-controller-manager \
    raw_ok --server "https://127.0.0.1:$KCM_PORT" get --raw /healthz
wait_until "kube-scheduler /healthz" kube-scheduler \
    raw_ok --server "https://127.0.0.1:$SCHED_PORT" get --raw /healthz

# --- fake nodes ---
nodes_yaml() {
    local i
    for ((i = 0; i < NODES; i++)); do
        cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    node.kubernetes.io/instance-type: kwok
    type: kwok
EOF
    done
}
nodes_yaml | "${KUBECTL[@]}" apply -f - >&2
nodes_ready() {
    local i taints
    for ((i = 0; i < NODES; i++)); do
        [ "$("${KUBECTL[@]}" get node "kwok-node-$i" \
            -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ] || return 1
        # node.kubernetes.io/not-ready is removed by the node lifecycle controller once the node is Ready.
        taints="$("${KUBECTL[@]}" get node "kwok-node-$i" -o 'jsonpath={.spec.taints}')"
        [ -z "$taints" ] || return 1
    done
}
wait_until "$NODES kwok node(s) Ready without taints" kwok nodes_ready
wait_until "ServiceAccount default/default" kube-controller-manager \
    "${KUBECTL[@]}" -n default get serviceaccount default

# --- optional watchdog tied to the caller's lifetime ---
if [ -n "${SAILPLAN_OWNER_PID:-}" ]; then
    kill -0 "$SAILPLAN_OWNER_PID" 2>/dev/null || die "SAILPLAN_OWNER_PID=$SAILPLAN_OWNER_PID is not running"
    # shellcheck disable=SC2016 # the single-quoted script is expanded by the watchdog's own bash
    launch watchdog bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 2; done; exec "$2" "$3"' \
        watchdog "$SAILPLAN_OWNER_PID" "$SCRIPT_DIR/stop.sh" "$STATE"
    log "watchdog: stops the cluster when PID $SAILPLAN_OWNER_PID exits"
fi

cat >"$STATE/cluster.env" <<EOF
SAILPLAN_TEST_BIN=$BIN
KUBECONFIG=$STATE/kubeconfig
SAILPLAN_API_SERVER=https://127.0.0.1:$API_PORT
SAILPLAN_API_PORT=$API_PORT
SAILPLAN_ETCD_PORT=$ETCD_PORT
SAILPLAN_ETCD_PEER_PORT=$ETCD_PEER_PORT
SAILPLAN_KCM_PORT=$KCM_PORT
SAILPLAN_SCHEDULER_PORT=$SCHED_PORT
SAILPLAN_SERVICE_CIDR=$SERVICE_CIDR
SAILPLAN_POD_CIDR=10.244.0.0/16
SAILPLAN_KWOK_NODES=$NODES
SAILPLAN_STAND_IN_PROXY=$STAND_IN_PROXY
EOF
STARTED_OK=1
log "cluster up in ${SECONDS}s: KUBECONFIG=$STATE/kubeconfig; stop with $SCRIPT_DIR/stop.sh $STATE"
printf '%s\n' "$STATE/kubeconfig"
