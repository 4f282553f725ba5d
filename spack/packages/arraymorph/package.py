# package.py -- spack package for arraymorph, the HDF5 VOL connector that keeps HDF5 files in
# object stores (S3, Azure Blob, local folders) as Zarr v3.
#
# Installs lib/libarraymorph.so, include/arraymorph/arraymorph.h, the CMake package
# (find_package(arraymorph) -> arraymorph::vol), lib/pkgconfig/arraymorph.pc and the HDF5
# plugin link lib/hdf5/plugin/libarraymorph.so. `spack load arraymorph` puts that folder on
# HDF5_PLUGIN_PATH; programs then select the connector with HDF5_VOL_CONNECTOR=arraymorph, or get
# it set by `spack load` when built with +default_vol. +python adds the whole Python package to
# <prefix>/lib/pythonX.Y/site-packages, its _core linking that same lib/libarraymorph.so.
#
# Sources: this project publishes no download URL. The package is used from a checkout
# (`spack repo add <checkout>/spack`) and builds the sdist of that checkout: `python -m build
# --sdist` (or `git archive --prefix=arraymorph-<v>/ -o dist/arraymorph-<v>.tar.gz v<v>` for a
# tag) writes dist/arraymorph-<version>.tar.gz, which `url` names; the version is the one in the
# checkout's CMakeLists.txt project() call. docs/install.md shows the commands.
import os
import re

from spack.package import *  # noqa: F401,F403  (spack's package DSL; CMakePackage in API v1)

try:  # spack >= 1.0 keeps build systems in the builtin repository (package API v2)
    from spack_repo.builtin.build_systems.cmake import CMakePackage  # noqa: F811
except ImportError:
    pass

#: The checkout this package file belongs to (<checkout>/spack/packages/arraymorph/package.py).
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def project_version(checkout=CHECKOUT):
    """The version in the checkout's CMakeLists.txt project() call (the project's one version)."""
    with open(os.path.join(checkout, "CMakeLists.txt")) as f:
        match = re.search(r"project\(arraymorph\s+VERSION\s+([0-9][0-9.]*)", f.read())
    if not match:
        raise ValueError(f"no project(arraymorph VERSION ...) in {checkout}/CMakeLists.txt")
    return match.group(1)


class Arraymorph(CMakePackage):
    """HDF5 VOL connector storing HDF5 files in object stores (S3, Azure Blob) as Zarr v3, one
    object per chunk; unchanged h5py and HDF5 C/C++ programs use it once it is selected."""

    url = f"file://{CHECKOUT}/dist/arraymorph-{project_version()}.tar.gz"

    license("MIT")

    # No checksum: the sdist is built locally from the checkout (`spack install --no-checksum`),
    # or use `spack develop` on the checkout itself.
    version(project_version())

    variant("mpi", default=False, description="Collective chunk I/O over MPI (needs hdf5+mpi)")
    variant("python", default=False, description="Build and install the arraymorph Python module")
    variant("s3", default=True, description="AWS S3 and S3-compatible stores")
    variant("azure", default=True, description="Azure Blob storage")
    variant(
        "default_vol",
        default=False,
        description="`spack load` also sets HDF5_VOL_CONNECTOR=arraymorph, routing EVERY HDF5 "
        "program in that shell through arraymorph (opt-in on purpose)",
    )

    depends_on("c", type="build")
    depends_on("cxx", type="build")
    depends_on("cmake@3.22:", type="build")
    depends_on("pkgconfig", type="build")

    # The HDF5 series the project is tested with (docs/compatibility.md): 1.14.x and 2.0.x.
    depends_on("hdf5@1.14:2.0")
    depends_on("hdf5+mpi", when="+mpi")
    depends_on("mpi", when="+mpi")
    depends_on("nlohmann-json@3.9:", type="build")  # header-only, used inside the library
    depends_on("zlib-api")
    # Both Zarr codecs beyond gzip; found with pkg-config.
    depends_on("zstd")
    depends_on("c-blosc")
    # Our own S3 / Azure clients: libcurl transport, OpenSSL for signing.
    for backend in ("+s3", "+azure"):
        depends_on("curl", when=backend)
        depends_on("openssl", when=backend)
    # S3 credentials: aws-c-auth's default provider chain (found by its CMake package).
    depends_on("aws-c-auth", when="+s3")

    with when("+python"):
        extends("python")
        depends_on("python@3.9:", type=("build", "link", "run"))
        depends_on("py-nanobind@2.4:", type="build")
        # pyproject.toml's dependencies (test_packaging_spack.py keeps the two lists in step).
        depends_on("py-numpy", type="run")
        depends_on("py-typer@0.12:", type="run")
        depends_on("py-rich@13:", type="run")
        # h5py must load the same libhdf5 as the plugin: depending on it here makes spack
        # concretize both onto one hdf5.
        depends_on("py-h5py@3.11:", type="run")
        depends_on("py-h5py+mpi", when="+mpi", type="run")
        depends_on("py-mpi4py", when="+mpi", type="run")

    @property
    def plugin_dir(self):
        """Folder holding the HDF5 plugin (a link to lib/libarraymorph.so)."""
        return join_path(self.prefix.lib, "hdf5", "plugin")

    def cmake_args(self):
        args = [
            self.define_from_variant("ARRAYMORPH_ENABLE_MPI", "mpi"),
            self.define_from_variant("ARRAYMORPH_BUILD_PYTHON", "python"),
            self.define_from_variant("ARRAYMORPH_WITH_S3", "s3"),
            self.define_from_variant("ARRAYMORPH_WITH_AZURE", "azure"),
            # Relative: the link into lib/ stays valid if the prefix is relocated (buildcache).
            self.define("ARRAYMORPH_PLUGIN_INSTALL_DIR", "lib/hdf5/plugin"),
            self.define("BUILD_TESTING", self.run_tests),
        ]
        if self.spec.satisfies("+python"):
            # python/CMakeLists.txt's "installed" mode: the .py files, _core (RUNPATH
            # <prefix>/lib) and _installed_paths.py go here; the library itself only to lib/.
            args.extend([
                self.define(
                    "ARRAYMORPH_PYTHON_INSTALL_DIR", join_path(python_platlib, "arraymorph")
                ),
                self.define("Python_EXECUTABLE", self.spec["python"].command.path),
            ])
        return args

    def setup_run_environment(self, env):
        env.prepend_path("HDF5_PLUGIN_PATH", self.plugin_dir)
        if self.spec.satisfies("+default_vol"):
            env.set("HDF5_VOL_CONNECTOR", "arraymorph")

    def setup_dependent_run_environment(self, env, dependent_spec):
        # Programs built on arraymorph find the plugin when run through spack too.
        env.prepend_path("HDF5_PLUGIN_PATH", self.plugin_dir)
