#!/usr/bin/env bash
# Bazel 7 (bzlmod) for the opt-in end-to-end test, on a Debian bookworm machine (as root):
# a Debian sid root with its bazel-bootstrap (7.x), a bubblewrap wrapper, and a local registry
# of empty stand-in modules for what Debian's bazel_tools asks for beyond its own copies.
#
#   bash bench/bazel7_setup.sh [DIR]        (default DIR: /srv/bazel7; ~1.6 GB, a few minutes)
#   STARTUP_HARNESS_BAZEL7=DIR/bazel STARTUP_HARNESS_BAZEL7_FLAGS=--registry=file://DIR/registry \
#     .venv/bin/python -m pytest tests/test_bazel.py -k bzlmod
set -euo pipefail
DIR=${1:-/srv/bazel7}
ROOT="$DIR/sid"
PY_PREFIX=$(python3 -c 'import os, sys; print(os.path.realpath(sys.base_prefix))')
command -v debootstrap >/dev/null && command -v bwrap >/dev/null \
  || apt-get install -y -qq debootstrap bubblewrap
if ! chroot "$ROOT" dpkg-query -W -f '${Status}' bazel-bootstrap 2>/dev/null \
    | grep -q "install ok installed"; then
  [ -x "$ROOT/usr/bin/apt-get" ] || debootstrap --variant=minbase sid "$ROOT" \
    http://deb.debian.org/debian
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  echo 'Acquire::Check-Valid-Until "false";' > "$ROOT/etc/apt/apt.conf.d/99novalid"
  # OpenJDK's postinst runs java, which needs /proc (sid, 2026-12: openjdk-25)
  mount -t proc proc "$ROOT/proc"
  trap 'umount "$ROOT/proc" 2>/dev/null || true' EXIT
  chroot "$ROOT" /bin/sh -c 'dpkg --configure -a && apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    bazel-bootstrap'
  umount "$ROOT/proc"
  trap - EXIT
fi
# The wrapper: the sid root as /, the host's /tmp and /work, the interpreter the fixture's
# venvs link to, and the stand-in registry. No PID namespace: the server outlives the client
# as Bazel expects, and `bazel shutdown` (or its PID) stops it.
BINDS="--bind /tmp /tmp"
[ -d /work ] && BINDS="$BINDS --bind /work /work"
cat > "$DIR/bazel" <<WRAP
#!/bin/sh
exec bwrap --bind "$ROOT" / --proc /proc --dev /dev $BINDS \\
  --ro-bind "$PY_PREFIX" "$PY_PREFIX" --ro-bind "$DIR/registry" "$DIR/registry" \\
  --chdir "\$PWD" /usr/bin/bazel "\$@"
WRAP
chmod +x "$DIR/bazel"
# Empty stand-ins (versions Debian's bazel 7.7.1 asked for; add what a newer one names).
python3 - "$DIR" buildozer@7.1.2 apple_support@1.23.1 protobuf@3.19.6 protobuf@21.7 \
  zlib@1.3.1.bcr.3 <<'PY'
import json, os, sys
base, specs = sys.argv[1], sys.argv[2:]
reg = os.path.join(base, "registry")
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
    json.dump({"type": "local_path", "path": src},
              open(os.path.join(mod_dir, version, "source.json"), "w"))
PY
"$DIR/bazel" --version
