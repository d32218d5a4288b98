#!/usr/bin/env bash
# smoke.sh STATE_DIR: checks that a cluster started by start.sh STATE_DIR does what the real-cluster tests
# rely on. Exits non-zero on the first failed check.
#
# Why it exists: a quick, dependency-free way (only the binaries from build.sh) to tell "the test cluster
# is broken" apart from "sailplan is broken" when a real-cluster test fails, on a developer machine or CI.
#
# Checks: Deployment -> ReplicaSet -> 2 Ready pods on a kwok node; Service gets a ClusterIP and an
# EndpointSlice; TokenRequest works; server-side apply of a CRD, which becomes Established and serves a
# custom resource; MutatingWebhookConfiguration creation and a Fail-policy webhook actually being called;
# the kwok pod states from kwok.yaml (not-ready, crash-loop, flipping a Ready pod); helm list/install/
# upgrade/uninstall; namespace deletion. Everything happens in namespace sailplan-smoke, deleted at the end.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAILPLAN_LOG_TAG=smoke
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

[ "$#" -eq 1 ] || { echo "usage: $0 STATE_DIR" >&2; exit 2; }
STATE="$(cd "$1" && pwd -P)"
[ -f "$STATE/cluster.env" ] || die "$STATE/cluster.env not found; is the cluster started?"
BIN="$(sed -n 's/^SAILPLAN_TEST_BIN=//p' "$STATE/cluster.env")"
export KUBECONFIG="$STATE/kubeconfig"
K="$BIN/kubectl"
NS=sailplan-smoke
TMP="$(mktemp -d)"
# helm keeps its config/cache/data under these; keep them out of the user's home.
export HELM_CONFIG_HOME="$TMP/helm/config" HELM_CACHE_HOME="$TMP/helm/cache" HELM_DATA_HOME="$TMP/helm/data"
cleanup() {
    "$K" delete namespace "$NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    "$K" delete mutatingwebhookconfiguration sailplan-smoke --ignore-not-found >/dev/null 2>&1 || true
    "$K" delete crd widgets.smoke.sailplan.test --ignore-not-found --wait=false >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

jp() { "$K" -n "$NS" get "$1" -o "jsonpath=$2"; }
# equals EXPECTED COMMAND...: COMMAND's output, with runs of whitespace squeezed, is EXPECTED.
equals() { [ "$("${@:2}" | xargs)" = "$1" ]; }

"$K" create namespace "$NS" >/dev/null
eventually 30 "ServiceAccount $NS/default exists" "$K" -n "$NS" get serviceaccount default

# 1. Deployment with 2 replicas -> ReplicaSet -> 2 Ready pods on kwok nodes.
deployment() { # NAME REPLICAS [POD_STATE]
    cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  namespace: $NS
spec:
  replicas: $2
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
      annotations: {sailplan.test/pod-state: "${3:-}"}
    spec:
      containers:
      - name: app
        image: example.invalid/app:1
        ports: [{containerPort: 8080}]
EOF
}
start=$SECONDS
deployment web 2 | "$K" apply -f - >/dev/null
eventually 30 "Deployment web has 2 ready replicas" equals 2 jp deployment/web '{.status.readyReplicas}'
[ "$(jp replicaset '{range .items[*]}{.metadata.ownerReferences[0].name}{"\n"}{end}')" = web ] \
    || die "expected one ReplicaSet owned by deployment web"
nodes="$(jp pods '{range .items[*]}{.spec.nodeName}{" "}{.status.phase}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
[ "$(grep -c '^kwok-node-[0-9]* Running True$' <<<"$nodes")" -eq 2 ] || die "pods not Running/Ready on kwok nodes: $nodes"
pass "ReplicaSet + 2 Running/Ready pods on kwok nodes, $((SECONDS - start))s after apply"
"$K" -n "$NS" rollout status deployment/web --timeout=10s >/dev/null
pass "kubectl rollout status"

# 2. Service -> ClusterIP + EndpointSlice with both pod IPs.
"$K" -n "$NS" create service clusterip web --tcp=80:8080 >/dev/null
[ -n "$(jp service/web '{.spec.clusterIP}')" ] || die "service has no ClusterIP"
eventually 30 "EndpointSlice for service web lists 2 ready endpoints" equals "true true" \
    jp endpointslices '{.items[0].endpoints[*].conditions.ready}'

# 3. TokenRequest (service-account signing key + issuer).
[ -n "$("$K" -n "$NS" create token default --duration=10m)" ] || die "empty token"
pass "TokenRequest for default ServiceAccount"

# 4. Server-side apply of a CRD; Established; a custom resource round-trips.
cat >"$TMP/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.sailplan.test
spec:
  group: smoke.sailplan.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
EOF
"$K" apply --server-side --field-manager=sailplan-smoke -f "$TMP/crd.yaml" >/dev/null
"$K" wait --for=condition=Established crd/widgets.smoke.sailplan.test --timeout=30s >/dev/null
pass "server-side apply of a CRD; Established"
eventually 30 "custom resource Widget created" sh -c "printf '%s\n' 'apiVersion: smoke.sailplan.test/v1' 'kind: Widget' 'metadata: {name: w1, namespace: $NS}' 'spec: {size: 3}' | '$K' apply --server-side --field-manager=sailplan-smoke -f -"
[ "$(jp widget/w1 '{.spec.size}')" = 3 ] || die "custom resource did not round-trip"

# 5. MutatingWebhookConfiguration: creatable, and the API server really calls it (Fail policy + an
#    unreachable URL must reject a matching object; the objectSelector keeps everything else unaffected).
cat <<EOF | "$K" apply -f - >/dev/null
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: sailplan-smoke
webhooks:
- name: smoke.sailplan.test
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 2
  clientConfig:
    url: https://127.0.0.1:9/mutate
    caBundle: $(base64 -w0 <"$STATE/pki/ca.crt")
  objectSelector:
    matchLabels: {sailplan-smoke-webhook: "yes"}
  rules:
  - apiGroups: [""]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [configmaps]
EOF
pass "MutatingWebhookConfiguration created"
sleep 1 # the webhook configuration reaches the admission plugin through an informer
cat <<EOF >"$TMP/cm.yaml"
apiVersion: v1
kind: ConfigMap
metadata: {name: hooked, namespace: $NS, labels: {sailplan-smoke-webhook: "yes"}}
EOF
webhook_rejects() { ! "$K" create -f "$TMP/cm.yaml" 2>"$TMP/webhook.err" && grep -q 'failed calling webhook' "$TMP/webhook.err"; }
eventually 10 "webhook with failurePolicy=Fail is called and rejects the matching ConfigMap" webhook_rejects
"$K" delete mutatingwebhookconfiguration sailplan-smoke >/dev/null

# 6. kwok pod states.
deployment sick 2 not-ready | "$K" apply -f - >/dev/null
deployment crashy 1 crash-loop | "$K" apply -f - >/dev/null
eventually 30 "not-ready pods are Running with Ready=False" equals "Running/False Running/False" \
    jp pods "{range .items[?(@.metadata.labels.app==\"sick\")]}{.status.phase}/{.status.conditions[?(@.type==\"Ready\")].status} {end}"
eventually 30 "crash-loop pod waits in CrashLoopBackOff" equals "CrashLoopBackOff" \
    jp pods "{.items[?(@.metadata.labels.app==\"crashy\")].status.containerStatuses[0].state.waiting.reason}"
[ "$(jp deployment/sick '{.status.readyReplicas}')" = "" ] || die "deployment sick should have no ready replicas"
pass "deployment with not-ready pods reports no ready replicas"
pod="$(jp pods '{.items[?(@.metadata.labels.app=="web")].metadata.name}' | cut -d' ' -f1)"
"$K" -n "$NS" annotate pod "$pod" sailplan.test/pod-state=not-ready --overwrite >/dev/null
eventually 30 "annotating a Ready pod not-ready makes it NotReady" equals False \
    jp "pod/$pod" '{.status.conditions[?(@.type=="Ready")].status}'
"$K" -n "$NS" annotate pod "$pod" sailplan.test/pod-state- >/dev/null
eventually 30 "removing the annotation makes it Ready again" equals True \
    jp "pod/$pod" '{.status.conditions[?(@.type=="Ready")].status}'

# 7. helm against the cluster.
"$BIN/helm" list -A >/dev/null
pass "helm list -A"
mkdir -p "$TMP/chart/templates"
printf 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n' >"$TMP/chart/Chart.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke-{{ .Release.Revision }}\ndata:\n  v: {{ .Values.v | quote }}\n' \
    >"$TMP/chart/templates/cm.yaml"
printf 'v: one\n' >"$TMP/chart/values.yaml"
"$BIN/helm" install smoke "$TMP/chart" -n "$NS" --wait --timeout 60s >/dev/null
"$BIN/helm" upgrade smoke "$TMP/chart" -n "$NS" --set v=two --wait --timeout 60s >/dev/null
[ "$("$BIN/helm" list -n "$NS" -o json | grep -o '"revision":"[0-9]*"')" = '"revision":"2"' ] || die "helm release not at revision 2"
"$BIN/helm" uninstall smoke -n "$NS" >/dev/null
pass "helm install/upgrade/uninstall"

# 8. Namespace deletion completes (namespace controller, garbage collector, kwok pod deletion).
"$K" delete namespace "$NS" --timeout=60s >/dev/null
pass "namespace $NS deleted"
log "all smoke checks passed"
