"""Frame-sized buffers of a large conversion go back to the system when freed.

glibc's malloc serves a request from its heap below the *mmap threshold* and maps it separately above;
the threshold starts at 128 KiB and rises to the size of each mapped block freed, up to 32 MiB. One
plane of a 4K float32 frame is 31.6 MiB: after the first is freed, such planes come from the heaps of
the threads that allocate them, and freed heap memory that is not at a heap's top stays with the
process. Fixing the threshold at :data:`MMAP_THRESHOLD` maps every frame-sized block on its own, at
the price of fresh pages (page faults) for each one. Measured on this project's 2-core machine:

- 4K, ``hdrconv alt-exp --model merge`` on the 12-frame 3-exposure clip of ``bench/alt_exp.py``
  (x265 ultrafast): peak RSS 3.28 GiB and 55 s as glibc does it, 2.50 GiB and 70 s with the
  threshold fixed;
- 1080p, ``python bench/throughput.py --seconds 4 --models bt2408,bt2446a``: 4.38 and 2.49 fps as
  glibc does it, 4.11 and 1.82 fps with the threshold fixed.

So only conversions of frames of at least :data:`LARGE_FRAME_PIXELS` fix it, where the memory is what
a machine runs out of. The setting holds for the rest of the process (a batch: the files after a 4K one).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter (malloc.h); setting it also ends the threshold's rise."""
MMAP_THRESHOLD = 1 << 20
"""Bytes from which a block is mapped on its own, and unmapped when freed."""
LARGE_FRAME_PIXELS = 3840 * 2160 // 2
"""Output frame size, in pixels, from which a conversion fixes the threshold: half of 4K UHD, planes
of 16 MiB in float32."""


def return_frames_to_the_system(width: int, height: int) -> bool:
    """For a conversion to ``width`` x ``height`` frames: fix glibc's mmap threshold at
    :data:`MMAP_THRESHOLD` (once per process) if the frames are large (module docstring). True where it
    is fixed, False for small frames or a C library other than glibc (other allocators, other rules)."""
    return width * height >= LARGE_FRAME_PIXELS and _fix_threshold()


@functools.cache
def _fix_threshold() -> bool:
    if platform.libc_ver()[0] != "glibc":
        return False
    return bool(ctypes.CDLL(ctypes.util.find_library("c")).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
