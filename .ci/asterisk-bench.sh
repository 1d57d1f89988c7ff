#!/usr/bin/env bash
# asterisk-bench.sh — a real Asterisk for the tests, built from Debian's packages.
#
# Why: pbxsim is ours and can share our misunderstandings of AMI, so every
# AMI-facing test also runs against a real Asterisk. Debian 12 does not
# package Asterisk; Debian unstable does. This script builds a minimal
# unstable root (debootstrap --variant=minbase) in a cache folder, installs
# the `asterisk` package inside it, writes our test configuration from
# .ci/asterisk/ into it and runs `asterisk -f` chrooted into it, AMI bound
# to 127.0.0.1 on a free port. Nothing binary is committed: everything comes
# from Debian's archive at run time.
#
# Usage (as root):
#   bash .ci/asterisk-bench.sh up      build or reuse the root, start Asterisk,
#                                      wait for AMI, write the env file and print
#                                      it with the secrets masked
#   bash .ci/asterisk-bench.sh down    stop Asterisk cleanly, unmount
#   bash .ci/asterisk-bench.sh env     print the env file of a running bench (secrets included)
#   bash .ci/asterisk-bench.sh env-file  print the env file's path
#   bash .ci/asterisk-bench.sh status  exit 0 when the bench runs and AMI answers
#   bash .ci/asterisk-bench.sh build   only build (or check) the cached root
#   bash .ci/asterisk-bench.sh run -- CMD...   up, run CMD with the env set, down
#   bash .ci/asterisk-bench.sh cli "core show channels"   run an Asterisk CLI command
#   bash .ci/asterisk-bench.sh rendered up|down|env-file|cli CMD
#                                      a second Asterisk in the same root that
#                                      loads the files `oml render` writes: its
#                                      configuration folder is a render root's
#                                      etc/asterisk (see .ci/asterisk/rendered/)
#
# After `up`:  source "$(bash .ci/asterisk-bench.sh env-file)"
#              (default /var/cache/oml-asterisk-bench/bench.env, mode 0600)
#
# Exit codes:
#   0   success
#   1   failure (Asterisk did not start, AMI did not answer, bad config...)
#   2   usage error or missing prerequisite (not root, no debootstrap/chroot)
#   75  Debian's archive could not be reached or a package could not be
#       downloaded: CI should warn loudly and report the real-Asterisk tests
#       as skipped
#
# Environment (all optional):
#   OML_BENCH_CACHE   cache folder            (default /var/cache/oml-asterisk-bench)
#   OML_BENCH_MIRROR  Debian mirror           (default http://deb.debian.org/debian)
#   OML_BENCH_SUITE   Debian suite            (default unstable)
#   OML_BENCH_PORT    AMI port                (default: a free port from 15038 up)
#   OML_BENCH_TIMEOUT seconds to wait for AMI (default 60)
set -euo pipefail

readonly EXIT_FAIL=1
readonly EXIT_USAGE=2
readonly EXIT_DOWNLOAD=75

