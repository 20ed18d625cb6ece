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

# Empty stand-ins (versions Debian's bazel 7.7.1 asked for; add what a newer one names).
stand_in_registry() {  # $1: where, $2: the path it will have once in place
  python3 - "$1" "$2" buildozer@7.1.2 apple_support@1.23.1 protobuf@3.19.6 protobuf@21.7 \
    zlib@1.3.1.bcr.3 <<'PY'
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

mkdir -p "$DEST"
trap 'unmount_under "$DEST"' EXIT
sid_root "$DEST/sid"
stand_in_registry "$DEST/registry" "$FINAL/registry"
