"""The spack package (spack/packages/arraymorph/package.py), run without spack (issues 9 and 13).

tests/python/spack_stub/spack/package.py stands in for spack's package API. The package is
imported as spack would import it, its phases (cmake, build, install) run with spack's standard
CMake arguments into a temporary prefix for ``arraymorph +python build_type=Release``, and the
installed Python package is then imported from ``<prefix>/lib/pythonX.Y/site-packages`` (what
``spack load`` puts on PYTHONPATH) to run the quickstart. The build folder is cached in
build/spack-build (ccache covers cold runs).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from prefix_tools import (BUILD_TIMEOUT, ROOT, assert_one_library, clean_env, hdf5_dir, probe,
                          run_quickstart, site_packages)

# Needs the bootstrapped HDF5 and build tools (HDF5_DIR, nanobind, scikit-build-core): the wheel
# matrix (scripts/test_wheels.sh) deselects it with the other source-build tests.
pytestmark = pytest.mark.source_build

SPACK_PACKAGE = ROOT / "spack" / "packages" / "arraymorph" / "package.py"
STUB = Path(__file__).resolve().parent / "spack_stub"
BUILD_DIR = ROOT / "build" / "spack-build"
# Variables CMake itself (or its FindPython module) understands, not declared in our CMake files.
CMAKE_BUILTINS = {"BUILD_TESTING", "CMAKE_BUILD_TYPE", "CMAKE_INSTALL_PREFIX", "Python_EXECUTABLE"}


def _load_package() -> ModuleType:
    """package.py imported the way spack imports a package file, against the stand-in API."""
    if str(STUB) not in sys.path:
        sys.path.insert(0, str(STUB))
    spec = importlib.util.spec_from_file_location("spack_package_arraymorph", SPACK_PACKAGE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _directives(module: ModuleType, name: str) -> list:
    return [(args, kwargs) for kind, args, kwargs in module.Arraymorph.directives if kind == name]


def _package(module: ModuleType, prefix: Path, **variants) -> object:
    """An Arraymorph package instance for `arraymorph <variants>` (defaults from package.py)."""
    from spack.package import Executable, Spec

    values = {args[0]: kwargs["default"] for args, kwargs in _directives(module, "variant")}
    values.update(variants)
    venv = Path(os.environ["ARRAYMORPH_VENV"])  # stands for spack's python with py-h5py etc.
    deps = {"python": Spec("python", str(venv), command=Executable(str(venv / "bin" / "python"))),
            "hdf5": Spec("hdf5", hdf5_dir())}
    spec = Spec("arraymorph", str(prefix), values, deps)
    # spack's python sets python_platlib on an extension's module (setup_dependent_package).
    module.python_platlib = str(site_packages(prefix))
    return module.Arraymorph(spec, str(ROOT), str(BUILD_DIR))


def _run_environment(package) -> dict:
    """The environment `spack load arraymorph` gives: setup_run_environment + PYTHONPATH."""
    from spack.package import EnvironmentModifications

    mods = EnvironmentModifications()
    package.setup_run_environment(mods)
    env = mods.apply(clean_env())
    env["PYTHONPATH"] = str(site_packages(Path(package.prefix)))
    return env


@pytest.fixture(scope="module")
def spack_install(tmp_path_factory):
    """`spack install arraymorph +python build_type=Release` into a temporary prefix."""
    module = _load_package()
    prefix = tmp_path_factory.mktemp("spack-prefix")
    package = _package(module, prefix, python=True, build_type="Release")
    package.do_install()
    return package


# ------------------------------------------------------------------------- the install phases
@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_python_variant_installs_the_whole_package_against_the_one_library(spack_install,
                                                                            tmp_path):
    prefix = Path(spack_install.prefix)
    site = site_packages(prefix)
    package_dir = site / "arraymorph"
    source = ROOT / "python" / "arraymorph"
    py_files = {p.relative_to(package_dir).as_posix() for p in package_dir.rglob("*.py")}
    source_files = {p.relative_to(source).as_posix() for p in source.rglob("*.py")}
    assert py_files == source_files | {"_installed_paths.py"}
    assert len(list(package_dir.glob("_core*.so"))) == 1

    env = _run_environment(spack_install)
    assert env["HDF5_PLUGIN_PATH"].split(os.pathsep)[0] == str(prefix / "lib" / "hdf5" / "plugin")
    info = probe(Path(os.environ["ARRAYMORPH_VENV"]) / "bin" / "python", tmp_path,
                 dict(env, HDF5_VOL_CONNECTOR="arraymorph"))
    assert_one_library(info, prefix, site)


@pytest.mark.timeout(BUILD_TIMEOUT + 60)
def test_quickstart_runs_from_the_spack_prefix(spack_install, tmp_path):
    run_quickstart(Path(os.environ["ARRAYMORPH_VENV"]) / "bin" / "python", tmp_path,
                   _run_environment(spack_install))


def test_run_environment_sets_the_connector_only_with_default_vol(tmp_path):
    module = _load_package()
    for default_vol, expected in ((False, None), (True, "arraymorph")):
        env = _run_environment(_package(module, tmp_path, default_vol=default_vol))
        assert env["HDF5_PLUGIN_PATH"].split(os.pathsep)[0] == str(tmp_path / "lib/hdf5/plugin")
        assert env.get("HDF5_VOL_CONNECTOR") == expected


# -------------------------------------------------------------------- directives and arguments
def test_version_and_source_are_this_projects_own():
    module = _load_package()
    cmake_version = re.search(r"project\(arraymorph\s+VERSION\s+([0-9.]+)",
                              (ROOT / "CMakeLists.txt").read_text()).group(1)
    assert [args for args, _ in _directives(module, "version")] == [(cmake_version,)]
    # The sdist `python -m build --sdist` writes for this checkout.
    assert module.Arraymorph.url == f"file://{ROOT}/dist/arraymorph-{cmake_version}.tar.gz"
    text = SPACK_PACKAGE.read_text().lower()
    assert "github" not in text and "homepage" not in text


def test_sdist_is_the_file_the_url_names(tmp_path):
    """`python -m build --sdist` (here: scikit-build-core's PEP 517 hook it calls) writes the
    file package.py's url names, holding everything the CMake build needs."""
    from scikit_build_core.build import build_sdist

    name = build_sdist(str(tmp_path))
    assert name == Path(_load_package().Arraymorph.url).name
    with tarfile.open(tmp_path / name) as sdist:
        files = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"CMakeLists.txt", "python/CMakeLists.txt", "python/src/core_module.cpp",
            "python/arraymorph/__init__.py", "include/arraymorph/arraymorph.h",
            "cmake/arraymorphConfig.cmake.in", "LICENSE"} <= files
    assert not any(f.startswith("build/") for f in files)


