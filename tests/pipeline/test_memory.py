"""Only a conversion of large frames fixes glibc's mmap threshold (it costs smaller ones speed)."""

import platform
import subprocess
import sys

import pytest

from hdrconv.pipeline.memory import return_frames_to_the_system


def test_1080p_frames_leave_the_allocator_as_it_is():
    assert return_frames_to_the_system(1920, 1080) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_4k_frames_fix_the_threshold_on_glibc():
    # in a child: the setting holds for the rest of a process, and would slow the tests after this one
    code = "from hdrconv.pipeline.memory import return_frames_to_the_system as f; print(f(3840, 2160), f(3840, 2160))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]
