#!/usr/bin/env bash
# build.sh: builds (once) the real Kubernetes components that sailplan's real-cluster tests run against,
# and prints the directory holding them as the LAST line of stdout (all logging goes to stderr).
#
# Why it exists: the real-cluster test tier (docs ARCHITECTURE.md section 7) needs a real kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd, kwok and the real helm CLI, without Docker and without
# downloads outside package registries. So each component is built from its published Go module through
# the Go module proxy (etcd comes from Debian's etcd-server package) and the results are cached in a
# version-stamped directory outside the repository's target/, so a warm run finishes in well under a second.
#
# What gets built, into $SAILPLAN_TEST_CACHE/k8s-<v>-kwok-<v>-helm-<v>/bin:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#       from k8s.io/kubernetes, through a small generated "tools" module: k8s.io/kubernetes's own go.mod
#       maps its ~30 staging modules to ./staging/src/... at v0.0.0, which only works inside its own
#       repository, so the tools module adds `replace k8s.io/<name> => k8s.io/<name> v0.<minor>.<patch>`
#       for each of them (the list is read from k8s.io/kubernetes's go.mod, not hard-coded).
#   kwok    from sigs.k8s.io/kwok/cmd/kwok (go install at a release tag)
#   helm    from helm.sh/helm/v3/cmd/helm (go install at a v3 release tag)
#   etcd    a symlink to the system etcd (Debian package etcd-server, installed when missing), or, with
#           SAILPLAN_ETCD=source or when apt is unusable, built from go.etcd.io/etcd/server/v3 at the
#           version k8s.io/kubernetes itself pins.
#   stand-in-injector
#           this repository's test stand-in for Istio's sidecar injector (./stand-in-injector, standard
#           library only). It is not part of the version stamp: it is rebuilt (a few seconds) whenever the
#           sha256 of its go.mod and non-test .go files differs from bin/.stand-in-injector.sha256.
#
# Environment:
#   SAILPLAN_TEST_CACHE    cache root (default $HOME/.cache/sailplan/test-cluster); the Go module and
#                          build caches live under it too (go/mod, go/build)
#   SAILPLAN_K8S_VERSION   default v1.33.13   (staging modules are taken at v0.33.13)
#   SAILPLAN_KWOK_VERSION  default v0.8.0
#   SAILPLAN_HELM_VERSION  default v3.22.0
#   SAILPLAN_ETCD          auto (default: system etcd, else apt, else source) | system | source
#   SAILPLAN_BUILD_NICE    niceness of the go builds (default 10)
#   SAILPLAN_BUILD_TRIM    1 = after a successful cold build, delete the Go build and module caches
#                          (about 5.7 GB; only the ~430 MB of binaries are needed by warm runs)
#
# Usage: BIN_DIR="$(scripts/test-cluster/build.sh | tail -n 1)"
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SAILPLAN_LOG_TAG=build
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$SCRIPT_DIR/lib.sh"

STAMP_DIR="$(stamp_dir)"
BIN_DIR="$STAMP_DIR/bin"
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
ALL_BINS=("${K8S_CMDS[@]}" kwok helm etcd)
STAND_IN_SRC="$SCRIPT_DIR/stand-in-injector"
ETCD_MODE="${SAILPLAN_ETCD:-auto}"
NICE="${SAILPLAN_BUILD_NICE:-10}"

case "$ETCD_MODE" in
    auto | system | source) ;;
    *) die "SAILPLAN_ETCD must be auto, system or source (got '$ETCD_MODE')" ;;
esac

# etcd_ok: bin/etcd exists and matches the requested mode (symlink = system etcd, file = built here).
etcd_ok() {
    [ -x "$BIN_DIR/etcd" ] || return 1
    case "$ETCD_MODE" in
        system) [ -L "$BIN_DIR/etcd" ] ;;
        source) [ ! -L "$BIN_DIR/etcd" ] ;;
        *) return 0 ;;
    esac
}

