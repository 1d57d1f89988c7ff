#!/usr/bin/env bash
# oml-toml.sh — prints the package's conffile /etc/oml/oml.toml: the
# commented oml.toml that `oml init` writes (crates/oml-config/src/default.toml,
# the one source of every key and default) under a note for packaged hosts,
# with the folders the package creates as backup_dir and recordings_dir.
# A substitution that no longer matches stops the script, so the conffile
# cannot drift from the defaults (crates/oml/tests/packaging.rs runs it).
#
# Usage: bash packaging/oml-toml.sh > target/package-assets/oml.toml
set -euo pipefail
cd "$(dirname "$0")/.."
src=crates/oml-config/src/default.toml

# The one line `key = "value"` of $src, replaced; fails unless found once.
swap() {
    local key=$1 from=$2 to=$3
    [[ $(grep -cx "$key = \"$from\"" "$src") == 1 ]] \
        || { echo "oml-toml.sh: $src has no single line $key = \"$from\"" >&2; exit 1; }
    subst+=(-e "s|^$key = \"$from\"\$|$key = \"$to\"|")
}
subst=()
swap backup_dir backup /var/backups/oml
swap recordings_dir recordings /var/lib/oml/recordings

cat <<'HEAD'
# /etc/oml/oml.toml: the configuration of the oml service (Debian package).
# oml reads it as /var/lib/oml/oml.toml, a link the package makes to this
# file. Restart after a change: systemctl restart oml. dpkg keeps your edits
# on upgrade (a conffile) and removes the file only on `apt purge`, which
# never deletes backups (/var/backups/oml) or recordings. The database URL
# goes into /etc/default/oml (OML_DATABASE_URL=..., mode 0600).
#
HEAD
sed "${subst[@]}" "$src"
