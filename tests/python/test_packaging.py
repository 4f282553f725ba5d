"""Packaging: the conda build scripts, the installed CMake/pkg-config packages, the C/C++
examples built against an installed prefix, and the conda recipe (issues 9 and 13).

recipe/build_lib.sh and recipe/build_py.sh run exactly as conda-build would run them ($PREFIX,
$PYTHON, $SRC_DIR, CMAKE_ARGS, CPU_COUNT) into a temporary prefix that is also a Python
environment ($PREFIX/bin/python, see prefix_tools.python_in_prefix); the quickstart then runs with
that prefix's Python. Build folders are cached in build/recipe-lib and build/recipe-py so repeat
runs are incremental (ccache covers cold ones). The spack package: test_packaging_spack.py.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import List

import pytest
import yaml

from prefix_tools import (BUILD_TIMEOUT, ROOT, assert_one_library, clean_env, hdf5_dir, ok,
                          probe, python_in_prefix, run, run_quickstart)

LIB_BUILD_DIR = ROOT / "build" / "recipe-lib"
PY_BUILD_DIR = ROOT / "build" / "recipe-py"
PLUGIN_REL = Path("lib/hdf5/plugin/libarraymorph.so")



def _conda_env(prefix: Path, **extra: str) -> dict:
    """The variables conda-build gives a build script (CMAKE_ARGS: where the test's HDF5 is;
    conda's own CMAKE_ARGS point into $PREFIX, which holds hdf5 there)."""
    return clean_env(PREFIX=str(prefix), SRC_DIR=str(ROOT), CPU_COUNT="2",
                     PYTHON=str(prefix / "bin" / "python"),
                     CMAKE_ARGS=f"-DCMAKE_PREFIX_PATH={hdf5_dir()}", **extra)


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    """A conda-style prefix: a Python environment, then filled by recipe/build_lib.sh."""
    prefix = tmp_path_factory.mktemp("conda-prefix")
    python_in_prefix(prefix)
    env = _conda_env(prefix, ARRAYMORPH_LIB_BUILD_DIR=str(LIB_BUILD_DIR))
    ok(run(["bash", ROOT / "recipe" / "build_lib.sh"], env, timeout=BUILD_TIMEOUT))
    return prefix


@pytest.fixture(scope="module")
def conda_python(prefix) -> Path:
    """The `arraymorph` output: recipe/build_py.sh run with $PYTHON = the prefix's Python."""
    env = _conda_env(prefix, ARRAYMORPH_PY_BUILD_DIR=str(PY_BUILD_DIR))
    ok(run(["bash", ROOT / "recipe" / "build_py.sh"], env, timeout=BUILD_TIMEOUT))
    return prefix / "bin" / "python"


@pytest.fixture(scope="module")
def examples(prefix, tmp_path_factory) -> Path:
    """examples/ configured as a user would: find_package(arraymorph) through
    CMAKE_PREFIX_PATH. A fresh folder each time, so no cached arraymorph_DIR can point at an
    older prefix (the two programs compile in seconds)."""
    build = tmp_path_factory.mktemp("examples-build")
    env = clean_env()
    out = ok(run(["cmake", "-S", ROOT / "examples", "-B", build, "-G", "Ninja",
                  f"-DCMAKE_PREFIX_PATH={prefix};{hdf5_dir()}"], env, timeout=300))
    assert f"plugin folder: {prefix / PLUGIN_REL.parent}" in out
    ok(run(["cmake", "--build", build], env, timeout=600))
    return build


def _store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    store.mkdir()
    return store


# ------------------------------------------------------------------ (a) the installed library
@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_build_lib_installs_library_header_and_plugin_link(prefix):
    lib = prefix / "lib"
    real = lib / "libarraymorph.so.0.3.0"
    assert real.is_file() and not real.is_symlink()
    assert (lib / "libarraymorph.so.0").resolve() == real
    assert (lib / "libarraymorph.so").resolve() == real
    assert (prefix / "include" / "arraymorph" / "arraymorph.h").is_file()

    # The plugin folder holds a *relative* link to the same file (one connector instance).
    plugin = prefix / PLUGIN_REL
    assert plugin.is_symlink()
    assert not os.path.isabs(os.readlink(plugin))
    assert plugin.resolve() == real
    assert sorted(p.name for p in plugin.parent.iterdir()) == ["libarraymorph.so"]

    # Loaded through the link, the library finds its neighbours in lib/ ($ORIGIN/../..).
    dyn = ok(run(["readelf", "-d", real], clean_env()))
    runpath = re.search(r"RUNPATH.*\[(.*)\]", dyn).group(1).split(":")
    assert "$ORIGIN" in runpath and "$ORIGIN/../.." in runpath


def _version_compatible(version_file: Path, wanted: str) -> bool:
    """Asks the installed version file the way find_package(arraymorph <wanted>) does."""
    major, minor = wanted.split(".")
    script = (f"set(PACKAGE_FIND_VERSION {wanted})\nset(PACKAGE_FIND_VERSION_MAJOR {major})\n"
              f"set(PACKAGE_FIND_VERSION_MINOR {minor})\nset(CMAKE_SIZEOF_VOID_P 8)\n"
              f'include("{version_file}")\nmessage("compatible=${{PACKAGE_VERSION_COMPATIBLE}}")\n')
    probe = version_file.parent.parent / f"probe-{wanted}.cmake"
    probe.write_text(script)
    try:
        out = run(["cmake", "-P", probe], clean_env())
    finally:
        probe.unlink()
    return "compatible=TRUE" in out.stderr


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_cmake_package_and_pkg_config_files(prefix):
    cmake_dir = prefix / "lib" / "cmake" / "arraymorph"
    for name in ("arraymorphConfig.cmake", "arraymorphConfigVersion.cmake",
                 "arraymorphTargets.cmake"):
        assert (cmake_dir / name).is_file(), name
    config = (cmake_dir / "arraymorphConfig.cmake").read_text()
    assert "find_dependency(HDF5 1.14" in config
    assert "arraymorph::vol" in (cmake_dir / "arraymorphTargets.cmake").read_text()
    # SameMajorVersion: any 0.y <= 0.3 is accepted, 1.x and newer minors are not.
    for wanted, compatible in (("0.1", True), ("0.3", True), ("0.4", False), ("1.0", False)):
        assert _version_compatible(cmake_dir / "arraymorphConfigVersion.cmake", wanted) \
            is compatible, wanted

    pc_path = f"{prefix}/lib/pkgconfig:{hdf5_dir()}/lib/pkgconfig"
    env = clean_env(PKG_CONFIG_PATH=pc_path)
    flags = ok(run(["pkg-config", "--cflags", "--libs", "arraymorph"], env)).split()
    assert f"-I{prefix}/include" in flags
    assert f"-L{prefix}/lib" in flags and "-larraymorph" in flags
    assert "-lhdf5" in flags  # Requires: hdf5
    assert ok(run(["pkg-config", "--modversion", "arraymorph"], env)).strip() == "0.3.0"
    plugindir = ok(run(["pkg-config", "--variable=plugindir", "arraymorph"], env)).strip()
    assert Path(plugindir) == prefix / PLUGIN_REL.parent


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_plugin_link_and_library_load_as_one_instance(prefix):
    """dlopen() through lib/ and through the plugin folder yields the same loaded object, so a
    program that links libarraymorph and lets HDF5 load the plugin has one connector state."""
    code = ("import ctypes, sys; a = ctypes.CDLL(sys.argv[1]); b = ctypes.CDLL(sys.argv[2]); "
            "print(a._handle == b._handle)")
    out = ok(run([sys.executable, "-c", code, prefix / "lib" / "libarraymorph.so.0",
                    prefix / PLUGIN_REL], clean_env()))
    assert out.strip() == "True"


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_hdf5_program_finds_plugin_in_prefix_plugin_dir(prefix, examples, tmp_path):
    """HDF5_VOL_CONNECTOR=arraymorph makes HDF5 load the connector by name at start-up, from
    HDF5_PLUGIN_PATH = $PREFIX/lib/hdf5/plugin (conda's default plugin folder)."""
    store = _store(tmp_path)
    env = clean_env(HDF5_VOL_CONNECTOR="arraymorph",
                     HDF5_PLUGIN_PATH=str(prefix / PLUGIN_REL.parent))
    out = ok(run([examples / "write_read_c", store], env))
    assert "connector=arraymorph" in out and "640 values OK" in out
    # Zarr v3 layout in the store: proof the data went through arraymorph.
    assert (store / "example_c.h5" / "zarr.json").is_file()
    assert (store / "example_c.h5" / "grid" / "zarr.json").is_file()
    assert (store / "example_c.h5" / "grid" / "c" / "3" / "2").is_file()


# ----------------------------------------------------------- (b) examples via find_package
@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_c_example_selects_arraymorph_in_code(examples, tmp_path):
    store = _store(tmp_path)
    proc = run([examples / "write_read_c", store], clean_env())
    out = ok(proc)
    assert out.strip() == (
        f"C: connector=arraymorph store=file://{store} file=example_c.h5 dataset=grid 64x48 "
        "int32 chunks 16x16; hyperslab [10:30, 5:37] 640 values OK")
    chunks = sorted(p.relative_to(store / "example_c.h5" / "grid" / "c").as_posix()
                    for p in (store / "example_c.h5" / "grid" / "c").rglob("*") if p.is_file())
    assert chunks == [f"{i}/{j}" for i in range(4) for j in range(3)]  # 64x48 in 16x16 chunks


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_cpp_example_selects_arraymorph_by_environment(prefix, examples, tmp_path):
    store = _store(tmp_path)
    plugin_dir = str(prefix / PLUGIN_REL.parent)
    env = clean_env(HDF5_VOL_CONNECTOR="arraymorph", HDF5_PLUGIN_PATH=plugin_dir)
    out = ok(run([examples / "write_read_cpp", store], env))
    assert out.strip() == (
        f"C++: connector=arraymorph file=file://{store}/example_cpp.h5 dataset=field 40x56 "
        "float64 chunks 8x8; strided hyperslab [3:40:4, 2:56:3] 180 values OK")
    assert (store / "example_cpp.h5" / "field" / "c" / "4" / "6").is_file()  # 40x56 in 8x8

    # Controls: without the plugin folder, or without the connector variable, it must fail
    # (native HDF5 cannot create a "file://" path) instead of silently writing elsewhere.
    empty = tmp_path / "no-plugins"
    empty.mkdir()
    bad_envs = (clean_env(HDF5_VOL_CONNECTOR="arraymorph", HDF5_PLUGIN_PATH=str(empty)),
                clean_env(HDF5_PLUGIN_PATH=plugin_dir))
    for i, bad in enumerate(bad_envs):
        (tmp_path / f"bad{i}").mkdir()
        proc = run([examples / "write_read_cpp", _store(tmp_path / f"bad{i}")], bad)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "values OK" not in proc.stdout


# ------------------------------------------------- (c) the arraymorph output (build_py.sh)
@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_build_py_package_uses_the_one_library_of_the_prefix(prefix, conda_python, tmp_path):
    """The Python package is installed into the prefix's site-packages with no library of its
    own: HDF5 (loading the plugin by name from get_plugin_path()) and _core map the single
    libarraymorph of $PREFIX/lib, built with zstd and blosc."""
    env = clean_env(HDF5_VOL_CONNECTOR="arraymorph",
                    HDF5_PLUGIN_PATH=str(prefix / PLUGIN_REL.parent))
    info = probe(conda_python, tmp_path, env)
    assert_one_library(info, prefix, prefix / "lib")
    core = Path(info["core"])
    dyn = ok(run(["readelf", "-d", core], clean_env()))
    assert "[libarraymorph.so.0]" in dyn
    assert str(prefix / "lib") in re.search(r"RUNPATH.*\[(.*)\]", dyn).group(1).split(":")


@pytest.mark.timeout(2 * BUILD_TIMEOUT)
def test_quickstart_runs_with_the_prefix_python(conda_python, tmp_path):
    run_quickstart(conda_python, tmp_path, clean_env())


@pytest.mark.timeout(300)
def test_build_lib_refuses_to_build_without_blosc(tmp_path):
    """blosc (or zstd) missing from the host prefix stops the build at configure time instead of
    producing a package that silently lacks the codec."""
    pc = tmp_path / "pkgconfig"  # every .pc file of the usual folders except blosc's
    pc.mkdir()
    for folder in (Path("/usr/lib/x86_64-linux-gnu/pkgconfig"), Path("/usr/share/pkgconfig"),
                   Path(hdf5_dir(), "lib", "pkgconfig")):
        for f in folder.glob("*.pc") if folder.is_dir() else ():
            if f.name != "blosc.pc":
                (pc / f.name).symlink_to(f)
    assert (pc / "libzstd.pc").exists()
    env = _conda_env(tmp_path / "prefix", ARRAYMORPH_LIB_BUILD_DIR=str(tmp_path / "build"),
                     PKG_CONFIG_LIBDIR=str(pc), PKG_CONFIG_PATH="")
    proc = run(["bash", ROOT / "recipe" / "build_lib.sh"], env, timeout=280)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "blosc not found by pkg-config in the host prefix" in proc.stderr
    assert not (tmp_path / "prefix" / "lib").exists()  # nothing was built or installed


# ------------------------------------------------------------------- (d) the conda recipe
RECIPE = ROOT / "recipe"


def _recipe() -> dict:
    return yaml.safe_load((RECIPE / "recipe.yaml").read_text())


def _jinja(expr: str) -> str:
    """The body of a '${{ ... }}' expression."""
    m = re.fullmatch(r"\$\{\{\s*(.*?)\s*\}\}", expr.strip())
    assert m, expr
    return m.group(1)


def _reqs(output: dict, kind: str) -> List[str]:
    """Requirement strings of one kind, with rattler-build `if:` blocks flattened."""
    out = []
    for item in output["requirements"].get(kind, []):
        if isinstance(item, dict):
            then = item["then"]
            out.extend(then if isinstance(then, list) else [then])
        else:
            out.append(item)
    return out


def test_recipe_has_two_outputs_with_exact_pin_and_run_exports():
    recipe = _recipe()
    assert recipe["schema_version"] == 1
    outputs = {o["package"]["name"]: o for o in recipe["outputs"]}
    assert list(outputs) == ["libarraymorph", "arraymorph"]
    lib, py = outputs["libarraymorph"], outputs["arraymorph"]

    # Version matches the one in CMakeLists.txt's project() call.
    cmake_version = re.search(r"project\(arraymorph\s+VERSION\s+([0-9.]+)",
                              (ROOT / "CMakeLists.txt").read_text()).group(1)
    assert recipe["context"]["version"] == cmake_version

    # hdf5 is pinned to the tested series (the `hdf5` variant) and the MPI flavour everywhere.
    hdf5_specs = [r for o in (lib, py) for kind in ("host", "run") for r in _reqs(o, kind)
                  if r.split()[0] == "hdf5"]
    assert hdf5_specs == ["hdf5 ${{ hdf5 }}.* ${{ mpi_prefix }}_*"] * 3  # lib host+run, py host
    variants = yaml.safe_load((RECIPE / "conda_build_config.yaml").read_text())
    assert variants["hdf5"] == ["1.14", "2.0"]
    # Both codecs in host (build_lib.sh refuses to build without them).
    assert {"zstd", "blosc"} <= set(_reqs(lib, "host"))
    assert [_jinja(s) for s in lib["requirements"]["run_exports"]] == \
        ['pin_subpackage("libarraymorph", upper_bound="x.x")']

    exact = '${{ pin_subpackage("libarraymorph", exact=True) }}'
    assert exact in _reqs(py, "host") and exact in _reqs(py, "run")
    assert "h5py >=3.11 ${{ mpi_prefix }}_*" in _reqs(py, "run")

    # Build scripts exist and are the ones the outputs run.
    assert lib["build"]["script"]["file"] == "build_lib.sh"
    assert py["build"]["script"]["file"] == "build_py.sh"
    for script in ("build_lib.sh", "build_py.sh"):
        assert "set -euo pipefail" in (RECIPE / script).read_text()

    # The plugin goes to conda's default HDF5 plugin folder, and the package test checks it.
    assert "-DARRAYMORPH_PLUGIN_INSTALL_DIR=lib/hdf5/plugin" in \
        (RECIPE / "build_lib.sh").read_text()
    lib_tests = lib["tests"]
    files = next(t["package_contents"]["files"] for t in lib_tests if "package_contents" in t)
    assert str(PLUGIN_REL) in files
    # This project's own identity: no link to the upstream repository it replaces.
    assert "github" not in (RECIPE / "recipe.yaml").read_text().lower()


def _pyproject_dependencies() -> dict:
    """pyproject.toml's runtime dependencies: {name: version constraint}."""
    text = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)\]", text, re.M | re.S).group(1)
    return dict(re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", d).groups()
                for d in re.findall(r'"([^"]+)"', deps))


