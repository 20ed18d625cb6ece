"""Environment-health probe, run INSIDE the measured interpreter (stdlib only, no harness).

Started as ``python [workload options] -c <this source> [--path0 DIR] [--modules a,b.c]``
(or ``python harness/probe.py ...``), it looks at the interpreter exactly as a workload started
with the same options would, and prints one JSON object on the last stdout line after a
marker (a ``.pth`` file may print too). It never imports the workload's modules: module files
are located with ``PathFinder`` and only their ``.pyc`` headers are read.

Findings: sys.path entries (missing, duplicate, duplicate realpaths, before the stdlib, zips),
``.pth`` files (path lines, executable ``import`` lines), sitecustomize/usercustomize, extra
meta path finders and path hooks, duplicate distributions (by PEP 503 name, from directory
names only), shadowed top-level modules, the bytecode state of the workload's modules, and the
flags and ``PYTHON*`` variables the interpreter ran with.
"""

import os
import sys

_T0 = __import__("time").perf_counter()
MARKER = "@@startup-harness-probe@@"
MAX_LINES = 50  # per .pth file and kind of line, in the JSON (counts are always exact)
MAX_MODULE_PROBLEMS = 300


def _stdlib_dirs():
    """The stdlib's own sys.path entries: lib/pythonX.Y, lib-dynload and the stdlib zip."""
    stdlib = os.path.dirname(getattr(os, "__file__", "") or "")
    if not stdlib:
        import sysconfig
        stdlib = sysconfig.get_paths()["stdlib"]
    dirs = {stdlib, os.path.join(stdlib, "lib-dynload")}
    zip_name = f"python{sys.version_info[0]}{sys.version_info[1]}.zip"
    zips = {p for p in sys.path if os.path.basename(p) == zip_name}
    return stdlib, dirs, zips


_STDLIB, _STDLIB_DIRS, _STDLIB_ZIPS = _stdlib_dirs()


def _safe_imports():
    """Import what the probe needs from the stdlib only, so a ``json.py`` in the workload's
    directory cannot hijack the probe."""
    saved = sys.path[:]
    sys.path[:] = [p for p in saved if p in _STDLIB_DIRS or p in _STDLIB_ZIPS] or saved
    try:
        import importlib.machinery
        import importlib.util
        import json
        return importlib, json
    finally:
        sys.path[:] = saved


importlib, json = _safe_imports()
_imp = __import__("_imp")


def parse_args(argv):
    opts = {"path0": None, "modules": []}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--path0", "--modules", "--modules-file") and i + 1 < len(argv):
            value = argv[i + 1]
            if arg == "--path0":
                opts["path0"] = value
            elif arg == "--modules":
                opts["modules"] += [m for m in value.split(",") if m]
            else:
                with open(value, encoding="utf-8") as handle:
                    opts["modules"] += [m for m in handle.read().split() if m]
            i += 2
        else:
            i += 1
    return opts


def canonical(name):
    """PEP 503 normalized distribution name."""
    out, dash = [], False
    for ch in name.lower():
        if ch in "-_.":
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(ch)
    return "".join(out)


def is_site_dir(path):
    return os.path.basename(os.path.normpath(path)) in ("site-packages", "dist-packages")


# -- sys.path ---------------------------------------------------------------------------------

def path_entries(path0_inserted):
    entries = []
    first_stdlib = None
    for i, path in enumerate(sys.path):
        full = os.path.abspath(path) if path else os.getcwd()
        real = os.path.realpath(full)
        if os.path.isdir(full):
            kind = "dir"
        elif os.path.isfile(full):
            kind = "zip" if _is_zip(full) else "file"
        else:
            kind = "missing"
        stdlib = path in _STDLIB_DIRS or path in _STDLIB_ZIPS or real in _STDLIB_DIRS
        if stdlib and first_stdlib is None and path not in _STDLIB_ZIPS:
            first_stdlib = i
        entries.append({
            "path": path, "realpath": real, "exists": kind != "missing", "kind": kind,
            "is_site_packages": is_site_dir(full), "is_stdlib": stdlib,
            "is_path0": path0_inserted and i == 0, "before_stdlib": False,
            "expected_missing": kind == "missing" and path in _STDLIB_ZIPS,
        })
    for i, entry in enumerate(entries):
        entry["before_stdlib"] = (first_stdlib is not None and i < first_stdlib
                                  and not entry["is_stdlib"] and not entry["is_path0"])
    return entries


