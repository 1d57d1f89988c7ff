#!/usr/bin/env bash
# package-test.sh — builds oml's Debian package and tries it as an
# administrator would, in a clean Debian 12 root: install, `oml init`,
# `oml serve` started from the unit's own lines as user oml, a login over
# HTTP, a backup and a restore, an upgrade whose pre-flight fails (the
# database unreadable: postinst stops, the service keeps running, the
# database is untouched), an upgrade (the same binary packed under a
# higher version: it runs the upgrade scripts without a second build), a
# refused downgrade that leaves the installed package running, then
# `apt-get remove` and `apt-get purge` and what each leaves; last, in a
# second clean root, a real upgrade: the package of the previous commit
# (built from its own tree, scripts and all) installed and used, then
# upgraded to this one, its data kept. Every step asserts; the first failure
# stops the script with its reason.
#
# The root: `debootstrap --variant=minbase bookworm` once per machine into
# a cache folder (as .ci/asterisk-bench.sh does), with adduser installed;
# each run copies it, so every run starts clean. There is no systemd in it
# (systemd-nspawn is not on the CI machine): the service is started by
# running the unit's Environment= and ExecStart= lines with `runuser -u oml`.
#
# Usage (as root): bash .ci/package-test.sh [--no-build | --test-binary]
#   --no-build      pack the binary already in target/package-ci/
#   --test-binary   pack the debug binary the test run built (stripped into
#                   target/package-ci/): what .ci/run does, since the test
#                   is about the package, its scripts and the service, and a
#                   second, optimised build of the workspace would double
#                   CI's time. `bash packaging/build-deb.sh` builds the
#                   release package.
# Exit codes: 0 all steps passed; 1 a step failed; 2 missing prerequisite;
#             75 Debian's archive unreachable (the root could not be built).
# Environment: OML_PKG_PREVIOUS (default HEAD~1: the commit whose package is
#              upgraded from; "none" skips that step with a warning),
#              OML_PKG_CACHE (default /var/cache/oml-package-test),
#              OML_PKG_MIRROR (default http://deb.debian.org/debian),
#              OML_PKG_PORT (default: a free port from 18080 up).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${OML_PKG_CACHE:-/var/cache/oml-package-test}
MIRROR=${OML_PKG_MIRROR:-http://deb.debian.org/debian}
BASE=$CACHE/base
ROOT=$CACHE/run
OUT=$CACHE/debs
READY=.oml-base-ready
T0=$(date +%s)

log() { printf '[package-test %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }
in_root() { chroot "$ROOT" "$@"; }
as_oml() { in_root runuser -u oml -- /usr/bin/oml --data-dir /var/lib/oml "$@"; }

build_args=(--fast)
case ${1:-} in
    --no-build) build_args+=(--no-build) ;;
    --test-binary)
        [[ -x target/debug/oml ]] || { log "no target/debug/oml: run the tests first"; exit 2; }
        mkdir -p target/package-ci
        strip -o target/package-ci/oml target/debug/oml
        build_args+=(--no-build)
        ;;
esac

[[ $(id -u) -eq 0 ]] || { log "run as root (debootstrap, chroot)"; exit 2; }
for t in debootstrap chroot curl runuser ss; do
    command -v "$t" >/dev/null || { log "'$t' not found"; exit 2; }
done
mkdir -p "$CACHE"
if ! command -v cargo-deb >/dev/null; then
    log "installing cargo-deb from crates.io (once per machine)"
    cargo install cargo-deb --locked --version '^3' >"$CACHE/cargo-deb.log" 2>&1 \
        || { tail -n 20 "$CACHE/cargo-deb.log" >&2; fail "cargo install cargo-deb"; }
fi

