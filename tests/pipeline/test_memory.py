"""Frame-sized buffers are mapped on their own where the C library is glibc (the mmap threshold fixed)."""

import platform

import pytest

from hdrconv.pipeline.memory import return_frames_to_the_system


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_takes_the_fixed_mmap_threshold():
    assert return_frames_to_the_system() is True
    assert return_frames_to_the_system() is True  # once per process, then remembered
