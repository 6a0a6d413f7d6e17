import pytest
import torch


@pytest.fixture
def one_thread():
    """torch on one thread for the test: tiny networks' tensors are too small to share among threads,
    and on a busy 2-core machine OpenMP's synchronisation made a 32x32 forward of the alternating-
    exposure network 10x slower (2.8 s instead of 0.25 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