def _is_zip(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def duplicates(entries):
    by_real = {}
    for i, entry in enumerate(entries):
        if entry["exists"]:
            by_real.setdefault(entry["realpath"], []).append(i)
    return [{"realpath": real, "indices": idx, "paths": [entries[i]["path"] for i in idx],
             "identical": len({entries[i]["path"] for i in idx}) == 1}
            for real, idx in by_real.items() if len(idx) > 1]


def zip_entries(entries):
    out = []
    for entry in entries:
        if entry["kind"] != "zip":
            continue
        try:
            import zipfile
            with zipfile.ZipFile(entry["realpath"]) as archive:
                names = archive.namelist()
        except Exception as exc:  # a broken zip is a finding, not a crash
            out.append({"path": entry["path"], "pyc_files": 0, "py_files": 0,
                        "error": str(exc)[:200]})
            continue
        out.append({"path": entry["path"], "pyc_files": sum(n.endswith(".pyc") for n in names),
                    "py_files": sum(n.endswith(".py") for n in names), "error": None})
    return out


# -- site: .pth files, customize modules, venv, user site --------------------------------------

def site_dirs():
    """Directories site.py processes .pth files in (in its order)."""
    if sys.flags.no_site or "site" not in sys.modules:
        return [], False
    import site
    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE:
        dirs.insert(0, site.getusersitepackages())
    seen, out = set(), []
    for d in dirs:
        real = os.path.realpath(d)
        if real not in seen and os.path.isdir(d) and (d in sys.path or real in _REAL_PATHS):
            seen.add(real)
            out.append(d)
    return out, True


def site_toml_files(dirs, processed):
    """``*.site.toml`` files (PEP 829, drafted for 3.15) in the site directories, and whether
    this interpreter's ``site`` reads them (its source mentions them), so the inventory of
    what runs at start-up stays complete whichever format a package uses."""
    supported = False
    if processed:
        try:
            import site
            with open(site.__file__, encoding="utf-8") as handle:
                supported = "site.toml" in handle.read()
        except (OSError, TypeError):
            supported = False
    return [{"path": path, "processed": supported}
            for d in dirs for path in files_ending(d, ".site.toml")]


def files_ending(directory, suffix):
    """The paths of ``directory``'s files named ``*suffix`` (not hidden), sorted as ``site``
    reads them; none when the directory cannot be listed."""
    try:
        names = sorted(e.name for e in os.scandir(directory)
                       if e.name.endswith(suffix) and not e.name.startswith("."))
    except OSError:
        return []
    return [os.path.join(directory, name) for name in names]


def pth_files(dirs, processed):
    out = []
    for d in dirs:
        for path in files_ending(d, ".pth"):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    lines = handle.read().splitlines()
            except OSError:
                continue
            paths, imports, missing = [], [], []
            for line in lines:
                if not line.strip() or line.startswith("#"):
                    continue
                if line.startswith(("import ", "import\t")):
                    imports.append(line.strip())
                    continue
                target = os.path.join(d, line.rstrip())
                paths.append(line.rstrip())
                if not os.path.exists(target):
                    missing.append(line.rstrip())
            out.append({"path": path, "processed": processed, "n_path_lines": len(paths),
                        "n_import_lines": len(imports), "path_lines": paths[:MAX_LINES],
                        "import_lines": [s[:300] for s in imports[:MAX_LINES]],
                        "missing_paths": missing[:MAX_LINES]})
    return out


def customize_hooks():
    hooks = []
    for name in ("sitecustomize", "usercustomize"):
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module else None
        if module is None:
            try:
                spec = importlib.machinery.PathFinder.find_spec(name, sys.path)
            except Exception:
                spec = None
            if spec is None:
                continue
            origin = spec.origin
        hooks.append({"kind": name, "name": name, "origin": origin or "",
                      "imported": module is not None})
    std_meta = ("_frozen_importlib", "_frozen_importlib_external", "importlib._bootstrap",
                "importlib._bootstrap_external", "importlib.machinery", "zipimport")
    for finder in sys.meta_path:
        cls = finder if isinstance(finder, type) else type(finder)
        if cls.__module__ in std_meta and cls.__name__ in (
                "BuiltinImporter", "FrozenImporter", "PathFinder"):
            continue
        hooks.append({"kind": "meta_path", "name": _qualname(finder),
                      "origin": getattr(sys.modules.get(cls.__module__), "__file__", "") or "",
                      "imported": True})
    for hook in sys.path_hooks:
        name = _qualname(hook)
        if name in ("zipimport.zipimporter",) or name.endswith(
                "FileFinder.path_hook.<locals>.path_hook_for_FileFinder"):
            continue
        module = getattr(hook, "__module__", None)
        hooks.append({"kind": "path_hooks", "name": name,
                      "origin": getattr(sys.modules.get(module or ""), "__file__", "") or "",
                      "imported": True})
    return hooks


def _qualname(obj):
    plain = isinstance(obj, type) or type(obj).__name__ in (
        "function", "builtin_function_or_method", "method")
    target = obj if plain and hasattr(obj, "__qualname__") else type(obj)
    return f"{getattr(target, '__module__', '?')}.{target.__qualname__}"


def venv_info():
    cfg = os.path.join(sys.prefix, "pyvenv.cfg")
    info = {"venv": sys.prefix != sys.base_prefix, "pyvenv_cfg": None,
            "include_system_site_packages": None}
    if os.path.isfile(cfg):
        info["pyvenv_cfg"] = cfg
        try:
            with open(cfg, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    key, sep, value = line.partition("=")
                    if sep and key.strip().lower() == "include-system-site-packages":
                        info["include_system_site_packages"] = value.strip().lower() == "true"
        except OSError:
            pass
    return info


def user_site_info():
    try:
        import site
    except ImportError:
        return {"user_site": None, "user_site_enabled": False, "user_site_in_path": False}
    enabled = bool(getattr(site, "ENABLE_USER_SITE", False)) and not sys.flags.no_user_site
    path = site.USER_SITE if hasattr(site, "USER_SITE") and site.USER_SITE else None
    if enabled and path is None and "site" in sys.modules:
        path = site.getusersitepackages()
    return {"user_site": path, "user_site_enabled": enabled,
            "user_site_in_path": bool(path) and path in sys.path}


# -- distributions and shadowing ----------------------------------------------------------------

def scan_roots(entries):
    """One os.scandir per distinct existing directory: dist-info names and top-level names."""
    ext_suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    listings = []
    seen = set()
    for i, entry in enumerate(entries):
        if entry["kind"] != "dir" or entry["realpath"] in seen:
            continue
        seen.add(entry["realpath"])
        full = entry["path"] or os.getcwd()
        dists, modules, packages = [], {}, set()
        try:
            it = os.scandir(full)
        except OSError:
            continue
        with it:
            for item in it:
                name = item.name
                if name.endswith((".dist-info", ".egg-info")):
                    dists.append(name)
                    continue
                if name.endswith(".py"):
                    stem, kind = name[:-3], "module"
                elif name.endswith(".pyc"):
                    stem, kind = name[:-4], "sourceless"
                elif name.endswith(ext_suffixes):
                    stem, kind = name.split(".", 1)[0], "extension"
                else:
                    stem, kind = "", ""
                if stem:
                    if stem.isidentifier():
                        modules.setdefault(stem, kind)
                elif "." not in name and name.isidentifier() and name != "__pycache__":
                    packages.add(name)
        for name in packages:
            modules[name] = "dir"
        listings.append((i, full, dists, modules))
    return listings


def distributions(listings):
    by_name = {}
    total = 0
    for _i, root, names, _m in listings:
        for dirname in names:
            total += 1
            stem = dirname.rsplit(".", 1)[0]
            name, _, rest = stem.partition("-")
            version = rest.split("-", 1)[0] if rest else ""
            by_name.setdefault(canonical(name), []).append(
                {"version": version, "path": os.path.join(root, dirname), "root": root})
    dups = []
    for name, copies in sorted(by_name.items()):
        if len(copies) > 1:
            reals = {os.path.realpath(c["path"]) for c in copies}
            if len(reals) > 1:
                dups.append({"name": name, "copies": copies})
    return {"total": total, "names": len(by_name), "duplicates": dups}


def shadowed_modules(listings, entries):
    providers = {}
    for i, root, _d, modules in listings:
        for name, kind in modules.items():
            providers.setdefault(name, []).append((i, root, kind))
    out = []
    builtins = set(sys.builtin_module_names)
    for name, provs in sorted(providers.items()):
        if len(provs) < 2 or name in builtins or name.startswith("__"):
            continue
        regular = []
        for i, root, kind in provs:
            if kind == "dir":
                init = os.path.join(root, name, "__init__")
                if not any(os.path.exists(init + s) for s in (".py", ".pyc")):
                    continue  # namespace portion: merges instead of shadowing
            regular.append((i, root))
        if len(regular) < 2:
            continue
        try:
            frozen = importlib.machinery.FrozenImporter.find_spec(name) is not None
        except Exception:
            frozen = False
        if frozen:
            continue  # served before sys.path is searched
        stdlib = any(entries[i]["is_stdlib"] for i, _r in regular[1:])
        out.append({"name": name, "winner": regular[0][1],
                    "shadowed": [r for _i, r in regular[1:]], "stdlib": stdlib})
    return out


# -- bytecode ------------------------------------------------------------------------------------

def find_module_file(name, cache):
    """(status, origin) of module ``name`` without importing it or its parents."""
    if name in sys.builtin_module_names:
        return "builtin", None
    try:
        if importlib.machinery.FrozenImporter.find_spec(name) is not None:
            return "frozen", None
    except Exception:
        pass
    parent, _, _leaf = name.rpartition(".")
    if parent:
        parent_spec = cache.get(parent)
        if parent_spec is None:
            find_module_file(parent, cache)
            parent_spec = cache.get(parent)
        locations = getattr(parent_spec, "submodule_search_locations", None) if parent_spec \
            else None
        if not locations:
            return "not_found", None
        search = list(locations)
    else:
        search = sys.path
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, search)
    except Exception:
        spec = None
    cache[name] = spec
    if spec is None:
        return "not_found", None
    loader = spec.loader
    if spec.origin in (None, "namespace") or loader is None:
        return "namespace", None
    if isinstance(loader, importlib.machinery.ExtensionFileLoader):
        return "extension", spec.origin
    if isinstance(loader, importlib.machinery.SourcelessFileLoader):
        return "sourceless", spec.origin
    if isinstance(loader, importlib.machinery.SourceFileLoader):
        return "source", spec.origin
    return "other", spec.origin


def pyc_status(source, magic):
    try:
        pyc = importlib.util.cache_from_source(source)
    except (NotImplementedError, ValueError):
        return "no_cache_tag", None
    try:
        with open(pyc, "rb") as handle:
            header = handle.read(16)
    except OSError:
        return "missing", pyc
    if len(header) < 16:
        return "corrupt", pyc
    if header[:4] != magic:
        return "foreign_magic", pyc
    flags = int.from_bytes(header[4:8], "little")
    if flags & 0b1:
        if not flags & 0b10:
            return "hash_unchecked", pyc
        try:
            with open(source, "rb") as handle:
                data = handle.read()
        except OSError:
            return "hash_checked", pyc
        ok = importlib.util.source_hash(data) == header[8:16]
        return ("hash_checked" if ok else "stale_hash"), pyc
    try:
        st = os.stat(source)
    except OSError:
        return "valid", pyc
    if int.from_bytes(header[8:12], "little") != (int(st.st_mtime) & 0xFFFFFFFF):
        return "stale_mtime", pyc
    if int.from_bytes(header[12:16], "little") != (st.st_size & 0xFFFFFFFF):
        return "stale_size", pyc
    return "valid", pyc


def bytecode(modules, site_roots):
    magic = importlib.util.MAGIC_NUMBER
    counts, problems, cache = {}, [], {}
    checked = 0
    for name in modules:
        kind, origin = find_module_file(name, cache)
        status, pyc = (kind, None)
        if kind == "source":
            checked += 1
            status, pyc = pyc_status(origin, magic)
        counts[status] = counts.get(status, 0) + 1
        if status not in ("valid", "builtin", "frozen", "extension", "namespace",
                          "hash_checked") \
                and len(problems) < MAX_MODULE_PROBLEMS:
            problems.append({"name": name, "status": status, "origin": origin, "pyc": pyc})
    flags_b = bool(sys.flags.dont_write_bytecode)
    env_b = bool(os.environ.get("PYTHONDONTWRITEBYTECODE")) and not sys.flags.ignore_environment
    by = ""
    if flags_b:
        by = ("-B" if _combined_flag("B") else "PYTHONDONTWRITEBYTECODE" if env_b
              else "interpreter configuration")
    if sys.dont_write_bytecode and not flags_b:
        by = "set at start-up by site code (.pth or sitecustomize)"
    elif flags_b and not sys.dont_write_bytecode:
        by = "cleared at start-up by site code (.pth or sitecustomize)"
    unwritable = [d for d in site_roots if not os.access(d, os.W_OK | os.X_OK)]
    return {"magic": magic.hex(), "requested": len(modules), "checked": checked,
            "counts": counts, "problems": problems,
            "dont_write_bytecode": bool(sys.dont_write_bytecode), "dont_write_by": by,
            "pycache_prefix": getattr(sys, "pycache_prefix", None),
            "check_hash_based_pycs": getattr(_imp, "check_hash_based_pycs", "default"),
            "unwritable_dirs": unwritable}


def _options_parser():
    """The names of :mod:`harness.pyoptions`, the harness's one interpreter-options parser:
    ``runner.probe_source()`` puts its source before this one; run as a file, it is read from
    beside this file."""
    if "split_options" in globals():
        return globals()
    here = os.path.dirname(os.path.abspath(__file__))
    namespace = {}
    with open(os.path.join(here, os.pardir, "pyoptions.py"), encoding="utf-8") as handle:
        exec(compile(handle.read(), "pyoptions.py", "exec"), namespace)  # stdlib only
    return namespace


_PARSER = _options_parser()


def _orig_options():
    """The interpreter options of sys.orig_argv (up to -c, -m or the script)."""
    return _PARSER["split_options"](list(getattr(sys, "orig_argv", []) or []))[0]


def _combined_flag(letter):
    """Whether a short flag (``-B``, or within ``-IB``) was on the command line."""
    return _PARSER["has_flag"](list(getattr(sys, "orig_argv", []) or []), letter)


# -- interpreter ----------------------------------------------------------------------------------

def interpreter():
    flags = {}
    for name in dir(sys.flags):
        if not name.startswith(("_", "n_")) and not callable(getattr(sys.flags, name)):
            value = getattr(sys.flags, name)
            if isinstance(value, (bool, int)):
                flags[name] = int(value)
    argv = list(getattr(sys, "orig_argv", []) or [])
    shown = []
    skip = False
    for arg in argv:
        if skip:
            shown.append("<probe>")
            skip = False
            continue
        if arg == "-c":
            skip = True
        shown.append(arg)
    env = {k: v for k, v in os.environ.items() if k.startswith("PYTHON")}
    return {"executable": sys.executable, "implementation": sys.implementation.name,
            "version_info": ".".join(str(v) for v in sys.version_info[:3]),
            "cache_tag": sys.implementation.cache_tag, "flags": flags,
            "xoptions": {str(k): str(v) for k, v in sys._xoptions.items()},
            "argv": shown, "options": _orig_options(), "python_env": env,
            "env_ignored": bool(sys.flags.ignore_environment)}


# -- main ------------------------------------------------------------------------------------------

_REAL_PATHS = set()


def probe(opts):
    # ``-c`` put "" first, ``python probe.py`` the probe's directory; -I and -P put nothing.
    path0_inserted = bool(sys.path) and not getattr(sys.flags, "safe_path", False) \
        and not sys.flags.isolated
    if path0_inserted and opts["path0"] is not None:
        sys.path[0] = opts["path0"]
    errors = []
    entries = path_entries(path0_inserted)
    _REAL_PATHS.update(e["realpath"] for e in entries)
    out = {"python": sys.executable, "version": sys.version.split()[0],
           "prefix": sys.prefix, "base_prefix": sys.base_prefix, "entries": entries}

    def section(key, func, *args):
        try:
            out[key] = func(*args)
        except Exception as exc:  # one broken section must not lose the rest
            errors.append(f"{key}: {type(exc).__name__}: {exc}")

    section("duplicates", duplicates, entries)
    section("zips", zip_entries, entries)
    dirs, processed = site_dirs()
    section("pth_files", pth_files, dirs, processed)
    section("site_toml", site_toml_files, dirs, processed)
    section("hooks", customize_hooks)
    listings = scan_roots(entries)
    section("distributions", distributions, listings)
    section("shadowed", shadowed_modules, listings, entries)
    site_roots = [e["path"] for e in entries if e["is_site_packages"] and e["kind"] == "dir"]
    section("bytecode", bytecode, opts["modules"], site_roots)
    info = interpreter()
    info.update(venv_info())
    info.update(user_site_info())
    out["interpreter"] = info
    out["errors"] = errors
    out["probe_seconds"] = round(__import__("time").perf_counter() - _T0, 6)
    return out


def main(argv):
    result = probe(parse_args(argv))
    sys.stdout.write("\n" + MARKER + json.dumps(result, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
