"""The spack package (spack/packages/arraymorph/package.py): static checks of its directives and
CMake arguments (issue 9)."""

from __future__ import annotations

import ast
import re
from typing import List

from prefix_tools import ROOT

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