# stand_in_hash: sha256 over the stand-in's go.mod and non-test .go files (names included), so editing
# its source rebuilds just that binary. Plain bash globbing plus one sha256sum pipeline: milliseconds.
stand_in_hash() {
    local LC_ALL=C f
    local -a files=()
    for f in "$STAND_IN_SRC"/go.mod "$STAND_IN_SRC"/*.go; do
        case "$f" in *_test.go) ;; *) files+=("${f##*/}") ;; esac
    done
    [ -f "$STAND_IN_SRC/go.mod" ] || die "$STAND_IN_SRC/go.mod is missing"
    (cd "$STAND_IN_SRC" && sha256sum -- "${files[@]}") | sha256sum | cut -d' ' -f1
}
STAND_IN_HASH="$(stand_in_hash)"

stand_in_ok() {
    [ -x "$BIN_DIR/stand-in-injector" ] &&
        [ "$(cat "$BIN_DIR/.stand-in-injector.sha256" 2>/dev/null)" = "$STAND_IN_HASH" ]
}

all_present() {
    local b
    [ -f "$STAMP_DIR/.complete" ] || return 1
    for b in "${ALL_BINS[@]}"; do
        [ -x "$BIN_DIR/$b" ] || return 1
    done
    etcd_ok && stand_in_ok
}

# Warm path: nothing to do, no go invocation, no network.
if all_present; then
    printf '%s\n' "$BIN_DIR"
    exit 0
fi

mkdir -p "$BIN_DIR"
# Serialise concurrent cold builds (e.g. two test processes starting at once) on one lock file.
exec 9>"$SAILPLAN_TEST_CACHE/.build.lock"
if ! flock -n 9; then
    log "another build.sh holds $SAILPLAN_TEST_CACHE/.build.lock; waiting for it"
    flock 9
fi
if all_present; then
    printf '%s\n' "$BIN_DIR"
    exit 0
fi
rm -f "$STAMP_DIR/.complete"

command -v go >/dev/null 2>&1 || die "the go command is required (kwok ${SAILPLAN_KWOK_VERSION} and helm ${SAILPLAN_HELM_VERSION} need Go >= 1.26; an older go >= 1.21 fetches a newer toolchain through the module proxy)"

# Hermetic Go environment: caches under the test cache, static binaries, writable module cache (so the
# whole cache can be removed with plain rm -rf).
export GOPATH="$SAILPLAN_TEST_CACHE/go/path"
export GOMODCACHE="$SAILPLAN_TEST_CACHE/go/mod"
export GOCACHE="$SAILPLAN_TEST_CACHE/go/build"
export CGO_ENABLED=0 GO111MODULE=on GOWORK=off GOFLAGS="-modcacherw -buildvcs=false"
unset GOBIN GOOS GOARCH

log "cache: $STAMP_DIR"
log "go: $(go version)"
TIMES_FILE="$STAMP_DIR/build-times.txt"
TOTAL_START=$SECONDS

# timed NAME COMMAND...: runs the command and records how long it took.
timed() {
    local name="$1" start=$SECONDS
    shift
    "$@"
    local took=$((SECONDS - start))
    log "$name: ${took}s"
    printf '%s %ss\n' "$name" "$took" >>"$TIMES_FILE"
}

# mod_file MODULE VERSION: path of the downloaded go.mod of MODULE@VERSION in the module cache
# (module paths are stored case-encoded: an upper-case letter becomes '!' + its lower-case form).
mod_file() {
    local enc
    enc="$(printf '%s' "$1" | sed -e 's/\([A-Z]\)/!\L\1/g')"
    printf '%s/cache/download/%s/@v/%s.mod\n' "$GOMODCACHE" "$enc" "$2"
}

TOOLS_DIR="$STAMP_DIR/k8s-tools"

