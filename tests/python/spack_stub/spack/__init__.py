"""A stand-in for spack, just enough for tests/python/test_packaging_spack.py (see package.py)."""
