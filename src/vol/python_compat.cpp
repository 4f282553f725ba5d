// python_compat.cpp -- see python_compat.hpp.
#include "vol/python_compat.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace arraymorph::vol {
namespace {

// Runs in the thread that initialises the connector, with the GIL held, inside an HDF5 call
// (it calls no HDF5 function). When h5py is still being imported, h5py's module object gets a
// subclass whose first attribute access after the import has finished (`h5py.File`, `from h5py
// import ...`) restores the class and imports arraymorph; h5py's own code reads its globals
// directly and never triggers it. A failing import is reported as a Python warning.
constexpr const char* kInstall = R"PY(
def _arraymorph_compat():
    import sys
    h5py = sys.modules.get("h5py")
    if h5py is None or "arraymorph" in sys.modules:
        return

    def load():
        try:
            import arraymorph  # noqa: F401  (its import installs the layer)
        except Exception as exc:
            import warnings
            warnings.warn("arraymorph's h5py compatibility layer is not active: 'import arraymorph' "
                          "failed: %r" % (exc,), RuntimeWarning)

    if not getattr(getattr(h5py, "__spec__", None), "_initializing", False):
        load()
        return
    base = type(h5py)

    class FirstUse(base):
        def __getattribute__(self, name):
            spec = base.__getattribute__(self, "__spec__")
            if not getattr(spec, "_initializing", False):
                self.__class__ = base
                load()
            return base.__getattribute__(self, name)

    h5py.__class__ = FirstUse


try:
    _arraymorph_compat()
except Exception:
    pass
finally:
    del _arraymorph_compat
)PY";

}  // namespace

void schedule_python_compat() {
  const char* env = std::getenv("ARRAYMORPH_PYTHON_COMPAT");
  if (env && std::strcmp(env, "0") == 0) return;
  // The CPython entry points, resolved at run time: the plugin does not link libpython.
  auto is_initialized = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "Py_IsInitialized"));
  auto gil_check = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "PyGILState_Check"));
  auto run = reinterpret_cast<int (*)(const char*)>(dlsym(RTLD_DEFAULT, "PyRun_SimpleString"));
  if (!is_initialized || !gil_check || !run || !is_initialized() || !gil_check()) return;
  run(kInstall);
}

}  // namespace arraymorph::vol
