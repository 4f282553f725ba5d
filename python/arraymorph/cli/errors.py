"""Exit codes and the one exception type the `arraymorph` command turns into a one-line error.

Every command raises :class:`CliError` for a problem the user can fix (missing source, bad URL,
destination exists, no credentials); ``app.main`` prints ``arraymorph: error: <message>`` and
exits with its code, without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

OK = 0
FAILED = 1  # an operation failed (store error, verification mismatch, doctor check failed)
USAGE = 2  # bad command line or URL (click's own code for usage errors)
NOT_FOUND = 3  # source file, group or dataset does not exist
EXISTS = 4  # destination exists (without --overwrite / --resume)
CREDENTIALS = 5  # the store refused the credentials, or none are configured
INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + signal number, as shells report it


class CliError(Exception):
    """A user-facing failure: ``message`` is printed on one line, ``code`` is the exit status."""

    def __init__(self, message: str, code: int = FAILED) -> None:
        super().__init__(message)
        self.code = code


def classify(exc: BaseException) -> CliError:
    """Map an exception from h5py/arraymorph to a CliError with a fitting exit code."""
    if isinstance(exc, CliError):
        return exc
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if isinstance(exc, FileNotFoundError) or "does not exist" in low or "errno = 2" in low:
        return CliError(text, NOT_FOUND)
    if isinstance(exc, FileExistsError) or "errno = 17" in low:
        return CliError(text, EXISTS)
    if any(s in low for s in ("403", "401", "credential", "access key", "signature", "authoriz")):
        return CliError(text, CREDENTIALS)
    return CliError(text, FAILED)
