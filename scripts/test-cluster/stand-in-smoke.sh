#!/usr/bin/env bash
# stand-in-smoke.sh STATE_DIR: checks, end to end on a running test cluster (start.sh STATE_DIR), that
# the stand-in sidecar injector (stand-in-injector/, built by build.sh) marks pods the way Istio's
# injector does. Exits non-zero on the first failed check; cleans up what it created either way.
#
# Why it exists: sailplan's real-cluster tests rely on the stand-in to produce "injected" pods; this
# tells a broken stand-in (or webhook plumbing) apart from a broken sailplan, like smoke.sh does for the
# cluster itself.
#
# Checks: the stand-in serves HTTPS with STATE_DIR/pki/stand-in-injector.crt; its printed
# MutatingWebhookConfiguration applies; in a namespace labelled istio.io/rev=1-6-14 a Deployment's pods
# get the istio-proxy container (image docker.io/istio/proxyv2:1.6.14), the istio-init init container,
# the injected volumes, the exact sidecar.istio.io/status annotation and the istio.io/rev,
# security.istio.io/tlsMode and service.istio.io/canonical-* labels, and kwok makes them Ready; a pod
# annotated sidecar.istio.io/inject=false and a namespace without the label are left alone; record=
# annotation (Istio 1.11+ style, server-side dry run) leaves out the label; SIGTERM stops the stand-in
# cleanly. Uses namespaces sp-stand-in-{rev,rev2,plain} and webhook configs sp-stand-in-smoke{,-2}.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAILPLAN_LOG_TAG=stand-in-smoke
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

[ "$#" -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
STATE="$(cd "$1" && pwd -P)"
[ -f "$STATE/cluster.env" ] || die "$STATE/cluster.env not found; is the cluster started?"
BIN="$(sed -n 's/^SAILPLAN_TEST_BIN=//p' "$STATE/cluster.env")"
[ -x "$BIN/stand-in-injector" ] || die "$BIN/stand-in-injector is missing; run $SCRIPT_DIR/build.sh"
export KUBECONFIG="$STATE/kubeconfig"
K="$BIN/kubectl"
PKI="$STATE/pki"
if [ -f "$PKI/stand-in-injector.crt" ]; then
    CERT="$PKI/stand-in-injector.crt" KEY="$PKI/stand-in-injector.key"
else # a cluster started by an older start.sh: the API server's cert also covers 127.0.0.1
    log "no $PKI/stand-in-injector.crt; using the API server's serving.crt"
    CERT="$PKI/serving.crt" KEY="$PKI/serving.key"
fi
REV=1-6-14
IMAGE=docker.io/istio/proxyv2:1.6.14
NS_REV=sp-stand-in-rev NS_REV2=sp-stand-in-rev2 NS_PLAIN=sp-stand-in-plain
HOOKS=(sp-stand-in-smoke sp-stand-in-smoke-2)
TMP="$(mktemp -d)"
STAND_IN_PID=""

cleanup() {
    local rc=$?
    # Webhook configs first: with failurePolicy Fail they would block pod creation once the server is gone.
    "$K" delete mutatingwebhookconfiguration "${HOOKS[@]}" --ignore-not-found >/dev/null 2>&1 || true
    "$K" delete namespace "$NS_REV" "$NS_REV2" "$NS_PLAIN" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    if [ -n "$STAND_IN_PID" ] && kill -0 "$STAND_IN_PID" 2>/dev/null; then
        kill -TERM "$STAND_IN_PID" 2>/dev/null || true
        wait "$STAND_IN_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$TMP/stand-in.log" ]; then
        log "stand-in log (last 30 lines):"
        tail -n 30 "$TMP/stand-in.log" >&2 || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# expect DESCRIPTION EXPECTED ACTUAL
expect() {
    [ "$3" = "$2" ] || die "$1: expected '$2', got '$3'"
}
# pods_of NS APP: names of the pods of app APP in NS.
pods_of() { "$K" -n "$1" get pods -l "app=$2" -o 'jsonpath={.items[*].metadata.name}'; }
# gt NS POD TEMPLATE: a go-template over the pod (index works for keys with dots and slashes).
gt() { "$K" -n "$1" get pod "$2" -o "go-template=$3"; }
STATUS_TPL='{{index .metadata.annotations "sidecar.istio.io/status"}}'
CONTAINERS_TPL='{{range .spec.containers}}{{.name}} {{end}}'
status_json() { # REVISION or "" (no revision field)
    local s='{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null'
    if [ -n "$1" ]; then s+=",\"revision\":\"$1\""; fi
    printf '%s}\n' "$s"
}

# A previous run's namespaces may still be terminating.
leftovers_gone() { [ -z "$("$K" get namespace "$NS_REV" "$NS_REV2" "$NS_PLAIN" --ignore-not-found -o name)" ]; }
eventually 60 "no namespaces left from a previous run" leftovers_gone

# 1. Start the stand-in on a free port (port 0; it writes the chosen address to --addr-file).
"$BIN/stand-in-injector" --listen 127.0.0.1:0 --tls-cert "$CERT" --tls-key "$KEY" \
    --addr-file "$TMP/addr" </dev/null 2>"$TMP/stand-in.log" &
STAND_IN_PID=$!
stand_in_up() { kill -0 "$STAND_IN_PID" && [ -s "$TMP/addr" ]; }
eventually 10 "stand-in-injector serving (pid $STAND_IN_PID)" stand_in_up
ADDR="$(cat "$TMP/addr")"
log "stand-in at https://$ADDR"

# 2. Webhook configurations: revision 1-6-14 (default record=both) and 1-11-8 with record=annotation.
"$BIN/stand-in-injector" --print-webhook-config --name "${HOOKS[0]}" --url-base "https://$ADDR" \
    --ca-file "$PKI/ca.crt" --revision "$REV" --image "$IMAGE" >"$TMP/hook.json"
"$BIN/stand-in-injector" --print-webhook-config --name "${HOOKS[1]}" --url-base "https://$ADDR" \
    --ca-file "$PKI/ca.crt" --revision 1-11-8 --image docker.io/istio/proxyv2:1.11.8 --record annotation \
    >"$TMP/hook2.json"
"$K" apply -f "$TMP/hook.json" -f "$TMP/hook2.json" >/dev/null
expect "webhook configs labelled sailplan.test/stand-in=true" "${HOOKS[*]}" \
    "$("$K" get mutatingwebhookconfiguration -l sailplan.test/stand-in=true -o 'jsonpath={.items[*].metadata.name}' |
        tr ' ' '\n' | grep -x -e "${HOOKS[0]}" -e "${HOOKS[1]}" | sort | xargs)"
