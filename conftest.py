"""Root pytest configuration: doctests in attnfig/ get a headless backend and closed figures."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_all_figures():
    yield
    plt.close("all")


def pytest_configure(config):
    """tests/test_ray.py shares one Ray cluster: with ``-n``, its tests stay in one worker (the "ray" group)."""
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"