# --- the clean root, made once per machine --------------------------------
build_base() {
    [[ -f $BASE/$READY ]] && return 0
    rm -rf --one-file-system "$BASE.build"
    mkdir -p "$CACHE"
    log "debootstrap bookworm into $BASE (once per machine; log $CACHE/debootstrap.log)"
    local keyring=()
    [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] \
        && keyring=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)
    if ! debootstrap --variant=minbase --include=adduser "${keyring[@]}" \
        bookworm "$BASE.build" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
        tail -n 20 "$CACHE/debootstrap.log" >&2
        if grep -Eq 'Failed getting release file|Couldn.t download|Temporary failure resolving|Could not resolve|Network is unreachable' \
            "$CACHE/debootstrap.log"; then
            log "WARNING: Debian's archive is unreachable: the package test is SKIPPED"
            exit 75
        fi
        fail "debootstrap (see $CACHE/debootstrap.log)"
    fi
    date -u +%FT%TZ >"$BASE.build/$READY"
    rm -rf --one-file-system "$BASE"
    mv "$BASE.build" "$BASE"
}

cleanup() {
    # The process group `setsid` made for the service: runuser and oml serve.
    if [[ -n ${LAUNCH_PID:-} ]]; then kill -- "-$LAUNCH_PID" 2>/dev/null || true; fi
    if mountpoint -q "$ROOT/proc" 2>/dev/null; then umount "$ROOT/proc" || umount -l "$ROOT/proc"; fi
}
trap cleanup EXIT

# --- the previous commit's package --------------------------------------------
# Built first: its build overwrites target/debug/oml, which the current
# package is packed from next. The tree comes from `git archive` (no work
# tree, no .git changes); its workspace crates build into this target folder,
# so only they compile (dependencies are shared), in the test run's profile.
PREV_REF=${OML_PKG_PREVIOUS:-HEAD~1}
PREV_DEB=
build_previous() {
    local src=$CACHE/prev-src saved=$CACHE/oml-current rev version
    if [[ $PREV_REF == none ]]; then
        log "WARNING: OML_PKG_PREVIOUS=none: the upgrade from a previous package is SKIPPED"
        return 0
    fi
    if ! rev=$(git rev-parse --verify -q "$PREV_REF^{commit}"); then
        log "WARNING: $PREV_REF is not in this clone (shallow?): the upgrade from a previous package is SKIPPED"
        return 0
    fi
    rm -rf --one-file-system "$src"
    mkdir -p "$src"
    git archive "$rev" | tar -x -C "$src"
    if [[ ! -f $src/packaging/build-deb.sh ]]; then
        log "WARNING: $PREV_REF ($rev) has no packaging/build-deb.sh: the upgrade from a previous package is SKIPPED"
        return 0
    fi
    [[ -x target/debug/oml ]] && cp -p target/debug/oml "$saved"
    log "building the previous commit $PREV_REF (${rev:0:12}) (log $CACHE/prev-build.log)"
    (cd "$src" && CARGO_TARGET_DIR="$PWD_TOP/target" cargo build --locked -p oml) >"$CACHE/prev-build.log" 2>&1 \
        || {
            # This commit's package is what is under test: a broken earlier
            # commit is reported, not held against it.
            tail -n 30 "$CACHE/prev-build.log" >&2
            log "WARNING: the previous commit $rev does not build: the upgrade from a previous package is SKIPPED"
            if [[ -f $saved ]]; then rm -f target/debug/oml && cp -p "$saved" target/debug/oml; fi
            return 0
        }
    mkdir -p "$src/target/package-ci"
    strip -o "$src/target/package-ci/oml" target/debug/oml
    # A new inode: target/debug/oml is a hard link into target/debug/deps.
    if [[ -f $saved ]]; then rm -f target/debug/oml && cp -p "$saved" target/debug/oml; fi
    version=$(cd "$src" && cargo metadata --no-deps --format-version 1 \
        | sed -n 's/.*"name":"oml","version":"\([^"]*\)".*/\1/p')
    PREV_DEB=$(cd "$src" && bash packaging/build-deb.sh --profile package-ci --no-build --fast \
        --output "$OUT/prev" --deb-version "$version~prev-1" | tail -n1) \
        || fail "the previous commit's build-deb.sh"
    [[ -f $PREV_DEB ]] || fail "no previous package: $PREV_DEB"
    log "previous package: $(basename "$PREV_DEB") ($(du -h "$PREV_DEB" | cut -f1))"
}
PWD_TOP=$PWD

