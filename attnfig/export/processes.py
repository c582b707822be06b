"""Whether a process is still running, without ever signalling it (POSIX and Windows).

On Windows ``os.kill(pid, 0)`` does not probe: it terminates the process. There the
question goes to ``OpenProcess`` and ``GetExitCodeProcess`` instead; a process that
cannot be asked about counts as alive, so its files are left alone.
"""
from __future__ import annotations

import os

_STILL_ACTIVE = 259  # GetExitCodeProcess's code for a running process
_ERROR_INVALID_PARAMETER = 87  # OpenProcess on a pid no process has
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000


def process_alive(pid: int) -> bool:
    """True unless the process `pid` is known to be gone.

    >>> process_alive(os.getpid())
    True
    """
    if os.name == "nt":
        return _windows_process_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0 only checks, on POSIX
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # someone else's process, or a pid we cannot ask about
        return True
    return True


def _windows_process_alive(pid: int) -> bool:
    try:
        kernel32 = _kernel32()
    except (AttributeError, OSError, ImportError):
        return True  # cannot ask: keep the file
    handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return kernel32.GetLastError() != _ERROR_INVALID_PARAMETER
    try:
        import ctypes

        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _kernel32():
    import ctypes
    import sys

    if sys.platform != "win32":  # ctypes has WinDLL only there
        raise OSError("kernel32 is a Windows library.")
    return ctypes.WinDLL("kernel32", use_last_error=False)
