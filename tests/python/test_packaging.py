"""Packaging: the conda build script, the installed CMake/pkg-config packages, the C/C++
examples built against an installed prefix, and static checks of the spack package and the conda
recipe (issue 9).

The library is built by ``recipe/build_lib.sh`` exactly as conda-build would run it (PREFIX,
SRC_DIR, CMAKE_ARGS, CPU_COUNT), into a temporary prefix; its build folder is cached in
``build/recipe-lib`` so repeat runs are incremental. Every subprocess gets an environment
without this session's HDF5_VOL_CONNECTOR / HDF5_PLUGIN_PATH (conftest.py sets both), so each
test states exactly how the plugin is found.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LIB_BUILD_DIR = ROOT / "build" / "recipe-lib"
PLUGIN_REL = Path("lib/hdf5/plugin/libarraymorph.so")
BUILD_TIMEOUT = 1200  # a cold build of the library on 2 shared cores takes several minutes


def _hdf5_dir() -> str:
    hdf5 = os.environ.get("HDF5_DIR")
    assert hdf5 and Path(hdf5, "include", "hdf5.h").is_file(), \
        "HDF5_DIR must name the bootstrapped HDF5 (source ~/.cache/arraymorph/env.sh)"
    return hdf5


def _clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH", "STORAGE_PLATFORM",
                        "ARRAYMORPH_LOCAL_ROOT")}
    env.update(extra)
    return env


def _run(cmd: List[str], env: Dict[str, str], cwd: Optional[Path] = None,
         timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, (
        f"{' '.join(proc.args)} -> exit {proc.returncode}\n"
        f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}")
    return proc.stdout


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    """A conda-style prefix filled by recipe/build_lib.sh."""
    hdf5 = _hdf5_dir()
    prefix = tmp_path_factory.mktemp("conda-prefix")
    env = _clean_env(PREFIX=str(prefix), SRC_DIR=str(ROOT), CPU_COUNT="2",
                     CMAKE_ARGS=f"-DCMAKE_PREFIX_PATH={hdf5}",
                     ARRAYMORPH_LIB_BUILD_DIR=str(LIB_BUILD_DIR))
    _ok(_run(["bash", ROOT / "recipe" / "build_lib.sh"], env, timeout=BUILD_TIMEOUT))
    return prefix


@pytest.fixture(scope="module")
def examples(prefix, tmp_path_factory) -> Path:
    """examples/ configured as a user would: find_package(arraymorph) through
    CMAKE_PREFIX_PATH. A fresh folder each time, so no cached arraymorph_DIR can point at an
    older prefix (the two programs compile in seconds)."""
    build = tmp_path_factory.mktemp("examples-build")
    env = _clean_env()
    out = _ok(_run(["cmake", "-S", ROOT / "examples", "-B", build, "-G", "Ninja",
                    f"-DCMAKE_PREFIX_PATH={prefix};{_hdf5_dir()}"], env, timeout=300))
    assert f"plugin folder: {prefix / PLUGIN_REL.parent}" in out
    _ok(_run(["cmake", "--build", build], env, timeout=600))
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
    dyn = _ok(_run(["readelf", "-d", real], _clean_env()))
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
        out = _run(["cmake", "-P", probe], _clean_env())
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

    pc_path = f"{prefix}/lib/pkgconfig:{_hdf5_dir()}/lib/pkgconfig"
    env = _clean_env(PKG_CONFIG_PATH=pc_path)
    flags = _ok(_run(["pkg-config", "--cflags", "--libs", "arraymorph"], env)).split()
    assert f"-I{prefix}/include" in flags
    assert f"-L{prefix}/lib" in flags and "-larraymorph" in flags
    assert "-lhdf5" in flags  # Requires: hdf5
    assert _ok(_run(["pkg-config", "--modversion", "arraymorph"], env)).strip() == "0.3.0"
    plugindir = _ok(_run(["pkg-config", "--variable=plugindir", "arraymorph"], env)).strip()
    assert Path(plugindir) == prefix / PLUGIN_REL.parent


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_plugin_link_and_library_load_as_one_instance(prefix):
    """dlopen() through lib/ and through the plugin folder yields the same loaded object, so a
    program that links libarraymorph and lets HDF5 load the plugin has one connector state."""
    code = ("import ctypes, sys; a = ctypes.CDLL(sys.argv[1]); b = ctypes.CDLL(sys.argv[2]); "
            "print(a._handle == b._handle)")
    out = _ok(_run([sys.executable, "-c", code, prefix / "lib" / "libarraymorph.so.0",
                    prefix / PLUGIN_REL], _clean_env()))
    assert out.strip() == "True"


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_hdf5_program_finds_plugin_in_prefix_plugin_dir(prefix, examples, tmp_path):
    """HDF5_VOL_CONNECTOR=arraymorph makes HDF5 load the connector by name at start-up, from
    HDF5_PLUGIN_PATH = $PREFIX/lib/hdf5/plugin (conda's default plugin folder)."""
    store = _store(tmp_path)
    env = _clean_env(HDF5_VOL_CONNECTOR="arraymorph",
                     HDF5_PLUGIN_PATH=str(prefix / PLUGIN_REL.parent))
    out = _ok(_run([examples / "write_read_c", store], env))
    assert "connector=arraymorph" in out and "640 values OK" in out
    # Zarr v3 layout in the store: proof the data went through arraymorph.
    assert (store / "example_c.h5" / "zarr.json").is_file()
    assert (store / "example_c.h5" / "grid" / "zarr.json").is_file()
    assert (store / "example_c.h5" / "grid" / "c" / "3" / "2").is_file()


# ----------------------------------------------------------- (b) examples via find_package
@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_c_example_selects_arraymorph_in_code(examples, tmp_path):
    store = _store(tmp_path)
    proc = _run([examples / "write_read_c", store], _clean_env())
    out = _ok(proc)
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
    env = _clean_env(HDF5_VOL_CONNECTOR="arraymorph", HDF5_PLUGIN_PATH=plugin_dir)
    out = _ok(_run([examples / "write_read_cpp", store], env))
    assert out.strip() == (
        f"C++: connector=arraymorph file=file://{store}/example_cpp.h5 dataset=field 40x56 "
        "float64 chunks 8x8; strided hyperslab [3:40:4, 2:56:3] 180 values OK")
    assert (store / "example_cpp.h5" / "field" / "c" / "4" / "6").is_file()  # 40x56 in 8x8

    # Controls: without the plugin folder, or without the connector variable, it must fail
    # (native HDF5 cannot create a "file://" path) instead of silently writing elsewhere.
    empty = tmp_path / "no-plugins"
    empty.mkdir()
    bad_envs = (_clean_env(HDF5_VOL_CONNECTOR="arraymorph", HDF5_PLUGIN_PATH=str(empty)),
                _clean_env(HDF5_PLUGIN_PATH=plugin_dir))
    for i, bad in enumerate(bad_envs):
        (tmp_path / f"bad{i}").mkdir()
        proc = _run([examples / "write_read_cpp", _store(tmp_path / f"bad{i}")], bad)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "values OK" not in proc.stdout


# ----------------------------------------------------------------- (c) the spack package
SPACK_PACKAGE = ROOT / "spack" / "packages" / "arraymorph" / "package.py"
# Variables CMake itself understands (not declared in our CMakeLists files).
CMAKE_BUILTINS = {"BUILD_TESTING", "CMAKE_BUILD_TYPE", "CMAKE_INSTALL_PREFIX"}


def _declared_cmake_variables() -> set:
    """Names declared with option() or set(... CACHE ...) in the project's CMake files."""
    names = set()
    files = [ROOT / "CMakeLists.txt", ROOT / "python" / "CMakeLists.txt",
             *sorted((ROOT / "cmake").glob("*.cmake"))]
    for f in files:
        text = f.read_text()
        names.update(re.findall(r"^\s*option\(\s*([A-Za-z0-9_]+)", text, re.M))
        names.update(re.findall(r"^\s*set\(\s*([A-Za-z0-9_]+)\s[^)]*\bCACHE\b", text, re.M | re.S))
    return names


def _spack_calls(tree: ast.AST, name: str) -> List[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and (
        (isinstance(n.func, ast.Name) and n.func.id == name)
        or (isinstance(n.func, ast.Attribute) and n.func.attr == name))]


def _first_str(call: ast.Call) -> str:
    assert call.args and isinstance(call.args[0], ast.Constant), ast.dump(call)
    return call.args[0].value


def test_spack_package_parses_and_has_the_variants_and_dependencies():
    tree = ast.parse(SPACK_PACKAGE.read_text(), filename=str(SPACK_PACKAGE))
    cls = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Arraymorph"]
    assert cls and [b.id for b in cls[0].bases] == ["CMakePackage"]

    variants = {_first_str(c) for c in _spack_calls(tree, "variant")}
    assert {"mpi", "python", "s3", "azure", "default_vol"} <= variants

    deps = {(_first_str(c), next((ast.literal_eval(k.value) for k in c.keywords
                                  if k.arg == "when" and isinstance(k.value, ast.Constant)),
                                 None))
            for c in _spack_calls(tree, "depends_on")}
    names = {d for d, _ in deps}
    assert ("hdf5@1.14:", None) in deps
    assert ("hdf5+mpi", "+mpi") in deps
    for required in ("curl", "openssl", "nlohmann-json@3.9:", "zlib-api", "zstd"):
        assert required in names, required

    methods = {f.name: f for f in cls[0].body if isinstance(f, ast.FunctionDef)}
    run_env = ast.unparse(methods["setup_run_environment"])
    assert "env.prepend_path('HDF5_PLUGIN_PATH', self.plugin_dir)" in run_env
    # HDF5_VOL_CONNECTOR only behind the opt-in variant.
    assert re.search(r"if self\.spec\.satisfies\('\+default_vol'\):\s+env\.set\("
                     r"'HDF5_VOL_CONNECTOR', 'arraymorph'\)", run_env)
    assert run_env.count("HDF5_VOL_CONNECTOR") == 1


def test_spack_cmake_args_name_existing_cmake_options():
    tree = ast.parse(SPACK_PACKAGE.read_text())
    cmake_args = next(n for n in ast.walk(tree)
                      if isinstance(n, ast.FunctionDef) and n.name == "cmake_args")
    passed = {_first_str(c) for c in _spack_calls(cmake_args, "define")}
    from_variant = {_first_str(c): ast.literal_eval(c.args[1])
                    for c in _spack_calls(cmake_args, "define_from_variant")}
    assert from_variant == {"ARRAYMORPH_ENABLE_MPI": "mpi", "ARRAYMORPH_BUILD_PYTHON": "python",
                            "ARRAYMORPH_WITH_S3": "s3", "ARRAYMORPH_WITH_AZURE": "azure"}
    declared = _declared_cmake_variables() | CMAKE_BUILTINS
    missing = sorted((passed | set(from_variant)) - declared)
    assert not missing, f"spack passes CMake variables the project does not declare: {missing}"


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

    for spec in (_reqs(lib, "host"), _reqs(lib, "run")):
        assert "hdf5 >=1.14 ${{ mpi_prefix }}_*" in spec
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
    for needle in ("## conda", "## spack", "## pip", "find_package(arraymorph",
                   "pkg-config --cflags --libs arraymorph", "one libhdf5 per process",
                   "examples/", "ARRAYMORPH_PLUGIN_INSTALL_DIR"):
        assert needle in docs, needle
