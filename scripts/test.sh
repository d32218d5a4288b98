#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit tests, CLI and golden tests, and the real-cluster tests.
#
# The real-cluster tests need a real Kubernetes: this script builds one from published Go modules on
# first use (kube-apiserver, kube-controller-manager, kube-scheduler, kwok, helm; cached outside target/,
# see scripts/test-cluster/), starts it on loopback ports, runs `cargo test` including the tests marked
# `#[ignore = "needs a cluster ..."]`, and stops the cluster again. Logs of a failed run are kept and
# their location is printed.
#
# Environment:
#   SAILPLAN_TEST_KUBECONFIG  reuse a running test cluster instead of starting one
#   CARGO_TEST_ARGS           extra arguments for `cargo test` (e.g. a test name filter)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v cargo >/dev/null || { echo "error: cargo not found; install Rust 1.89 or newer with rustup" >&2; exit 1; }
command -v go >/dev/null || { echo "error: go not found; the test cluster is built from Go modules" >&2; exit 1; }

# tests/check_report.rs loads the HTML report of `sailplan check --report` in headless Chromium.
if ! command -v chromium >/dev/null; then
    echo "==> installing Debian's chromium for the HTML report test (tests/check_report.rs)" >&2
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2; } ||
        { echo "error: could not install chromium (needs root or passwordless sudo, and apt-get)" >&2; exit 1; }
fi

echo "==> testing the test cluster's stand-in for Istio's injector and webhook server" >&2
(cd scripts/test-cluster/stand-in-injector && go test ./...) >&2

echo "==> building the test cluster binaries (cached after the first run)" >&2
bin_dir="$(scripts/test-cluster/build.sh | tail -n 1)"
export SAILPLAN_TEST_BIN_DIR="$bin_dir"

state=""
status=1
stop_cluster() {
    [ -n "$state" ] || return 0
    if [ "$status" -eq 0 ]; then
        scripts/test-cluster/stop.sh "$state" --purge >&2
    else
        scripts/test-cluster/stop.sh "$state" >&2
        echo "test cluster logs kept in $state/logs" >&2
    fi
}
# Stop the cluster however this script ends (failure, Ctrl-C); its processes outlive start.sh.
trap stop_cluster EXIT

if [ -z "${SAILPLAN_TEST_KUBECONFIG:-}" ]; then
    state="$(mktemp -d -t sailplan-test-cluster.XXXXXX)"
    echo "==> starting the test cluster in $state" >&2
    # The watchdog stops the cluster if this script dies without running its trap.
    SAILPLAN_TEST_KUBECONFIG="$(SAILPLAN_OWNER_PID=$$ scripts/test-cluster/start.sh "$state" | tail -n 1)"
    export SAILPLAN_TEST_KUBECONFIG
fi

status=0
# shellcheck disable=SC2086 # CARGO_TEST_ARGS is a word list on purpose
cargo test --locked -- --include-ignored ${CARGO_TEST_ARGS:-} || status=$?
exit "$status"