pass "webhook configurations applied"

"$K" create namespace "$NS_REV" >/dev/null
"$K" label namespace "$NS_REV" "istio.io/rev=$REV" >/dev/null
"$K" create namespace "$NS_REV2" >/dev/null
"$K" label namespace "$NS_REV2" istio.io/rev=1-11-8 >/dev/null
"$K" create namespace "$NS_PLAIN" >/dev/null

# The API server learns about new webhook configurations through an informer; a server-side dry run of a
# bare pod shows when the webhook is live (and exercises the dry-run path, allowed by sideEffects None).
bare_pod() { # NAMESPACE
    printf '%s\n' 'apiVersion: v1' 'kind: Pod' "metadata: {name: probe, namespace: $1, labels: {app: probe}}" \
        'spec: {containers: [{name: app, image: example.invalid/app:1}]}'
}
dry_run_injected() { # NAMESPACE
    bare_pod "$1" | "$K" create --dry-run=server -o "go-template=$CONTAINERS_TPL" -f - >"$TMP/dry.out" &&
        grep -q istio-proxy "$TMP/dry.out"
}
eventually 15 "webhook live: a dry-run pod in $NS_REV is injected" dry_run_injected "$NS_REV"

# 3. Deployments: injected (rev namespace), opted out (inject=false) and unlabelled namespace.
deployment() { # NAMESPACE NAME [INJECT_ANNOTATION]
    cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $2, namespace: $1}
spec:
  replicas: 2
  selector:
    matchLabels: {app: $2}
  template:
    metadata:
      labels: {app: $2, version: v1}
      annotations: {sidecar.istio.io/inject: "${3:-}"}
    spec:
      containers:
      - name: app
        image: example.invalid/app:1
EOF
}
deployment "$NS_REV" web | "$K" apply -f - >/dev/null
deployment "$NS_REV" optout false | "$K" apply -f - >/dev/null
deployment "$NS_PLAIN" web | "$K" apply -f - >/dev/null
for d in "$NS_REV/web" "$NS_REV/optout" "$NS_PLAIN/web"; do
    eventually 60 "deployment $d has 2 ready replicas (kwok)" \
        test "$("$K" -n "${d%/*}" get deployment "${d#*/}" -o 'jsonpath={.status.readyReplicas}')" = 2
done