CACHE=${OML_BENCH_CACHE:-/var/cache/oml-asterisk-bench}
MIRROR=${OML_BENCH_MIRROR:-http://deb.debian.org/debian}
SUITE=${OML_BENCH_SUITE:-unstable}
AMI_TIMEOUT=${OML_BENCH_TIMEOUT:-60}
ROOT=$CACHE/root
BUILD=$CACHE/root.build
ENV_FILE=$CACHE/bench.env
STATE=$CACHE/state
PID_FILE=$STATE/asterisk.pid
CONF_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/asterisk
# Everything Asterisk reads and writes at run time, inside the root.
BENCH_DIR=/oml-bench
AST_CONF=$BENCH_DIR/etc/asterisk.conf
READY_MARK=.oml-bench-ready
DEBOOTSTRAP_MARK=.oml-debootstrap-ok
# Patterns in a log that mean "the network or the archive failed us".
DOWNLOAD_ERRORS='Failed getting release file|Couldn.t download|Failed to fetch|Temporary failure resolving|Could not resolve|Unable to fetch|Connection failed|Could not connect|Unable to locate package|has no installation candidate|Release file .* is not valid|Network is unreachable|Hash Sum mismatch|Some index files failed to download'

# The rendered bench: a second Asterisk in the same root whose configuration
# folder is a render root (`oml render --root $ROOT$RENDERED_DIR`).
RENDERED_DIR=/oml-rendered
RENDERED_SRC=$CONF_SRC/rendered
RENDERED_CONF=$RENDERED_DIR/etc/asterisk/asterisk.conf
RENDERED_ENV=$CACHE/rendered.env
RENDERED_PID=$STATE/rendered.pid

log() { printf '[asterisk-bench] %s\n' "$*" >&2; }
die() { local code=$1; shift; log "ERROR: $*"; exit "$code"; }

loud_download_warning() {
    cat >&2 <<EOF

######################################################################
##  WARNING: the real-Asterisk test bench could NOT be built:
##  $1
##  Debian's archive ($MIRROR, $SUITE) was unreachable or a package
##  could not be downloaded. Tests against a real Asterisk will be
##  reported as SKIPPED. Log: $2
######################################################################

EOF
}

# Classify a failed build step: a download failure exits 75, anything else 1.
fail_step() {
    local what=$1 logfile=$2
    tail -n 20 "$logfile" >&2 || true
    if grep -Eq "$DOWNLOAD_ERRORS" "$logfile"; then
        loud_download_warning "$what failed" "$logfile"
        exit "$EXIT_DOWNLOAD"
    fi
    die "$EXIT_FAIL" "$what failed (not a download problem); see $logfile"
}

need_root_and_tools() {
    [[ $(id -u) -eq 0 ]] || die "$EXIT_USAGE" "run as root (debootstrap, chroot and mount need it)"
    local t
    for t in chroot mount umount mountpoint; do
        command -v "$t" >/dev/null || die "$EXIT_USAGE" "'$t' not found; install util-linux/coreutils"
    done
}

# Mount /proc (and a /dev/pts for apt's pseudo-terminals) into a root.
mount_into() {
    local r=$1
    mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
}

umount_from() {
    local r=$1 m
    for m in "$r/proc"; do
        if mountpoint -q "$m" 2>/dev/null; then
            umount "$m" 2>/dev/null || umount -l "$m"
        fi
    done
}

# Remove a root only when nothing is mounted below it.
remove_root() {
    local r=$1
    [[ -e $r ]] || return 0
    umount_from "$r"
    if findmnt -rn -o TARGET | grep -q "^$r/"; then
        die "$EXIT_FAIL" "something is still mounted below $r; unmount it before rebuilding"
    fi
    rm -rf --one-file-system "$r"
}

root_is_healthy() {
    [[ -f $ROOT/$READY_MARK && -x $ROOT/usr/sbin/asterisk ]] || return 1
    chroot "$ROOT" /usr/sbin/asterisk -V >/dev/null 2>&1
}

build_root() {
    need_root_and_tools
    mkdir -p "$CACHE"
    if root_is_healthy; then
        log "reusing $ROOT ($(chroot "$ROOT" /usr/sbin/asterisk -V))"
        return 0
    fi
    if [[ -e $ROOT ]]; then
        log "$ROOT is not healthy (no ready mark or asterisk -V fails): rebuilding"
        remove_root "$ROOT"
    fi
    command -v debootstrap >/dev/null \
        || die "$EXIT_USAGE" "debootstrap not found: apt-get install -y debootstrap"

    # Phase 1: debootstrap (resumable: a finished one leaves a mark).
    if [[ ! -f $BUILD/$DEBOOTSTRAP_MARK ]]; then
        remove_root "$BUILD"
        local keyring=()
        [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] \
            && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
        log "debootstrap --variant=minbase $SUITE from $MIRROR (takes a few minutes; log: $CACHE/debootstrap.log)"
        if ! debootstrap --variant=minbase "${keyring[@]}" "$SUITE" "$BUILD" "$MIRROR" \
            >"$CACHE/debootstrap.log" 2>&1; then
            # debootstrap writes its own details here.
            cat "$BUILD/debootstrap/debootstrap.log" >>"$CACHE/debootstrap.log" 2>/dev/null || true
            fail_step "debootstrap" "$CACHE/debootstrap.log"
        fi
        touch "$BUILD/$DEBOOTSTRAP_MARK"
    fi

    # Phase 2: apt inside the root. The unstable Release file may carry an
    # expired Valid-Until on a mirror snapshot; no recommends keeps it small;
    # policy-rc.d stops the package from starting its own Asterisk.
    printf '%s\n' "deb $MIRROR $SUITE main" >"$BUILD/etc/apt/sources.list"
    cat >"$BUILD/etc/apt/apt.conf.d/99oml-bench" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Retries "3";
EOF
    printf '#!/bin/sh\nexit 101\n' >"$BUILD/usr/sbin/policy-rc.d"
    chmod 755 "$BUILD/usr/sbin/policy-rc.d"
    mount_into "$BUILD"
    log "installing asterisk inside the root (log: $CACHE/apt-install.log)"
    local ok=1
    {
        chroot "$BUILD" apt-get update \
            && DEBIAN_FRONTEND=noninteractive chroot "$BUILD" apt-get install -y asterisk \
            && chroot "$BUILD" apt-get clean
    } >"$CACHE/apt-install.log" 2>&1 || ok=0
    # apt-get update exits 0 even when an index failed to download.
    if grep -Eq '^(W|E): .*(Failed to fetch|Some index files failed)' "$CACHE/apt-install.log"; then
        ok=0
    fi
    umount_from "$BUILD"
    [[ $ok -eq 1 ]] || fail_step "apt-get install asterisk" "$CACHE/apt-install.log"

    local version
    version=$(chroot "$BUILD" /usr/sbin/asterisk -V 2>&1) \
        || die "$EXIT_FAIL" "asterisk was installed but 'asterisk -V' fails: $version"
    printf '%s\nbuilt %s from %s %s\n' "$version" "$(date -u +%FT%TZ)" "$MIRROR" "$SUITE" \
        >"$BUILD/$READY_MARK"
    mv "$BUILD" "$ROOT"
    log "root ready: $version"
}

# A TCP port nothing listens on, from 15038 up.
free_port() {
    local p used
    used=$(ss -Hltn 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
    for ((p = 15038; p < 15538; p++)); do
        grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
    done
    die "$EXIT_FAIL" "no free TCP port in 15038..15537"
}

random_secret() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# Read the AMI greeting: 0 when "Asterisk Call Manager/..." arrives.
ami_answers() {
    local port=$1
    # A subshell, so a refused connection's message can be silenced.
    (
        exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
        IFS= read -r -t 3 line <&3 || exit 1
        [[ $line == "Asterisk Call Manager/"* ]]
    ) 2>/dev/null
}

asterisk_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(cat "$PID_FILE")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

env_port() {
    [[ -f $ENV_FILE ]] && sed -n 's/^export OML_TEST_ASTERISK_PORT=//p' "$ENV_FILE"
}

is_running() {
    asterisk_pid >/dev/null || return 1
    local port
    port=$(env_port) || return 1
    [[ -n $port ]] && ami_answers "$port"
}

write_config() {
    local port=$1 secret=$2 d=$ROOT$BENCH_DIR
    [[ -d $CONF_SRC ]] || die "$EXIT_FAIL" "configuration folder $CONF_SRC is missing"
    mkdir -p "$d/etc" "$d/lib" "$d/spool" "$d/run" "$d/log"
    rm -f "$d/etc/"*.conf "$d/lib/astdb.sqlite3" "$d/run/"*
    local f
    for f in "$CONF_SRC"/*.conf; do
        install -m 0644 "$f" "$d/etc/"
    done
    sed -e "s/@PORT@/$port/g" -e "s/@SECRET@/$secret/g" "$CONF_SRC/manager.conf.in" >"$d/etc/manager.conf"
    chmod 0600 "$d/etc/manager.conf"
}

cmd_up() {
    need_root_and_tools
    if is_running; then
        log "already running (pid $(asterisk_pid)); env file: $ENV_FILE"
        print_env_masked
        return 0
    fi
    # A stale instance (pid alive but AMI dead, or mounts left over).
    cmd_down >/dev/null 2>&1 || true
    build_root

    local port secret
    port=${OML_BENCH_PORT:-$(free_port)}
    secret=$(random_secret)
    write_config "$port" "$secret"
    mkdir -p "$STATE"
    mount_into "$ROOT"

    log "starting asterisk -f in $ROOT (AMI 127.0.0.1:$port)"
    # setsid: the bench outlives this shell and gets no terminal signals.
    setsid chroot "$ROOT" /usr/sbin/asterisk -f -C "$AST_CONF" \
        </dev/null >"$ROOT$BENCH_DIR/log/console.log" 2>&1 &
    echo $! >"$PID_FILE"

    local waited=0
    until ami_answers "$port"; do
        if ! asterisk_pid >/dev/null; then
            tail -n 30 "$ROOT$BENCH_DIR/log/console.log" >&2 || true
            umount_from "$ROOT"
            die "$EXIT_FAIL" "asterisk exited during start-up; see $ROOT$BENCH_DIR/log/console.log"
        fi
        if ((waited >= AMI_TIMEOUT * 2)); then
            tail -n 30 "$ROOT$BENCH_DIR/log/console.log" >&2 || true
            cmd_down >/dev/null 2>&1 || true
            die "$EXIT_FAIL" "AMI did not answer on 127.0.0.1:$port within ${AMI_TIMEOUT}s; see $ROOT$BENCH_DIR/log/"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    # AMI answers before the dialplan and queues are loaded; wait for the
    # end of start-up so the first test does not race the module loader.
    chroot "$ROOT" /usr/sbin/asterisk -C "$AST_CONF" -rx 'core waitfullybooted' >/dev/null 2>&1 || true

    umask 077
    cat >"$ENV_FILE" <<EOF
export OML_TEST_ASTERISK_HOST=127.0.0.1
export OML_TEST_ASTERISK_PORT=$port
export OML_TEST_ASTERISK_USER=omltest
export OML_TEST_ASTERISK_SECRET=$secret
export OML_TEST_ASTERISK_LIMITED_USER=omllimited
export OML_TEST_ASTERISK_LIMITED_SECRET=$secret
export OML_TEST_ASTERISK_DROP_USER=omldrop
export OML_TEST_ASTERISK_DROP_SECRET=$secret
export OML_TEST_ASTERISK_VERSION='$(chroot "$ROOT" /usr/sbin/asterisk -V)'
EOF
    log "up: $(chroot "$ROOT" /usr/sbin/asterisk -V), AMI 127.0.0.1:$port; env file: $ENV_FILE"
    print_env_masked
}

# The env file with secrets masked, for logs (`env` prints it in full).
print_env_masked() {
    sed -E "s/^(export [A-Z_]*SECRET)=.*/\1=<see $(printf '%s' "$ENV_FILE" | sed 's/[\/&]/\\&/g')>/" "$ENV_FILE"
}

cmd_down() {
    need_root_and_tools
    rendered_down >/dev/null 2>&1 || true
    local pid
    if pid=$(asterisk_pid); then
        log "stopping asterisk (pid $pid)"
        chroot "$ROOT" /usr/sbin/asterisk -C "$AST_CONF" -rx 'core stop gracefully' >/dev/null 2>&1 || true
        local i
        for ((i = 0; i < 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "asterisk ignored 'core stop gracefully'; sending SIGTERM"
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 10; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.5
            done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PID_FILE" "$ENV_FILE"
    [[ -d $ROOT ]] && umount_from "$ROOT"
    log "down"
}

cmd_env() {
    is_running || die "$EXIT_FAIL" "the bench is not running; start it with: bash $0 up"
    cat "$ENV_FILE"
}

cmd_cli() {
    is_running || die "$EXIT_FAIL" "the bench is not running; start it with: bash $0 up"
    chroot "$ROOT" /usr/sbin/asterisk -C "$AST_CONF" -rx "$*"
}

cmd_run() {
    [[ ${1:-} == -- ]] && shift
    [[ $# -gt 0 ]] || die "$EXIT_USAGE" "usage: $0 run -- COMMAND [ARGS...]"
    cmd_up >/dev/null
    trap 'cmd_down' EXIT
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    "$@"
}

rendered_pid() {
    [[ -f $RENDERED_PID ]] || return 1
    local pid
    pid=$(cat "$RENDERED_PID")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

rendered_running() {
    rendered_pid >/dev/null || return 1
    local port
    port=$(sed -n 's/^export OML_TEST_RENDERED_ASTERISK_PORT=//p' "$RENDERED_ENV" 2>/dev/null)
    [[ -n $port ]] && ami_answers "$port"
}

# Starts the rendered bench with the bench's own files (asterisk.conf,
# modules, logger, manager, and the extensions.conf/queues.conf that include
# the rendered oml_*.conf); whatever `oml render` wrote there stays.
rendered_up() {
    need_root_and_tools
    if rendered_running; then
        log "rendered bench already running (pid $(rendered_pid)); env file: $RENDERED_ENV"
        return 0
    fi
    rendered_down >/dev/null 2>&1 || true
    root_is_healthy || die "$EXIT_FAIL" "the bench root is not built: run 'bash $0 up' first"
    local d=$ROOT$RENDERED_DIR port secret f
    port=${OML_BENCH_RENDERED_PORT:-$(free_port)}
    secret=$(random_secret)
    mkdir -p "$d/etc/asterisk" "$d/lib" "$d/spool" "$d/run" "$d/log"
    rm -f "$d/lib/astdb.sqlite3" "$d/run/"*
    for f in asterisk.conf modules.conf extensions.conf queues.conf amd.conf; do
        install -m 0644 "$RENDERED_SRC/$f" "$d/etc/asterisk/"
    done
    install -m 0644 "$CONF_SRC/logger.conf" "$d/etc/asterisk/"
    # The customers' greetings (person, machine) for AMD() (issue 18).
    mkdir -p "$d/sounds"
    python3 "$RENDERED_SRC/greetings.py" "$d/sounds" ||
        die "$EXIT_FAIL" "cannot write the customers' greetings into $d/sounds (python3)"
    sed -e "s/@PORT@/$port/g" -e "s/@SECRET@/$secret/g" "$RENDERED_SRC/manager.conf.in" \
        >"$d/etc/asterisk/manager.conf"
    chmod 0600 "$d/etc/asterisk/manager.conf"
    mkdir -p "$STATE"
    mount_into "$ROOT"
    log "starting the rendered bench (AMI 127.0.0.1:$port, configuration $d/etc/asterisk)"
    setsid chroot "$ROOT" /usr/sbin/asterisk -f -C "$RENDERED_CONF" \
        </dev/null >"$d/log/console.log" 2>&1 &
    echo $! >"$RENDERED_PID"
    local waited=0
    until ami_answers "$port"; do
        if ! rendered_pid >/dev/null || ((waited >= AMI_TIMEOUT * 2)); then
            tail -n 30 "$d/log/console.log" >&2 || true
            rendered_down >/dev/null 2>&1 || true
            die "$EXIT_FAIL" "the rendered bench did not answer on 127.0.0.1:$port; see $d/log/"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    chroot "$ROOT" /usr/sbin/asterisk -C "$RENDERED_CONF" -rx 'core waitfullybooted' >/dev/null 2>&1 || true
    (
        umask 077
        printf 'export %s\n' \
            "OML_TEST_RENDERED_ASTERISK_HOST=127.0.0.1" \
            "OML_TEST_RENDERED_ASTERISK_PORT=$port" \
            "OML_TEST_RENDERED_ASTERISK_USER=omltest" \
            "OML_TEST_RENDERED_ASTERISK_SECRET=$secret" \
            "OML_TEST_RENDERED_ASTERISK_ROOT=$d" >"$RENDERED_ENV"
    )
    log "rendered bench up: AMI 127.0.0.1:$port; render into $d; env file: $RENDERED_ENV"
}

rendered_down() {
    need_root_and_tools
    local pid i
    if pid=$(rendered_pid); then
        log "stopping the rendered bench (pid $pid)"
        chroot "$ROOT" /usr/sbin/asterisk -C "$RENDERED_CONF" -rx 'core stop now' >/dev/null 2>&1 || true
        for ((i = 0; i < 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$RENDERED_PID" "$RENDERED_ENV"
}

cmd_rendered() {
    case ${1:-} in
        up) rendered_up ;;
        down) rendered_down ;;
        env-file) echo "$RENDERED_ENV" ;;
        cli)
            shift
            rendered_running || die "$EXIT_FAIL" "the rendered bench is not running: bash $0 rendered up"
            chroot "$ROOT" /usr/sbin/asterisk -C "$RENDERED_CONF" -rx "$*"
            ;;
        *) die "$EXIT_USAGE" "usage: $0 rendered up|down|env-file|cli CMD" ;;
    esac
}

case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    env-file) echo "$ENV_FILE" ;;
    status) is_running && log "running: pid $(asterisk_pid), AMI port $(env_port)" ;;
    build) build_root ;;
    run) shift; cmd_run "$@" ;;
    cli) shift; cmd_cli "$@" ;;
    rendered) shift; cmd_rendered "$@" ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
        exit "$EXIT_USAGE"
        ;;
esac