def test_recipe_runs_with_the_python_package_dependencies():
    outputs = {o["package"]["name"]: o for o in _recipe()["outputs"]}
    run_reqs = {r.split()[0]: r.split()[1] if len(r.split()) > 1 else ""
                for r in _reqs(outputs["arraymorph"], "run")}
    for name, constraint in _pyproject_dependencies().items():
        assert run_reqs.get(name) == constraint, (name, constraint, run_reqs.get(name))


def test_recipe_build_strings_follow_conda_forge_mpi_convention():
    recipe = _recipe()
    expr = _jinja(recipe["context"]["mpi_prefix"]).replace(" ~ ", " + ")  # jinja ~ is concat
    prefix_of = {mpi: eval(expr, {}, {"mpi": mpi}) for mpi in ("nompi", "mpich", "openmpi")}
    assert prefix_of == {"nompi": "nompi", "mpich": "mpi_mpich", "openmpi": "mpi_openmpi"}

    lib_string = recipe["outputs"][0]["build"]["string"]
    assert lib_string == "${{ mpi_prefix }}_h${{ hash }}_${{ build_number }}"
    assert recipe["outputs"][0]["build"]["script"]["env"]["ARRAYMORPH_MPI"] == "${{ mpi }}"

    variants = yaml.safe_load((RECIPE / "conda_build_config.yaml").read_text())
    assert variants["mpi"][0] == "nompi" and {"mpich", "openmpi"} <= set(variants["mpi"])


def test_install_docs_cover_every_way_in():
    docs = (ROOT / "docs" / "install.md").read_text()
    for needle in ("find_package(arraymorph", "pkg-config --cflags --libs arraymorph",
                   "one libhdf5 per process", "examples/", "ARRAYMORPH_PLUGIN_INSTALL_DIR",
                   "recipe/build_py.sh", "spack install", "scripts/build_wheel.sh"):
        assert needle in docs, needle
    # pip install arraymorph leads, then conda, spack and the source build.
    headings = re.findall(r"^## (.*)$", docs, re.M)
    order = [next(i for i, h in enumerate(headings) if h.startswith(start))
             for start in ("pip install arraymorph", "conda", "spack", "From source")]
    assert order == sorted(order) and order[0] == 0, headings


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```[a-z]*\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["bash scripts/quickstart.sh", "bash scripts/test.sh"]
