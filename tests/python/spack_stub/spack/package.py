"""A minimal stand-in for spack's package API (``spack.package``): enough to import
spack/packages/arraymorph/package.py and run its CMakePackage phases (cmake, build, install) the
way spack does, without spack. tests/python/test_packaging_spack.py puts this folder first on
sys.path.

What it mirrors from spack (and nothing more):
- directives (version, variant, depends_on, conflicts, extends, license and the ``when`` context
  manager) record themselves on the package class as ``directives``: (name, args, kwargs);
- ``CMakePackage``: ``define``/``define_from_variant`` produce spack's ``-DNAME:TYPE=value``
  arguments; the phases configure with spack's standard arguments (install prefix, build type
  from the ``build_type`` variant, RPATHs of the prefix and its dependencies, CMAKE_PREFIX_PATH of
  the dependencies) followed by ``cmake_args()``, then build and install in the build folder;
- ``Spec``: variants (``satisfies("+x")``, ``"~x"``, ``"x=v"``), dependencies by name
  (``spec["python"].command.path``) and the prefix;
- ``EnvironmentModifications``-like ``env`` objects (``set``, ``prepend_path``) for
  ``setup_run_environment``;
- the module globals a package sees: ``join_path``, ``which``, ``Executable``. spack's python
  sets ``python_platlib`` on an extension's module; the test does that.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from typing import Dict, List, Optional

_pending: List[tuple] = []  # directives of the class body being executed
_when: List[str] = []


def _directive(name: str):
    def record(*args, **kwargs):
        if _when:
            kwargs["when"] = " ".join(filter(None, [*_when, kwargs.get("when")]))
        _pending.append((name, args, kwargs))
    record.__name__ = name
    return record


version = _directive("version")
variant = _directive("variant")
depends_on = _directive("depends_on")
conflicts = _directive("conflicts")
extends = _directive("extends")
license = _directive("license")  # noqa: A001  (spack's name)


@contextlib.contextmanager
def when(condition: str):
    _when.append(condition)
    try:
        yield
    finally:
        _when.pop()


def join_path(*parts: str) -> str:
    return os.path.join(*parts)


class Prefix(str):
    """An install prefix: ``prefix.lib`` is ``<prefix>/lib``, as in spack."""

    def __getattr__(self, name: str) -> "Prefix":
        if name.startswith("__"):
            raise AttributeError(name)
        return Prefix(os.path.join(self, name))


class Executable:
    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, *args: str, **kwargs) -> None:
        subprocess.run([self.path, *args], check=True, **kwargs)


def which(name: str, required: bool = False) -> Optional[Executable]:
    path = shutil.which(name)
    if path is None and required:
        raise RuntimeError(f"{name} not found on PATH")
    return Executable(path) if path else None


class Spec:
    def __init__(self, name: str, prefix: str = "", variants: Optional[Dict[str, object]] = None,
                 dependencies: Optional[Dict[str, "Spec"]] = None,
                 command: Optional[Executable] = None) -> None:
        self.name = name
        self.prefix = Prefix(prefix)
        self.variants = dict(variants or {})
        self.dependencies = dict(dependencies or {})
        self.command = command

    def __getitem__(self, name: str) -> "Spec":
        return self.dependencies[name]

    def satisfies(self, constraint: str) -> bool:
        """Only variant constraints ("+x", "~x", "x=v"): all this package asks."""
        if constraint.startswith(("+", "~")):
            return bool(self.variants[constraint[1:]]) is constraint.startswith("+")
        key, _, value = constraint.partition("=")
        return str(self.variants[key]) == value


class EnvironmentModifications:
    def __init__(self) -> None:
        self.changes: List[tuple] = []

    def set(self, name: str, value: str) -> None:
        self.changes.append(("set", name, value))

    def prepend_path(self, name: str, path: str) -> None:
        self.changes.append(("prepend", name, path))

    def apply(self, env: Dict[str, str]) -> Dict[str, str]:
        env = dict(env)
        for kind, name, value in self.changes:
            if kind == "prepend" and env.get(name):
                value = value + os.pathsep + env[name]
            env[name] = value
        return env


class CMakePackage:
    phases = ("cmake", "build", "install")
    directives: List[tuple] = []

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.directives = list(_pending)
        _pending.clear()

    def __init__(self, spec: Spec, source_dir: str, build_directory: str) -> None:
        self.spec = spec
        self.prefix = spec.prefix
        self.source_dir = source_dir
        self.build_directory = build_directory
        self.run_tests = False

    @staticmethod
    def define(name: str, value: object) -> str:
        if isinstance(value, bool):
            return f"-D{name}:BOOL={'ON' if value else 'OFF'}"
        if isinstance(value, (list, tuple)):
            value = ";".join(str(v) for v in value)
        return f"-D{name}:STRING={value}"

    def define_from_variant(self, name: str, variant_name: str) -> str:
        return self.define(name, self.spec.variants[variant_name])

    def std_cmake_args(self) -> List[str]:
        deps = [d.prefix for d in self.spec.dependencies.values() if d.prefix]
        return [
            "-G", "Ninja",
            self.define("CMAKE_INSTALL_PREFIX", self.prefix),
            self.define("CMAKE_BUILD_TYPE", self.spec.variants.get("build_type", "RelWithDebInfo")),
            self.define("CMAKE_INSTALL_RPATH_USE_LINK_PATH", True),
            self.define("CMAKE_INSTALL_RPATH",
                        [self.prefix.lib, self.prefix.lib64] + [os.path.join(d, "lib") for d in deps]),
            self.define("CMAKE_PREFIX_PATH", deps),
        ]

    def cmake(self, spec: Spec, prefix: Prefix) -> None:
        os.makedirs(self.build_directory, exist_ok=True)
        Executable("cmake")(*self.std_cmake_args(), *self.cmake_args(), self.source_dir,
                            cwd=self.build_directory)

    def build(self, spec: Spec, prefix: Prefix) -> None:
        Executable("cmake")("--build", self.build_directory)

    def install(self, spec: Spec, prefix: Prefix) -> None:
        Executable("cmake")("--build", self.build_directory, "--target", "install")

    def cmake_args(self) -> List[str]:
        return []

    def do_install(self) -> None:
        """Runs the phases in order, as `spack install` does after fetching and staging."""
        for phase in self.phases:
            getattr(self, phase)(self.spec, self.prefix)
