import os
from pathlib import Path

import pytest

# one intra-op thread in every test process: train.threads=auto follows OMP_NUM_THREADS when it is
# set, so a test never depends on the model size or on how many cores the machine lends
os.environ.setdefault("OMP_NUM_THREADS", "1")

# gankit before torch, as in `gankit` itself: OpenMP's spin-wait is bounded (gankit.openmp_wait)
import gankit  # noqa: E402, F401, I001

# Real MNIST-format files (mnist/, fashion-mnist/) come only from GANKIT_DATA as it is when the suite
# starts (CI sets it; the autouse fixture below hides it from the library under test). Without it the
# tests that need the files skip, and `-rs` prints why in the summary.
REAL_DATA_ENV = os.environ.get("GANKIT_DATA", "")


def real_data_dir() -> Path | None:
    """The first GANKIT_DATA entry that holds ``mnist/``, or None."""
    for entry in REAL_DATA_ENV.split(os.pathsep):
        if entry and (Path(entry).expanduser() / "mnist").is_dir():
            return Path(entry).expanduser().resolve()
    return None


@pytest.fixture(scope="session")
def real_data() -> Path:
    found = real_data_dir()
    if found is None:
        why = f"GANKIT_DATA={REAL_DATA_ENV!r} holds no mnist/" if REAL_DATA_ENV else "GANKIT_DATA is not set"
        pytest.skip(f"needs the real MNIST-format files: {why} (point it at a folder with mnist/ and fashion-mnist/)")
    return found


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's cache or download anything from tests."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("GANKIT_DATA", raising=False)
    yield


def pytest_configure(config):
    # one intra-op thread per test process: the suite runs under xdist on 2 cores
    import torch

    torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` are skipped, with the reason, where CUDA is not available."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False here)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def _chorale_cache_file(tmp_path_factory) -> Path:
    """A melody cache of the first 40 chorale files of music21's corpus (parsing all takes a minute)."""
    pytest.importorskip("music21", reason="the chorales need music21 (the sequences extra)")
    from gankit.data.chorales import chorale_files, parse_melodies, write_melody_cache

    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("chorale-cache"))
    try:
        return write_melody_cache(parse_melodies(chorale_files()[:40]))
    finally:
        if previous is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture
def chorale_cache(_chorale_cache_file) -> Path:
    """The test's own cache holds the melodies of 40 real chorales (datasets chorales*)."""
    import shutil

    from gankit.data.chorales import melody_cache_path

    target = melody_cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_chorale_cache_file, target)
    return target