# prepare_k8s_tools: writes and tidies the tools module that pins k8s.io/kubernetes and its staging modules.
prepare_k8s_tools() {
    [ -f "$TOOLS_DIR/.ready" ] && return 0
    local kver="$SAILPLAN_K8S_VERSION" sver kmod gover staging name
    sver="v0.${kver#v1.}"
    rm -rf "$TOOLS_DIR"
    mkdir -p "$TOOLS_DIR"
    log "downloading k8s.io/kubernetes@$kver"
    (cd "$TOOLS_DIR" && go mod download "k8s.io/kubernetes@$kver")
    kmod="$(mod_file k8s.io/kubernetes "$kver")"
    [ -f "$kmod" ] || die "go.mod of k8s.io/kubernetes@$kver not found at $kmod"
    staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$kmod" | sort -u)"
    [ -n "$staging" ] || die "no './staging/src' replace lines found in $kmod"
    gover="$(awk '$1 == "go" { print $2; exit }' "$kmod")"
    log "k8s.io/kubernetes@$kver has $(printf '%s\n' "$staging" | wc -l) staging modules; pinning them at $sver"
    {
        printf '// Generated by scripts/test-cluster/build.sh; do not edit.\n'
        printf 'module sailplan.test/k8s-tools\n\ngo %s\n\n' "${gover:-1.24.0}"
        grep '^godebug' "$kmod" || true
        printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$kver"
        for name in $staging; do
            printf '\t%s => %s %s\n' "$name" "$name" "$sver"
        done
        printf ')\n'
    } >"$TOOLS_DIR/go.mod"
    {
        printf '//go:build tools\n\n// Package tools only records which commands this module builds.\npackage tools\n\nimport (\n'
        for name in "${K8S_CMDS[@]}"; do
            printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$name"
        done
        # etcd server: k8s.io/kubernetes already pins it; only used when etcd is built from source.
        printf '\t_ "go.etcd.io/etcd/server/v3"\n)\n'
    } >"$TOOLS_DIR/tools.go"
    log "resolving the tools module (go mod tidy; downloads the dependency modules)"
    (cd "$TOOLS_DIR" && nice -n "$NICE" go mod tidy)
    touch "$TOOLS_DIR/.ready"
}

k8s_ldflags() {
    local kver="$SAILPLAN_K8S_VERSION" minor date pkg flags="-s -w"
    minor="${kver#v1.}"
    minor="${minor%%.*}"
    date="$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$GOMODCACHE/cache/download/k8s.io/kubernetes/@v/$kver.info" 2>/dev/null || true)"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $pkg.gitVersion=$kver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
        flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=${date:-1970-01-01T00:00:00Z}"
    done
    printf '%s\n' "$flags"
}

build_k8s_cmd() {
    local cmd="$1"
    (cd "$TOOLS_DIR" && nice -n "$NICE" go build -trimpath -ldflags "$(k8s_ldflags)" \
        -o "$BIN_DIR/.$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
    mv -f "$BIN_DIR/.$cmd.tmp" "$BIN_DIR/$cmd"
}

build_etcd_from_source() {
    prepare_k8s_tools
    local ever
    ever="$(cd "$TOOLS_DIR" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
    log "building etcd $ever from go.etcd.io/etcd/server/v3"
    (cd "$TOOLS_DIR" && nice -n "$NICE" go build -trimpath -ldflags "-s -w" \
        -o "$BIN_DIR/.etcd.tmp" go.etcd.io/etcd/server/v3)
    rm -f "$BIN_DIR/etcd"
    mv -f "$BIN_DIR/.etcd.tmp" "$BIN_DIR/etcd"
}

# go_install_to_bin NAME PACKAGE@VERSION [LDFLAGS]: go install into a scratch GOBIN, then move into bin.
go_install_to_bin() {
    local name="$1" pkg="$2" ldflags="${3:--s -w}" gobin="$STAMP_DIR/.gobin"
    rm -rf "$gobin"
    mkdir -p "$gobin"
    GOBIN="$gobin" nice -n "$NICE" go install -trimpath -ldflags "$ldflags" "$pkg"
    mv -f "$gobin/$name" "$BIN_DIR/$name"
    rm -rf "$gobin"
}

helm_ldflags() {
    local hver="$SAILPLAN_HELM_VERSION" hmod cgo minor flags
    (cd "$STAMP_DIR" && go mod download "helm.sh/helm/v3@$hver")
    hmod="$(mod_file helm.sh/helm/v3 "$hver")"
    # helm's release builds stamp the Kubernetes version of their client-go into the default capabilities.
    cgo="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$hmod")"
    minor="${cgo#v0.}"
    minor="${minor%%.*}"
    flags="-s -w -X helm.sh/helm/v3/internal/version.version=$hver -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
    if [ -n "$cgo" ]; then
        local pkg
        for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
            flags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
        done
    fi
    printf '%s\n' "$flags"
}

