"""Runners: a search gives the same results in-process, on a spawn process pool and on Ray."""


import pytest

from archir.search import Budget, Search, SearchConfig, SpaceSpec
from archir.search.objectives import standard_objective
from archir.search.runners import InProcess, ProcessPool, RayRunner, make_runner

TINY_NB201 = SpaceSpec("nb201", {"cells_per_stage": 1, "resolution": 8, "width": 8})


def config():
    # NASWOT runs torch on real images: float results that must not depend on the process.
    return SearchConfig(TINY_NB201, standard_objective("naswot", max_params=40_000), "evolution",
                        {"population": 6, "sample": 3}, seed=11, batch_size=4)


def trace(result):
    return [(r.assignment, r.evaluation.metrics, r.score, r.feasible, r.evaluation.error, r.duplicate_of)
            for r in result.records]


@pytest.fixture(scope="module")
def in_process():
    return Search(config()).run(Budget(evaluations=10), InProcess())


def test_process_pool_gives_the_in_process_results(in_process):
    with ProcessPool(workers=2) as pool:
        pooled = Search(config()).run(Budget(evaluations=10), pool)
    assert trace(pooled) == trace(in_process)
    assert all(r.score is not None for r in in_process.records)


# ray is a dev dependency: CI runs this test (users install it with `pip install archir[ray]`)
def test_ray_on_a_local_instance_gives_the_in_process_results(in_process):
    import ray

    runner = RayRunner("local", num_cpus=1)
    try:
        on_ray = Search(config()).run(Budget(evaluations=10), runner)
    finally:
        runner.close()
    assert not ray.is_initialized()
    assert trace(on_ray) == trace(in_process)


def test_make_runner_picks_by_arguments():
    assert isinstance(make_runner(), InProcess)
    assert isinstance(make_runner(workers=3), ProcessPool)
    assert isinstance(make_runner(ray_address="auto"), RayRunner)
