# shellcheck shell=bash
# lib.sh: helpers shared by build.sh, start.sh and stop.sh (sourced, never run).
#
# Why it exists: the three scripts need the same logging, the same "install a Debian package only when it
# is missing" logic and the same pinned versions; keeping them here stops the scripts drifting apart.

# Command substitutions inherit `set -e` too, so a failing step inside $(...) is not silently ignored.
shopt -s inherit_errexit

# Pinned versions. Each one can be overridden from the environment; the cache directory name is stamped
# with them, so changing one builds a fresh, separate set of binaries.
# k8s v1.33.13 is the newest 1.33 patch the Go module proxy served when this was written.
SAILPLAN_K8S_VERSION="${SAILPLAN_K8S_VERSION:-v1.33.13}"
SAILPLAN_KWOK_VERSION="${SAILPLAN_KWOK_VERSION:-v0.8.0}"
SAILPLAN_HELM_VERSION="${SAILPLAN_HELM_VERSION:-v3.22.0}"
SAILPLAN_TEST_CACHE="${SAILPLAN_TEST_CACHE:-$HOME/.cache/sailplan/test-cluster}"

# log MESSAGE...: progress and diagnostics go to stderr; stdout is kept for the one machine-readable line.
log() {
    printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${SAILPLAN_LOG_TAG:-test-cluster}" "$*" >&2
}

die() {
    log "ERROR: $*"
    exit 1
}

# apt_install PACKAGE...: installs Debian packages non-interactively (as root, or through passwordless
# sudo). The package lists are refreshed only when the first attempt fails, so a machine with fresh lists
# does not pay for an `apt-get update`.
apt_install() {
    local -a sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            log "need root (or passwordless sudo) to apt-get install $*"
            return 1
        fi
    fi
    command -v apt-get >/dev/null 2>&1 || { log "apt-get not found; cannot install $*"; return 1; }
    log "apt-get install $*"
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@" >&2; then
        log "install failed; running apt-get update and retrying"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2 || return 1
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "$@" >&2 || return 1
    fi
}

# need_cmd COMMAND DEBIAN_PACKAGE: makes sure COMMAND is on PATH, installing the package if it is not.
need_cmd() {
    command -v "$1" >/dev/null 2>&1 && return 0
    apt_install "$2" || die "'$1' is missing and package '$2' could not be installed"
    command -v "$1" >/dev/null 2>&1 || die "'$1' still missing after installing '$2'"
}

# stamp_dir: the version-stamped cache directory for the current pins.
stamp_dir() {
    printf '%s/k8s-%s-kwok-%s-helm-%s\n' "$SAILPLAN_TEST_CACHE" \
        "$SAILPLAN_K8S_VERSION" "$SAILPLAN_KWOK_VERSION" "$SAILPLAN_HELM_VERSION"
}

# pid_is_ours PID STATE_DIR: true when PID is alive and its command line mentions STATE_DIR, i.e. it is a
# process this tooling started for that state directory (guards against PID reuse after a reboot).
pid_is_ours() {
    local pid="$1" state="$2" cmdline
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        return 1
    fi
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    case "$cmdline" in
        *"$state"*) return 0 ;;
        *) return 1 ;;
    esac
}

# pass DESCRIPTION: logs a passed smoke check.
pass() { log "PASS: $*"; }

# eventually SECONDS DESCRIPTION COMMAND...: retries COMMAND every 0.5s for up to SECONDS, then dies.
eventually() {
    local limit="$1" what="$2" deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || die "not within ${limit}s: $what"
        sleep 0.5
    done
    pass "$what ($((limit - deadline + SECONDS))s)"
}
