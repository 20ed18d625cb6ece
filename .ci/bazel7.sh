#!/usr/bin/env bash
# Bazel 7 (bzlmod) on a Debian bookworm machine, as root, for the bzlmod end-to-end test:
# a Debian sid root holding sid's bazel-bootstrap (7.x), made once per machine and cached,
# a registry of empty stand-in modules for what Debian's bazel_tools asks for, and a
# bubblewrap wrapper made per run that binds what this run needs.
#
#   bash .ci/bazel7.sh RUN_DIR [PATH...]
#
# The cache is CACHE/bazel7-<key> (CACHE: $STARTUP_HARNESS_CACHE, default
# /var/cache/startup-harness; key: the sha256 of its recipe, .ci/bazel7-root.sh), reused when
# its stamp and a `bazel --version` say it is whole, rebuilt when not (made aside, moved in
# place when whole); roots of other keys are then removed.
# RUN_DIR gets `bazel` (the wrapper), `home` (Bazel's user root for this run) and `env`
# (STARTUP_HARNESS_BAZEL7=... and STARTUP_HARNESS_BAZEL7_FLAGS=..., to source). The wrapper
# binds /tmp, $TMPDIR, the interpreter prefix python3's venvs link to, the stand-in registry
# and every PATH given (the clone, ...) at their real paths. Exit 3 with an `::error::` line
# when the root cannot be made (see .ci/bazel7-root.sh).
set -euo pipefail
RUN_DIR=${1:?usage: bash .ci/bazel7.sh RUN_DIR [PATH...]}
shift
CACHE=${STARTUP_HARNESS_CACHE:-/var/cache/startup-harness}
RECIPE="$(dirname "$0")/bazel7-root.sh"
KEY=$(sha256sum "$RECIPE" | cut -c1-12)
DIR="$CACHE/bazel7-$KEY"

fail() {
  echo "::error::Bazel 7 set-up: $*" >&2
  exit 3
}

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot and mount make the sid root)"

apt_install() {  # on the host: update once more and retry if the package lists are stale
  apt-get install -y -qq "$@" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "$@" >/dev/null; }
}
command -v debootstrap >/dev/null && command -v bwrap >/dev/null && command -v flock >/dev/null \
  || apt_install debootstrap bubblewrap util-linux \
  || fail "could not install debootstrap and bubblewrap with apt-get"

mkdir -p "$CACHE" "$RUN_DIR/home"
RUN_DIR=$(realpath "$RUN_DIR")

# The wrapper: a fresh root of bubblewrap's own holding the sid root's top-level entries
# (/usr, /etc, ... and the /bin -> usr/bin links), a home of this run for Bazel's install
# base, and the host's paths this run needs, at their real paths (bubblewrap makes their mount
# points, e.g. /opt/hostedtoolcache/... or /var/cache/..., which is why the sid entries are
# not read-only). No PID namespace: the server outlives the client as Bazel expects, and
# `bazel shutdown` (or its PID) stops it.
write_wrapper() {  # $1: the sid root, then the paths to bind
  local root=$1 entry name binds=() path
  shift
  for entry in "$root"/*; do
    name=${entry##*/}
    case $name in proc|dev|sys|tmp|root|home|run|mnt|media|boot|srv) continue ;; esac
    if [ -L "$entry" ]; then
      binds+=(--symlink "$(readlink "$entry")" "/$name")
    elif [ -d "$entry" ]; then
      binds+=(--bind "$entry" "/$name")
    fi
  done
  binds+=(--proc /proc --dev /dev --tmpfs /run --bind "$RUN_DIR/home" /root
          --setenv HOME /root --bind /tmp /tmp)
  local prefix
  prefix=$(python3 -c 'import os, sys; print(os.path.realpath(sys.base_prefix))')
  for path in "${TMPDIR:-/tmp}" "$prefix" "$DIR/registry" "$@"; do
    [ -e "$path" ] || continue
    path=$(realpath "$path")
    case $path in
      /tmp|/tmp/*) continue ;;
      /|/usr|/usr/bin|/usr/lib|/etc|/var|/opt) fail "cannot bind $path into the sid root" \
        "(it would hide sid's own): use an interpreter outside /usr, e.g. pyenv or uv's" ;;
    esac
    binds+=(--bind "$path" "$path")
  done
  {
    echo '#!/bin/sh'
    echo '# Bazel 7 in the cached Debian sid root of .ci/bazel7.sh, binding what this run uses'
    printf 'exec bwrap'
    printf ' %q' "${binds[@]}"
    printf ' --chdir "$PWD" /usr/bin/bazel "$@"\n'
  } > "$RUN_DIR/bazel"
  chmod +x "$RUN_DIR/bazel"
}

answers() {  # Bazel 7 answers through this run's wrapper
  write_wrapper "$DIR/sid" "$@"
  (cd "$RUN_DIR" && "$RUN_DIR/bazel" --version >"$RUN_DIR/version" 2>&1) || true
  grep -q '^bazel 7\.' "$RUN_DIR/version"
}

remove() {  # a root, never crossing into what is mounted under it (a /proc left by a kill)
  rm -rf --one-file-system "$@"
}

valid() {  # the cached root is whole: its stamp, and Bazel 7 answering inside it
  [ -f "$DIR/ready" ] && [ -x "$DIR/sid/usr/bin/bazel" ] && answers "$@"
}

# One set-up at a time per machine; a run of another key waits here too.
exec 9>"$CACHE/bazel7.lock"
flock 9
start=$(date +%s)
if valid "$@"; then
  how="reused"
else
  how="made"
  PARTIAL="$DIR.partial"
  trap 'remove "$PARTIAL"' EXIT
  remove "$PARTIAL" "$DIR"
  bash "$RECIPE" "$PARTIAL" "$DIR"
  mv "$PARTIAL" "$DIR"
  trap 'remove "$DIR"' EXIT
  answers "$@" || fail "Bazel in the fresh sid root does not answer 'bazel 7.x' to" \
    "--version: '$(tail -c 300 "$RUN_DIR/version")' (sid moved?): update .ci/bazel7-root.sh"
  echo "$KEY $(head -n 1 "$RUN_DIR/version") $(date -u +%FT%TZ)" > "$DIR/ready"
  trap - EXIT
  # roots of older recipes (1.6 GB or more each)
  for old in "$CACHE"/bazel7-*; do
    [ "$old" = "$DIR" ] || remove "$old"
  done
fi
version=$(cd "$RUN_DIR" && "$RUN_DIR/bazel" --version)
echo "Bazel 7: $version, sid root $how in $(( $(date +%s) - start )) s ($DIR)"
{
  printf 'STARTUP_HARNESS_BAZEL7=%q\n' "$RUN_DIR/bazel"
  printf 'STARTUP_HARNESS_BAZEL7_FLAGS=%q\n' "--registry=file://$DIR/registry"
} > "$RUN_DIR/env"