build_base
build_previous
log "building the packages"
mapfile -t DEBS < <(bash packaging/build-deb.sh --profile package-ci "${build_args[@]}" --output "$OUT" \
    --deb-version "$(cargo metadata --no-deps --format-version 1 \
        | sed -n 's/.*"name":"oml","version":"\([^"]*\)".*/\1/p')-2")
[[ ${#DEBS[@]} -eq 2 && -f ${DEBS[0]} && -f ${DEBS[1]} ]] || fail "build-deb.sh did not give two packages: ${DEBS[*]}"
FIRST=$(basename "${DEBS[0]}")
BUMPED=$(basename "${DEBS[1]}")
log "packages: $FIRST ($(du -h "${DEBS[0]}" | cut -f1)), $BUMPED"

log "a clean copy of the root"
cleanup
rm -rf --one-file-system "$ROOT"
cp -a "$BASE" "$ROOT"
mount -t proc proc "$ROOT/proc"
cp "${DEBS[@]}" "$ROOT/tmp/"

# --- install ----------------------------------------------------------------
log "install $FIRST"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "/tmp/$FIRST" \
    >"$CACHE/install.log" 2>&1 || { cat "$CACHE/install.log" >&2; fail "apt-get install"; }
grep -q "sudo -u oml oml --data-dir /var/lib/oml init" "$CACHE/install.log" || fail "postinst did not say how to start"
in_root oml --version | grep -q '^oml ' || fail "/usr/bin/oml does not run"
uid=$(in_root id -u oml) || fail "no user oml"
((uid < 1000)) || fail "user oml is not a system user (uid $uid)"
[[ $(in_root stat -c %U /var/lib/oml) == oml && $(in_root stat -c %U /var/backups/oml) == oml ]] \
    || fail "/var/lib/oml and /var/backups/oml are not oml's"
[[ $(readlink "$ROOT/var/lib/oml/oml.toml") == /etc/oml/oml.toml ]] || fail "no link to /etc/oml/oml.toml"
# Asterisk writes the recordings: group oml, group-writable, setgid.
[[ $(in_root stat -c '%U:%G %a' /var/lib/oml/recordings) == "oml:oml 2770" ]] \
    || fail "/var/lib/oml/recordings is $(in_root stat -c '%U:%G %a' /var/lib/oml/recordings), not oml:oml 2770"
[[ $(in_root stat -c '%U:%G %a' /var/lib/oml/sounds) == "oml:oml 750" ]] || fail "/var/lib/oml/sounds is not oml:oml 750"
if in_root getent passwd asterisk >/dev/null; then
    in_root id -nG asterisk | tr ' ' '\n' | grep -qx oml || fail "user asterisk is not in group oml"
fi
in_root dpkg-query -W -f='${Conffiles}\n' oml | grep -q '/etc/oml/oml.toml' || fail "oml.toml is not a conffile"
for f in usr/lib/systemd/system/oml.service usr/share/man/man1/oml.1.gz usr/share/man/man1/oml-serve.1.gz \
    usr/share/bash-completion/completions/oml usr/share/zsh/vendor-completions/_oml \
    usr/share/fish/vendor_completions.d/oml.fish; do
    [[ -f $ROOT/$f ]] || fail "the package lacks /$f"
done
UNIT=$ROOT/usr/lib/systemd/system/oml.service
[[ -L $ROOT/etc/systemd/system/multi-user.target.wants/oml.service ]] || fail "oml.service is not enabled"

# --- init, serve, login -----------------------------------------------------
log "oml init as user oml"
printf 'package test password 1\n' >"$ROOT/tmp/pw"
chmod 644 "$ROOT/tmp/pw"
as_oml init --admin-password-file /tmp/pw | tee "$CACHE/init.log" >&2
grep -q "Initialised oml in /var/lib/oml (sqlite database" "$CACHE/init.log" || fail "oml init"
[[ $(in_root stat -c %U /var/lib/oml/oml.db) == oml ]] || fail "oml.db is not oml's"
[[ $(readlink "$ROOT/var/lib/oml/oml.toml") == /etc/oml/oml.toml ]] \
    || fail "oml init replaced the link /var/lib/oml/oml.toml -> /etc/oml/oml.toml"

PORT=${OML_PKG_PORT:-}
if [[ -z $PORT ]]; then
    used=$(ss -Hltn | awk '{print $4}' | sed 's/.*://' | sort -u)
    for ((PORT = 18080; PORT < 18580; PORT++)); do grep -qx "$PORT" <<<"$used" || break; done
fi
# An administrator's edit of the conffile, which upgrades must keep.
sed -i "s|^listen = \"127.0.0.1:8080\"|listen = \"127.0.0.1:$PORT\"|" "$ROOT/etc/oml/oml.toml"
grep -q "^listen = \"127.0.0.1:$PORT\"" "$ROOT/etc/oml/oml.toml" || fail "cannot edit the conffile"

start_serve() {
    # The unit's own lines: User=, Environment=, ExecStart=.
    local user env exec
    user=$(sed -n 's/^User=//p' "$UNIT")
    env=$(sed -n 's/^Environment=//p' "$UNIT")
    exec=$(sed -n 's/^ExecStart=//p' "$UNIT")
    [[ $user == oml && -n $env && -n $exec ]] || fail "the unit lacks User=, Environment= or ExecStart="
    log "start: runuser -u $user -- env $env $exec"
    # shellcheck disable=SC2086
    setsid chroot "$ROOT" runuser -u "$user" -- env $env $exec >"$CACHE/serve.log" 2>&1 &
    LAUNCH_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        SERVE_PID=$(ss -Hltnp "sport = :$PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n1)
        [[ -n $SERVE_PID ]] && break
        sleep 0.2
    done
    [[ -n $SERVE_PID ]] || { cat "$CACHE/serve.log" >&2; fail "oml serve does not listen on $PORT"; }
    [[ $(stat -c %u "/proc/$SERVE_PID") == "$uid" ]] \
        || fail "oml serve does not run as oml"
}

stop_serve() {
    kill -TERM "$SERVE_PID"
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.2
    done
    ! kill -0 "$SERVE_PID" 2>/dev/null || fail "oml serve did not stop on SIGTERM"
    wait "$LAUNCH_PID" 2>/dev/null || true
    SERVE_PID= LAUNCH_PID=
}

login() {
    local jar=$CACHE/cookies token code
    rm -f "$jar"
    token=$(curl -sf -c "$jar" "http://127.0.0.1:$PORT/login" \
        | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n1)
    [[ -n $token ]] || fail "no login form at http://127.0.0.1:$PORT/login"
    code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -b "$jar" -c "$jar" \
        --data-urlencode username=admin --data-urlencode "password=$1" \
        --data-urlencode "csrf_token=$token" "http://127.0.0.1:$PORT/login")
    [[ $code == 303* && $code != *"/login"* ]] || fail "login as admin answered $code"
    code=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "http://127.0.0.1:$PORT/")
    [[ $code == 200 ]] || fail "the console after login answered $code"
    log "logged in over HTTP as admin"
}

start_serve
login 'package test password 1'

# --- backup and restore ------------------------------------------------------
log "backup, a change, restore"
as_oml backup | tee "$CACHE/backup.log" >&2
archive=$(sed -n 's|^backup written: /var/backups/oml/\([^ ]*\) .*|\1|p' "$CACHE/backup.log")
[[ -n $archive && -f $ROOT/var/backups/oml/$archive ]] || fail "no archive in /var/backups/oml"
printf 'a second password 22\n' >"$ROOT/tmp/pw2"
chmod 644 "$ROOT/tmp/pw2"
as_oml users add later --role admin --password-file /tmp/pw2 >&2
as_oml users list | grep -q later || fail "users add"
stop_serve
as_oml restore "$archive" --yes >&2
as_oml users list | grep -q later && fail "the restore did not put the users back"
[[ -L $ROOT/var/lib/oml/oml.toml ]] || fail "the restore replaced the link to /etc/oml/oml.toml"

# --- upgrade ------------------------------------------------------------------
log "an upgrade whose pre-flight fails leaves the database and the running service alone"
start_serve
db=$ROOT/var/lib/oml/oml.db
mode=$(stat -c %a "$db")
sum=$(sha256sum <"$db")
chmod 000 "$db" # the database does not open for user oml: `oml migrate --check` fails
if in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "/tmp/$BUMPED" \
    >"$CACHE/upgrade-refused.log" 2>&1; then
    fail "the upgrade went on although its pre-flight (oml migrate --check) failed"
fi
grep -q "pre-flight of the upgrade from .* failed" "$CACHE/upgrade-refused.log" \
    || { cat "$CACHE/upgrade-refused.log" >&2; fail "postinst did not say that the pre-flight failed"; }
grep -q "dpkg --configure -a" "$CACHE/upgrade-refused.log" || fail "postinst did not say how to finish"
chmod "$mode" "$db"
[[ $(sha256sum <"$db") == "$sum" ]] || fail "the failed pre-flight changed the database"
[[ $(in_root dpkg-query -W -f='${db:Status-Abbrev}' oml) != ii* ]] || fail "the failed pre-flight left the package configured"
kill -0 "$SERVE_PID" || fail "the failed pre-flight stopped the running service"
login 'package test password 1'
stop_serve

log "upgrade to $BUMPED"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "/tmp/$BUMPED" \
    >"$CACHE/upgrade.log" 2>&1 || { cat "$CACHE/upgrade.log" >&2; fail "the upgrade"; }
grep -Eq 'nothing to migrate|pre-flight: ok' "$CACHE/upgrade.log" || { cat "$CACHE/upgrade.log" >&2; fail "postinst did not run oml migrate"; }
bumped_version=${BUMPED#oml_}
bumped_version=${bumped_version%_*.deb}
[[ $(in_root dpkg-query -W -f='${Version} ${db:Status-Abbrev}' oml) == "$bumped_version ii"* ]] \
    || fail "after the upgrade oml is not $bumped_version, installed"
grep -q "^listen = \"127.0.0.1:$PORT\"" "$ROOT/etc/oml/oml.toml" || fail "the upgrade lost the conffile edit"
start_serve
login 'package test password 1'

log "a downgrade is refused and the installed package keeps running"
before=$(in_root dpkg-query -W -f='${Version} ${db:Status-Abbrev}' oml)
if in_root dpkg -i "/tmp/$FIRST" >"$CACHE/downgrade.log" 2>&1; then
    fail "the downgrade was accepted"
fi
grep -q "refusing to downgrade" "$CACHE/downgrade.log" || { cat "$CACHE/downgrade.log" >&2; fail "no reason for the refusal"; }
[[ $(in_root dpkg-query -W -f='${Version} ${db:Status-Abbrev}' oml) == "$before" ]] || fail "the refused downgrade changed the package"
kill -0 "$SERVE_PID" || fail "the refused downgrade stopped the service"
login 'package test password 1'
stop_serve

# --- remove, purge --------------------------------------------------------------
log "apt-get remove"
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q -o Dpkg::Use-Pty=0 oml >"$CACHE/remove.log" 2>&1 \
    || { cat "$CACHE/remove.log" >&2; fail "apt-get remove"; }
[[ ! -e $ROOT/usr/bin/oml ]] || fail "remove left /usr/bin/oml"
for f in var/lib/oml/oml.db "var/backups/oml/$archive" etc/oml/oml.toml; do
    [[ -e $ROOT/$f ]] || fail "remove deleted /$f"
done
in_root id oml >/dev/null || fail "remove deleted the user"

log "apt-get purge (with a recording)"
printf 'RIFF' >"$ROOT/var/lib/oml/recordings/call-1.wav"
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q -o Dpkg::Use-Pty=0 oml >"$CACHE/purge.log" 2>&1 \
    || { cat "$CACHE/purge.log" >&2; fail "apt-get purge"; }
cat "$CACHE/purge.log" | grep '^oml:' >&2 || true
in_root id oml >/dev/null 2>&1 && fail "purge kept the user oml"
for f in var/lib/oml/oml.db var/lib/oml/oml.toml etc/oml; do
    [[ ! -e $ROOT/$f && ! -L $ROOT/$f ]] || fail "purge left /$f"
done
[[ -f $ROOT/var/lib/oml/recordings/call-1.wav ]] || fail "purge deleted a recording"
[[ -f $ROOT/var/backups/oml/$archive ]] || fail "purge deleted a backup"
grep -q "kept /var/backups/oml" "$CACHE/purge.log" || fail "purge did not say it kept the backups"
grep -q "kept /var/lib/oml/recordings" "$CACHE/purge.log" || fail "purge did not say it kept the recordings"

# --- a real upgrade: the previous commit's package, then this one --------------------
if [[ -n $PREV_DEB ]]; then
    PREV=$(basename "$PREV_DEB")
    log "a clean copy of the root for the upgrade from $PREV"
    cleanup
    rm -rf --one-file-system "$ROOT"
    cp -a "$BASE" "$ROOT"
    mount -t proc proc "$ROOT/proc"
    cp "$PREV_DEB" "${DEBS[0]}" "$ROOT/tmp/"
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "/tmp/$PREV" \
        >"$CACHE/prev-install.log" 2>&1 || { cat "$CACHE/prev-install.log" >&2; fail "apt-get install $PREV"; }
    uid=$(in_root id -u oml) || fail "no user oml after installing $PREV"
    printf 'package test password 1\n' >"$ROOT/tmp/pw"
    chmod 644 "$ROOT/tmp/pw"
    as_oml init --admin-password-file /tmp/pw >"$CACHE/prev-init.log" 2>&1 \
        || { cat "$CACHE/prev-init.log" >&2; fail "oml init of $PREV"; }
    sed -i "s|^listen = \"127.0.0.1:8080\"|listen = \"127.0.0.1:$PORT\"|" "$ROOT/etc/oml/oml.toml"
    printf 'a second password 22\n' >"$ROOT/tmp/pw2"
    chmod 644 "$ROOT/tmp/pw2"
    as_oml users add kept --role admin --password-file /tmp/pw2 >&2
    start_serve
    login 'package test password 1'
    stop_serve
    log "upgrade from $PREV to $FIRST"
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Use-Pty=0 "/tmp/$FIRST" \
        >"$CACHE/prev-upgrade.log" 2>&1 || { cat "$CACHE/prev-upgrade.log" >&2; fail "the upgrade from $PREV"; }
    grep -Eq 'nothing to migrate|pre-flight: ok' "$CACHE/prev-upgrade.log" \
        || { cat "$CACHE/prev-upgrade.log" >&2; fail "postinst did not run oml migrate on the upgrade from $PREV"; }
    first_version=${FIRST#oml_}
    first_version=${first_version%_*.deb}
    [[ $(in_root dpkg-query -W -f='${Version} ${db:Status-Abbrev}' oml) == "$first_version ii"* ]] \
        || fail "after the upgrade from $PREV oml is not $first_version, installed"
    as_oml users list | grep -q kept || fail "the upgrade from $PREV lost a user"
    grep -q "^listen = \"127.0.0.1:$PORT\"" "$ROOT/etc/oml/oml.toml" || fail "the upgrade from $PREV lost the conffile edit"
    start_serve
    login 'package test password 1'
    stop_serve
fi

cleanup
rm -rf --one-file-system "$ROOT"
log "all package steps passed ($(($(date +%s) - T0)) s)"