def test_variants_and_dependencies():
    module = _load_package()
    variants = {args[0]: kwargs["default"] for args, kwargs in _directives(module, "variant")}
    assert variants == {"mpi": False, "python": False, "s3": True, "azure": True,
                        "default_vol": False}
    deps = {(args[0], kwargs.get("when")) for args, kwargs in _directives(module, "depends_on")}
    assert ("hdf5@1.14:2.0", None) in deps  # the tested series, bounded
    assert ("hdf5+mpi", "+mpi") in deps
    for required in ("curl", "openssl", "nlohmann-json@3.9:", "zlib-api", "zstd", "c-blosc"):
        assert required in {d for d, _ in deps}, required
    assert ("py-nanobind@2.4:", "+python") in deps
    # pyproject.toml's dependencies, as spack names and ranges: "h5py>=3.11" -> "py-h5py@3.11:".
    text = (ROOT / "pyproject.toml").read_text()
    listed = re.search(r"^dependencies = \[(.*?)\]", text, re.M | re.S).group(1)
    for dep in re.findall(r'"([^"]+)"', listed):
        name, _, low = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(>=\s*([0-9.]+))?", dep).groups()
        assert (f"py-{name}" + (f"@{low}:" if low else ""), "+python") in deps, dep


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


def test_cmake_args_name_existing_cmake_options(tmp_path):
    module = _load_package()
    args = _package(module, tmp_path, python=True, mpi=True, azure=False).cmake_args()
    passed = dict(re.fullmatch(r"-D([A-Za-z0-9_]+):[A-Z]+=(.*)", a).groups() for a in args)
    assert passed["ARRAYMORPH_ENABLE_MPI"] == "ON" and passed["ARRAYMORPH_WITH_AZURE"] == "OFF"
    assert passed["ARRAYMORPH_BUILD_PYTHON"] == "ON" and passed["ARRAYMORPH_WITH_S3"] == "ON"
    assert passed["ARRAYMORPH_PLUGIN_INSTALL_DIR"] == "lib/hdf5/plugin"
    assert passed["ARRAYMORPH_PYTHON_INSTALL_DIR"] == str(site_packages(tmp_path) / "arraymorph")
    missing = sorted(set(passed) - _declared_cmake_variables() - CMAKE_BUILTINS)
    assert not missing, f"spack passes CMake variables the project does not declare: {missing}"
