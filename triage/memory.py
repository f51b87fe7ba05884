"""Address space: keep what the process reserves small, and say so before a limit makes it abort.

polars' native code aborts the whole process (signal 6) when an allocation fails, which Python cannot
catch. A limit on the address space (`ulimit -v`, RLIMIT_AS) counts every mapping, reserved or not,
so two things matter under one: how much the process reserves beyond what it uses, and whether the
limit leaves room for the input at all.

* glibc gives each thread that calls `malloc` an arena of its own, up to eight per core, and reserves
  64 MiB of address space for each. polars' own allocations go through its bundled jemalloc, but the
  threads of its I/O runtime (tokio, about twenty of them) reach glibc's `malloc` through the C
  libraries they call, so each reserved an arena: about 1 GB of address space no page of which was
  ever touched. jemalloc in turn keeps an arena per thread up to four per core, keeps the address
  space of what it frees for reuse (`retain`), and starts a thread of its own per arena to return
  freed pages (each thread another 8 MiB of stack). `limit_arenas` makes both allocators use one
  arena, has jemalloc give back the address space it frees and return pages as it goes rather than
  on threads of its own: the process computes on two threads at most and each keeps a cache of small
  blocks, so they barely contend (a 128 MB analysis took the same CPU time either way). Both settings
  are read when the allocator starts, so the command line calls it before polars is imported (polars
  sets its own jemalloc options the same way at import, and puts these after them); a value the user
  set is left alone.
* `check_address_space` compares the limit with what a run needs, so that a limit too small is a
  one-line warning before the run rather than an abort in the middle of it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

ARENAS = 1  # malloc arenas of each allocator
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h
_JEMALLOC_CONF = "_RJEM_MALLOC_CONF"  # polars' jemalloc reads its options from here when it starts
BASE_MB = 200  # address space of Python, polars and triage once started (measured: 196 MB)
ANALYZE_PER_MB = 0.9  # address space `analyze` adds per MB of input (measured: RSS 0.8)
HISTORY_PER_FILE_KB = 16  # address space `history` adds per file read (measured: 15 KB at 15,000 files)


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's and polars' jemalloc's arenas, unless polars is loaded already (too late).

    Args:
        arenas: the most arenas each allocator may create.

    Returns:
        Whether glibc's cap was set (jemalloc's is set unless the user set its options).
    """
    if sys.platform != "linux" or "polars" in sys.modules:
        return False
    os.environ.setdefault(_JEMALLOC_CONF, f"narenas:{arenas},retain:false,background_thread:false")
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas))
    except (OSError, ValueError, AttributeError):
        return False


def address_limit_mb() -> float | None:
    """The soft limit on this process's address space in MB, or None when there is none."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft / 2**20


def input_mb(paths: Iterable[Path]) -> tuple[float, int]:
    """The size in MB and the number of the files under `paths` (files, or directories walked).

    Args:
        paths: files and directories; a path that does not exist counts nothing.

    Returns:
        (MB, files).
    """
    total, count = 0, 0
    for path in paths:
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for file in files:
            try:
                total += file.stat().st_size
            except OSError:
                continue
            count += 1
    return total / 2**20, count


def needed_mb(command: str, size_mb: float, files: int) -> float:
    """The address space a command needs for an input of `size_mb` MB in `files` files, roughly.

    Args:
        command: `analyze` or `history`.
        size_mb: the input's size.
        files: how many files it holds.

    Returns:
        MB, from runs measured on inputs up to 4 GB and 15,000 files: below it, a run is likely to fail.
    """
    if command == "history":
        return BASE_MB + files * HISTORY_PER_FILE_KB / 1024
    return BASE_MB + size_mb * ANALYZE_PER_MB


def check_address_space(command: str, paths: Iterable[Path]) -> str | None:
    """A one-line warning when the address-space limit is below what `command` needs for `paths`.

    Args:
        command: `analyze` or `history`.
        paths: its inputs.

    Returns:
        The warning, or None when there is no limit or it is large enough.
    """
    limit = address_limit_mb()
    if limit is None:
        return None
    size, files = input_mb(paths)
    need = needed_mb(command, size, files)
    if limit >= need:
        return None
    return (
        f"the address-space limit (ulimit -v) is {limit:.0f} MB, and {command} of {size:.0f} MB in "
        f"{files} files may need about {need:.0f} MB: if an allocation fails, polars aborts the process"
    )


def polars_load_error() -> str | None:
    """Why polars' native library cannot be loaded, or None when it loads.

    Under a tight address-space limit the library fails to map; polars then only warns and fails later
    on its first call, so a run asks first and can say so in one line.
    """
    try:
        with warnings.catch_warnings():  # polars warns "binary is missing" and goes on
            warnings.simplefilter("ignore")
            import polars._plr  # noqa: F401  (the compiled library)
    except ImportError as exc:
        return str(exc).split("\n", 1)[0]
    return None
