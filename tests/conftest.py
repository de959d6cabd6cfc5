"""Hypothesis profiles: ``ci`` (the default) is derandomized so that every run of the suite
tries the same examples; ``dev`` explores new ones (``pytest --hypothesis-profile=dev``)."""

import pytest
from hypothesis import HealthCheck, settings

# Shared, loaded machines make per-example timings meaningless: no deadlines.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=1000)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_profile", default=None) is None:
        settings.load_profile("ci")


@pytest.fixture(scope="module")
def torch_one_thread():
    """Forward passes on a shared 2-core machine: more threads than cores only contend."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
