"""Frame-sized buffers go back to the system when freed.

glibc's malloc serves a request from its heap below the *mmap threshold* and maps it separately above;
the threshold starts at 128 KiB and rises to the size of each mapped block freed, up to 32 MiB. One
plane of a 4K float32 frame is 31.6 MiB: after the first is freed, such planes come from the heaps of
the threads that allocate them, and freed heap memory that is not at a heap's top stays with the
process. Peak RSS of ``hdrconv alt-exp --model merge`` on a 12-frame 3-exposure 4K clip: 3.70 GiB as
glibc does it, 2.96 GiB with the threshold fixed at 1 MiB (``MALLOC_MMAP_THRESHOLD_=1048576``), against
1.42 GiB of tensors alive at the peak (bench/alt_exp.py's clip, x265 ultrafast).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter (malloc.h); setting it also ends the threshold's rise."""
MMAP_THRESHOLD = 1 << 20
"""Bytes from which a block is mapped on its own, and unmapped when freed."""


@functools.cache
def return_frames_to_the_system() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` for this process (once); False where the C
    library is not glibc (nothing to do: other allocators have other rules)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
