#!/usr/bin/env bash
# The recipe of the cached Bazel 7 root (.ci/bazel7.sh runs it; its sha256 keys the cache, so
# a change here makes a new root): a Debian sid root with sid's bazel-bootstrap (7.x) and a
# registry of empty stand-in modules for what Debian's bazel_tools asks for.
#
#   bash .ci/bazel7-root.sh DEST FINAL     (DEST empty; FINAL: where DEST will be moved)
#
# Exit 3 with an `::error::` line when sid cannot be bootstrapped or Bazel not installed,
# after one retry each (sid moves; a mirror hiccups).
set -euo pipefail
DEST=${1:?usage: bash .ci/bazel7-root.sh DEST FINAL}
FINAL=${2:?usage: bash .ci/bazel7-root.sh DEST FINAL}
MIRROR=${STARTUP_HARNESS_DEBIAN_MIRROR:-http://deb.debian.org/debian}

fail() {
  echo "::error::Bazel 7 set-up: $*" >&2
  exit 3
}

unmount_under() {  # what debootstrap or we mounted under $1, deepest first
  findmnt -rn -o TARGET | { grep -F "$1/" || true; } | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

sid_root() {  # $1: an empty dir to make the sid root in, with bazel-bootstrap installed
  local root=$1 try
  for try in 1 2; do
    rm -rf --one-file-system "$root"
    if debootstrap --variant=minbase sid "$root" "$MIRROR"; then break; fi
    unmount_under "$root"
    [ "$try" = 2 ] && fail "debootstrap of Debian sid from $MIRROR failed twice (sid may be" \
      "broken today, or the mirror unreachable): the bzlmod end-to-end test cannot run"
    echo "debootstrap of sid failed; retrying once" >&2
    sleep 10
  done
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/99novalid"
  echo 'Acquire::Retries "3";' > "$root/etc/apt/apt.conf.d/99retries"
  # OpenJDK's postinst runs java, which needs /proc (sid 2026-12: openjdk-25)
  mount -t proc proc "$root/proc"
  local install='dpkg --configure -a && apt-get update -qq && DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends bazel-bootstrap'
  if ! chroot "$root" /bin/sh -c "$install"; then
    echo "apt-get install bazel-bootstrap in sid failed; retrying once" >&2
    sleep 10
    chroot "$root" /bin/sh -c "$install" || {
      unmount_under "$root"
      fail "apt-get install bazel-bootstrap in a Debian sid root failed twice (see above)"
    }
  fi
  umount "$root/proc"
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*_Packages
}

# Empty stand-in modules, for what Debian's bazel_tools depends on beyond its own local
# copies (buildozer's also has the extension bazel_tools uses).
stand_ins() {  # $1: the registry, $2: the path it will have once in place, then NAME@VERSION...
  python3 - "$@" <<'PY'
import json, os, sys
reg, final, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(reg, exist_ok=True)
open(os.path.join(reg, "bazel_registry.json"), "w").write("{}\n")
BUILDOZER = '''def _repo_impl(rctx):
    rctx.file("BUILD.bazel", "")

_repo = repository_rule(implementation = _repo_impl)

def _ext_impl(mctx):
    _repo(name = "buildozer_binary")

buildozer_binary = module_extension(
    implementation = _ext_impl,
    tag_classes = {"buildozer": tag_class(attrs = {"sha256": attr.string_dict(),
                                                   "version": attr.string()})},
)
'''
for spec in specs:
    name, version = spec.split("@")
    src = os.path.join(reg, "src", f"{name}-{version}")
    os.makedirs(src, exist_ok=True)
    module = f'module(name = "{name}", version = "{version}")\n'
    open(os.path.join(src, "MODULE.bazel"), "w").write(module)
    open(os.path.join(src, "BUILD.bazel"), "w").write('exports_files(glob(["*"]))\n')
    if name == "buildozer":
        open(os.path.join(src, "buildozer_binary.bzl"), "w").write(BUILDOZER)
    mod_dir = os.path.join(reg, "modules", name)
    os.makedirs(os.path.join(mod_dir, version), exist_ok=True)
    meta = os.path.join(mod_dir, "metadata.json")
    versions = json.load(open(meta))["versions"] if os.path.exists(meta) else []
    json.dump({"versions": sorted(set(versions + [version]))}, open(meta, "w"))
    open(os.path.join(mod_dir, version, "MODULE.bazel"), "w").write(module)
    path = os.path.join(final, "src", f"{name}-{version}")
    json.dump({"type": "local_path", "path": path},
              open(os.path.join(mod_dir, version, "source.json"), "w"))
PY
}

# The stand-ins this Bazel needs: start from those 7.7.1 asked for, then resolve an empty
# module with only this registry and add each module Bazel says it cannot find (sid moves:
# a newer bazel-bootstrap may name other versions).
discover_stand_ins() {  # $1: the sid root, $2: the registry, $3: its final path
  local root=$1 reg=$2 final=$3 scratch=$DEST/discover out missing try
  local -a bazel
  mkdir -p "$scratch/ws" "$scratch/home"
  echo 'module(name = "probe")' > "$scratch/ws/MODULE.bazel"
  bazel=(bwrap --bind "$root" / --proc /proc --dev /dev --tmpfs /tmp --bind "$scratch" "$scratch"
         --bind "$scratch/home" /root --setenv HOME /root --bind "$reg" "$final"
         --chdir "$scratch/ws" /usr/bin/bazel "--output_base=$scratch/ob" --max_idle_secs=30)
  for try in $(seq 12); do
    if out=$("${bazel[@]}" mod graph "--registry=file://$final" --noenable_workspace \
        --lockfile_mode=off 2>&1 </dev/null); then
      break
    fi
    missing=$(grep -oE 'module [A-Za-z0-9_.-]+@[^ :]+ not found in registries' <<<"$out" \
      | head -n 1 | cut -d' ' -f2)
    if [ -z "$missing" ] || [ "$try" = 12 ]; then
      "${bazel[@]}" shutdown </dev/null >/dev/null 2>&1 || true
      fail "Bazel 7 in sid does not resolve an empty module with stand-ins:" \
        "$(grep -m 3 ERROR <<<"$out" || tail -n 3 <<<"$out")"
    fi
    echo "stand-in needed: $missing" >&2
    stand_ins "$reg" "$final" "$missing"
  done
  "${bazel[@]}" shutdown </dev/null >/dev/null 2>&1 || true
  rm -rf --one-file-system "$scratch"
}

mkdir -p "$DEST"
trap 'unmount_under "$DEST"' EXIT
sid_root "$DEST/sid"
stand_ins "$DEST/registry" "$FINAL/registry" buildozer@7.1.2 apple_support@1.23.1 \
  protobuf@3.19.6 protobuf@21.7 zlib@1.3.1.bcr.3
discover_stand_ins "$DEST/sid" "$DEST/registry" "$FINAL/registry"
