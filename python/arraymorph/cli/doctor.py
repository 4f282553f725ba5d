"""``arraymorph doctor``: is this installation able to work, and if not, what to fix.

Each check prints ``OK``, ``WARN`` or ``FAIL`` with what was found and, when not OK, the fix. The
store check resolves a scratch name in the configured store (or the given URL's store), then
lists, PUTs, GETs and DELETEs one small object, timing each request.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Callable, List, Optional, Tuple

import h5py

import arraymorph
from arraymorph import _core

Check = Tuple[str, str, str]  # (status, label, detail)


def _versions() -> List[Check]:
    out: List[Check] = []
    out.append(("OK", "arraymorph", f"{arraymorph.__version__} at {os.path.dirname(arraymorph.__file__)}"))
    out.append(("OK", "python", f"{sys.version.split()[0]} ({sys.executable})"))
    out.append(("OK", "h5py", f"{h5py.__version__} (HDF5 {h5py.version.hdf5_version}) at "
                              f"{os.path.dirname(h5py.__file__)}"))
    built, runtime = _core.hdf5_build_version(), _core.hdf5_runtime_version()
    # Same ABI series (1.14.x, or 2.x which is semantically versioned): the rule `import arraymorph` applies.
    status = "OK" if arraymorph._hdf5_series(built) == arraymorph._hdf5_series(runtime) else "FAIL"
    out.append((status, "HDF5", f"plugin built for {built}, loaded {runtime}"
                + ("" if status == "OK" else " -> rebuild arraymorph against h5py's HDF5")))
    libs = sorted({os.path.realpath(p) for p in arraymorph._loaded_libhdf5()})
    if len(libs) == 1:
        out.append(("OK", "libhdf5 loaded", libs[0]))
    elif not libs:
        out.append(("WARN", "libhdf5 loaded", "not found in /proc/self/maps (statically linked h5py?)"))
    else:
        out.append(("FAIL", "libhdf5 loaded", " and ".join(libs) + " -> build h5py and arraymorph "
                    "against one HDF5 (see docs/install.md)"))
    plugin_dir = arraymorph.get_plugin_path()
    lib = os.path.join(plugin_dir, "libarraymorph.so")
    out.append(("OK" if os.path.exists(lib) else "FAIL", "plugin",
                lib if os.path.exists(lib) else f"{lib} missing -> reinstall arraymorph"))
    env_path = os.environ.get("HDF5_PLUGIN_PATH", "")
    vol = os.environ.get("HDF5_VOL_CONNECTOR", "")
    if vol == "arraymorph" and os.path.realpath(env_path or "/nonexistent") != os.path.realpath(plugin_dir):
        out.append(("FAIL", "HDF5_PLUGIN_PATH", f"'{env_path}' but the plugin is in {plugin_dir} -> "
                    f"export HDF5_PLUGIN_PATH={plugin_dir}"))
    else:
        out.append(("OK", "environment", f"HDF5_VOL_CONNECTOR={vol or '(unset)'} "
                    f"HDF5_PLUGIN_PATH={env_path or '(unset)'}"))
    try:
        import hdf5plugin

        out.append(("OK", "hdf5plugin", f"{hdf5plugin.version} (extra filters for native files)"))
    except ImportError:
        out.append(("OK", "hdf5plugin", "not installed (only needed to read native files that use "
                                        "zstd/blosc/lz4 filters)"))
    return out


def _timed(fn: Callable[[], object]) -> Tuple[object, float]:
    t = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - t) * 1000


def _fix_for(message: str) -> str:
    low = message.lower()
    if any(s in low for s in ("403", "401", "signature", "credential", "access key", "authoriz")):
        return "check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION, or " \
               "AZURE_STORAGE_CONNECTION_STRING)"
    if "404" in low or "nosuchbucket" in low or "containernotfound" in low or "does not exist" in low:
        return "create the bucket/container, or set BUCKET_NAME to an existing one"
    if any(s in low for s in ("connect", "resolve", "timed out", "timeout", "refused")):
        return "check the endpoint (AWS_ENDPOINT_URL_S3 / the connection string) and the network"
    return "see docs/configuration.md"


def _store(url: Optional[str]) -> List[Check]:
    out: List[Check] = []
    config = json.loads(_core.config_json(url or ""))
    out.append(("OK", "configuration", json.dumps(config, sort_keys=True)))
    scratch = f".arraymorph-doctor-{uuid.uuid4().hex[:12]}"
    base = url.rstrip("/") if url else scratch
    key = scratch if url else ""
    where = json.loads(_core.config_json(base)).get("location") or {}
    label = f"store {where.get('platform', '?')}:{where.get('root') or '(cwd)'}"
    try:
        _, ms = _timed(lambda: _core.store_list(base, key))
        out.append(("OK", label, f"list answered in {ms:.1f} ms (bucket/container exists, "
                                 f"credentials accepted)"))
        payload = uuid.uuid4().bytes * 64
        _, put_ms = _timed(lambda: _core.store_put(base, key, payload))
        got, get_ms = _timed(lambda: _core.store_get(base, key))
        if got != payload:
            out.append(("FAIL", "round trip", "GET returned different bytes than were PUT -> check "
                        "proxies or gateways that rewrite objects"))
        _, del_ms = _timed(lambda: _core.store_delete(base, key))
        gone = _core.store_get(base, key) is None
        out.append(("OK" if gone and got == payload else "FAIL", "round trip",
                    f"PUT {put_ms:.1f} ms, GET {get_ms:.1f} ms, DELETE {del_ms:.1f} ms "
                    f"({len(payload)} bytes)" + ("" if gone else " -> object still present after DELETE")))
    except Exception as exc:  # noqa: BLE001 - each failure becomes a FAIL line
        out.append(("FAIL", label, f"{exc} -> {_fix_for(str(exc))}"))
    return out


def run(url: Optional[str] = None, out=None) -> int:
    out = out or sys.stdout
    checks = _versions() + _store(url)
    width = max(len(label) for _, label, _ in checks)
    for status, label, detail in checks:
        print(f"{status:<4} {label:<{width}}  {detail}", file=out)
    failed = sum(1 for s, _, _ in checks if s == "FAIL")
    print(f"{'all checks passed' if not failed else f'{failed} check(s) failed'}", file=out)
    return 1 if failed else 0