build_stand_in() {
    (cd "$STAND_IN_SRC" && nice -n "$NICE" go build -trimpath -ldflags "-s -w" \
        -o "$BIN_DIR/.stand-in-injector.tmp" .)
    mv -f "$BIN_DIR/.stand-in-injector.tmp" "$BIN_DIR/stand-in-injector"
    printf '%s\n' "$STAND_IN_HASH" >"$BIN_DIR/.stand-in-injector.sha256"
}

ensure_etcd() {
    etcd_ok && return 0
    local sys
    if [ "$ETCD_MODE" != source ]; then
        if ! command -v etcd >/dev/null 2>&1; then
            if ! apt_install etcd-server; then
                [ "$ETCD_MODE" = system ] && die "could not install Debian's etcd-server"
                log "apt-get could not install etcd-server; building etcd from source instead"
            fi
        fi
        if sys="$(command -v etcd 2>/dev/null)"; then
            ln -sfn "$sys" "$BIN_DIR/etcd"
            log "etcd: using $sys ($("$sys" --version 2>/dev/null | head -n 1))"
            return 0
        fi
    fi
    timed etcd build_etcd_from_source
}

# --- Kubernetes components (the expensive part) ---
for cmd in "${K8S_CMDS[@]}"; do
    if [ ! -x "$BIN_DIR/$cmd" ]; then
        [ -f "$TOOLS_DIR/.ready" ] || timed "k8s-tools module (download + tidy)" prepare_k8s_tools
        log "building $cmd $SAILPLAN_K8S_VERSION"
        timed "$cmd" build_k8s_cmd "$cmd"
    fi
done

# --- kwok ---
if [ ! -x "$BIN_DIR/kwok" ]; then
    log "building kwok $SAILPLAN_KWOK_VERSION"
    timed kwok go_install_to_bin kwok "sigs.k8s.io/kwok/cmd/kwok@$SAILPLAN_KWOK_VERSION"
fi

# --- helm ---
if [ ! -x "$BIN_DIR/helm" ]; then
    log "building helm $SAILPLAN_HELM_VERSION"
    HELM_LDFLAGS="$(helm_ldflags)"
    timed helm go_install_to_bin helm "helm.sh/helm/v3/cmd/helm@$SAILPLAN_HELM_VERSION" "$HELM_LDFLAGS"
fi

# --- etcd ---
ensure_etcd

# --- stand-in injector (test stand-in for Istio's sidecar injector; a few seconds) ---
if ! stand_in_ok; then
    log "building stand-in-injector from $STAND_IN_SRC (source sha256 ${STAND_IN_HASH:0:12})"
    timed stand-in-injector build_stand_in
fi

{
    printf 'kube-apiserver: %s\n' "$("$BIN_DIR/kube-apiserver" --version 2>&1 | head -n 1)"
    printf 'kubectl: %s\n' "$("$BIN_DIR/kubectl" version --client 2>&1 | head -n 1)"
    printf 'kwok: %s\n' "$("$BIN_DIR/kwok" --version 2>&1 | head -n 1)"
    printf 'helm: %s\n' "$("$BIN_DIR/helm" version --short 2>&1 | head -n 1)"
    printf 'etcd: %s\n' "$("$BIN_DIR/etcd" --version 2>&1 | head -n 1)"
    printf 'stand-in-injector: source sha256 %s\n' "$STAND_IN_HASH"
} >"$STAMP_DIR/versions.txt"
touch "$STAMP_DIR/.complete"
if [ "${SAILPLAN_BUILD_TRIM:-0}" = 1 ]; then
    log "SAILPLAN_BUILD_TRIM=1: removing $SAILPLAN_TEST_CACHE/go (Go build and module caches)"
    rm -rf "$SAILPLAN_TEST_CACHE/go" "$TOOLS_DIR"
fi
log "done in $((SECONDS - TOTAL_START))s; versions:"
sed 's/^/    /' "$STAMP_DIR/versions.txt" >&2
printf '%s\n' "$BIN_DIR"
