"""Network tests use tiny nets: one intra-op thread is faster than several, and keeps the
tests quick when the CPU is shared (restored afterwards, so other test folders are unaffected)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="package")
def _single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