# 4. Injected pods look like Istio 1.6-1.10 + 1.11+ injected them.
read -r -a pods <<<"$(pods_of "$NS_REV" web)"
expect "number of web pods in $NS_REV" 2 "${#pods[@]}"
for p in "${pods[@]}"; do
    expect "$p containers" "app istio-proxy" "$(gt "$NS_REV" "$p" "$CONTAINERS_TPL" | xargs)"
    expect "$p init containers" "istio-init" "$(gt "$NS_REV" "$p" '{{range .spec.initContainers}}{{.name}} {{end}}' | xargs)"
    expect "$p istio-proxy image" "$IMAGE" \
        "$("$K" -n "$NS_REV" get pod "$p" -o 'jsonpath={.spec.containers[?(@.name=="istio-proxy")].image}')"
    expect "$p istio-init image" "$IMAGE" "$("$K" -n "$NS_REV" get pod "$p" -o 'jsonpath={.spec.initContainers[0].image}')"
    expect "$p istio-proxy args" "proxy sidecar" \
        "$("$K" -n "$NS_REV" get pod "$p" -o 'jsonpath={.spec.containers[?(@.name=="istio-proxy")].args[0:2]}')"
    expect "$p istio-proxy port" "http-envoy-prom:15090" \
        "$("$K" -n "$NS_REV" get pod "$p" -o 'jsonpath={.spec.containers[?(@.name=="istio-proxy")].ports[0].name}:{.spec.containers[?(@.name=="istio-proxy")].ports[0].containerPort}')"
    # Captured first: piping kubectl into grep -q can kill kubectl with SIGPIPE (fatal under pipefail).
    vols=" $(gt "$NS_REV" "$p" '{{range .spec.volumes}}{{.name}} {{end}}')"
    for v in istio-envoy istio-data istio-podinfo istio-token istiod-ca-cert; do
        case "$vols" in *" $v "*) ;; *) die "$p lacks volume $v (has:$vols)" ;; esac
    done
    expect "$p status annotation" "$(status_json "$REV")" "$(gt "$NS_REV" "$p" "$STATUS_TPL")"
    expect "$p labels" "$REV istio web v1" "$(gt "$NS_REV" "$p" '{{index .metadata.labels "istio.io/rev"}} {{index .metadata.labels "security.istio.io/tlsMode"}} {{index .metadata.labels "service.istio.io/canonical-name"}} {{index .metadata.labels "service.istio.io/canonical-revision"}}')"
    expect "$p container statuses (kwok)" "app:true istio-proxy:true" \
        "$(gt "$NS_REV" "$p" '{{range .status.containerStatuses}}{{.name}}:{{.ready}} {{end}}' | xargs)"
done
pass "pods in $NS_REV: istio-proxy ($IMAGE), istio-init, volumes, status annotation, labels, Ready"

# 5. Opted-out pods and pods in the unlabelled namespace are untouched.
check_untouched() { # NAMESPACE APP
    local p
    for p in $(pods_of "$1" "$2"); do
        expect "$1/$p containers" "app" "$(gt "$1" "$p" "$CONTAINERS_TPL" | xargs)"
        expect "$1/$p status annotation" "" "$(gt "$1" "$p" "$STATUS_TPL" | sed 's/<no value>//')"
        expect "$1/$p istio.io/rev label" "" "$(gt "$1" "$p" '{{index .metadata.labels "istio.io/rev"}}' | sed 's/<no value>//')"
    done
}
check_untouched "$NS_REV" optout
pass "pods annotated sidecar.istio.io/inject=false are skipped"
check_untouched "$NS_PLAIN" web
pass "namespace without istio.io/rev gets no injection"
grep -q "skipped: annotation sidecar.istio.io/inject=false" "$TMP/stand-in.log" || die "stand-in did not log the skip"

# 6. record=annotation (Istio 1.11+): revision only in the status annotation, no istio.io/rev label.
bare_pod "$NS_REV2" | "$K" create --dry-run=server -o json -f - >"$TMP/rev2.json"
dry() { "$K" create --dry-run=client -o "go-template=$1" -f "$TMP/rev2.json"; }
expect "record=annotation status" "$(status_json 1-11-8)" "$(dry "$STATUS_TPL")"
expect "record=annotation istio.io/rev label" "" "$(dry '{{index .metadata.labels "istio.io/rev"}}' | sed 's/<no value>//')"
expect "record=annotation proxy image" "docker.io/istio/proxyv2:1.11.8" \
    "$(dry '{{range .spec.containers}}{{if eq .name "istio-proxy"}}{{.image}}{{end}}{{end}}')"
pass "record=annotation: revision 1-11-8 only in the status annotation"

# 7. One log line per request, then a clean SIGTERM shutdown.
log "stand-in handled $(grep -c ': allowed' "$TMP/stand-in.log") admission requests"
"$K" delete mutatingwebhookconfiguration "${HOOKS[@]}" >/dev/null
kill -TERM "$STAND_IN_PID"
rc=0
wait "$STAND_IN_PID" || rc=$?
STAND_IN_PID=""
expect "stand-in exit status after SIGTERM" 0 "$rc"
grep -q 'stopped$' "$TMP/stand-in.log" || die "stand-in did not log a clean shutdown"
pass "SIGTERM: stand-in shut down cleanly"
log "all stand-in checks passed"
