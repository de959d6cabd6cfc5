"""Search objectives: MnasNet-form scores, Pareto sorting, Note10 LUT latency, zero-cost proxies
on the emitted PyTorch model, proxy training on the digits, user callbacks."""

import json
import math

import pytest

from archir.search import Candidate, SpaceSpec
from archir.search.objectives import (
    Axis,
    Callback,
    Constraint,
    Cost,
    Goal,
    GradNorm,
    Latency,
    Naswot,
    Objective,
    ProxyTrain,
    Synflow,
    non_dominated_sort,
    note10_latency_ms,
    pareto_front,
    standard_objective,
)
from archir.search.objectives.torch_util import torch_threads
from archir.search.objectives.zero_cost import with_activation_outputs

TINY_NB201 = SpaceSpec("nb201", {"cells_per_stage": 1, "resolution": 8, "width": 8})


def uniform(space, op):
    return Candidate(space, {d.name: op for d in space.decisions})


def user_metric(candidate):
    """A module-level callback: the number of decisions set to a conv."""
    return sum("conv" in str(v) for v in candidate.assignment.values())


# ---- scores ------------------------------------------------------------------------------------

def test_mnasnet_soft_reward_trades_2x_latency_for_about_5_percent():
    c = Constraint.soft("latency_ms", 30)
    assert c.factor({"latency_ms": 60}) == pytest.approx(2 ** -0.07) == pytest.approx(0.9527, abs=1e-4)
    assert c.factor({"latency_ms": 15}) == pytest.approx(2 ** 0.07)
    assert c.satisfied({"latency_ms": 60})  # soft: a target, not a limit


def test_mnasnet_hard_reward_is_free_under_the_limit_and_proportional_over_it():
    c = Constraint.hard("latency_ms", 30)
    assert c.factor({"latency_ms": 10}) == 1.0 and c.satisfied({"latency_ms": 30})
    assert c.factor({"latency_ms": 60}) == pytest.approx(0.5) and not c.satisfied({"latency_ms": 60})
    objective = Objective((Cost(), Latency("note10-cpu")), Goal("macs"), (c,))
    assert objective.score({"macs": 100.0, "params": 1.0, "latency_ms": 60.0}) == (pytest.approx(50.0), False)


def test_goal_minimize_is_the_reciprocal_and_refuses_nonpositive():
    g = Goal("latency_ms", "minimize")
    assert g.value({"latency_ms": 4.0}) == 0.25
    with pytest.raises(ValueError, match="cannot minimise"):
        g.value({"latency_ms": 0.0})


def test_objective_refuses_metrics_no_measure_computes():
    with pytest.raises(ValueError, match="no measure computes"):
        Objective((Cost(),), Goal("accuracy"))
    with pytest.raises(ValueError, match="latency needs a target"):
        standard_objective("synflow", max_latency_ms=30)


def test_objective_json_round_trip():
    o = standard_objective("proxy-train", target="note10-cpu", max_latency_ms=25, max_params=5e6,
                           reward="soft", epochs=3)
    back = Objective.from_json(json.loads(json.dumps(o.to_json())))
    assert back == o and back.describe() == o.describe()
    assert [c.kind for c in back.constraints] == ["soft", "hard"]


# ---- Pareto ------------------------------------------------------------------------------------

def test_non_dominated_sort_by_hand():
    # (accuracy up, latency down)
    points = [(0.9, 30), (0.8, 10), (0.85, 20), (0.8, 25), (0.7, 40), (0.9, 30)]
    axes = [Axis("accuracy", "max"), Axis("latency", "min")]
    fronts = non_dominated_sort(points, axes)
    assert fronts == [[0, 1, 2, 5], [3], [4]]  # equal points do not dominate each other
    assert pareto_front(points, axes) == [0, 1, 2, 5]
    assert sorted(i for f in fronts for i in f) == list(range(len(points)))


def test_every_point_of_a_front_is_dominated_only_by_earlier_fronts():
    import random

    rng = random.Random(3)
    points = [(rng.random(), rng.random(), rng.random()) for _ in range(60)]
    axes = [Axis("a", "max"), Axis("b", "min"), Axis("c", "min")]
    signed = [(a, -b, -c) for a, b, c in points]
    fronts = non_dominated_sort(points, axes)
    level = {i: k for k, f in enumerate(fronts) for i in f}
    for i in range(60):
        for j in range(60):
            if all(x >= y for x, y in zip(signed[j], signed[i])) and signed[j] != signed[i]:
                assert level[j] < level[i]


# ---- latency -----------------------------------------------------------------------------------

def test_note10_latency_matches_the_reference_table_sums():
    space = SpaceSpec("ofa-mbv3").build()
    largest = {d.name: d.domain[-1] for d in space.decisions}  # r224, d4, k7, e6
    smallest = {d.name: d.domain[0] for d in space.decisions} | {"resolution": 160}
    assert note10_latency_ms(space, largest) == pytest.approx(92.4, rel=0.005)
    assert note10_latency_ms(space, smallest) == pytest.approx(9.89, rel=0.01)


def test_note10_ignores_the_blocks_a_stage_skips():
    space = SpaceSpec("ofa-mbv3").build()
    a = {d.name: d.domain[0] for d in space.decisions} | {"resolution": 192}
    b = dict(a, **{"s3.b3.kernel": 7, "s3.b3.expand": 6})  # stage 3 runs 2 blocks: b3 is skipped
    c = dict(a, **{"s3.b1.kernel": 7})
    assert note10_latency_ms(space, a) == note10_latency_ms(space, b) < note10_latency_ms(space, c)


def test_note10_refuses_spaces_its_tables_do_not_measure():
    with pytest.raises(ValueError, match="Once-for-All"):
        standard_objective("latency", target="note10-cpu").check(TINY_NB201.build())
    with pytest.raises(ValueError, match="width_mult=1.2"):
        standard_objective("latency", target="note10-cpu").check(
            SpaceSpec("ofa-mbv3", {"width_mult": 1.0}).build())


def test_latency_on_any_target_goes_through_predict_latency():
    space = TINY_NB201.build()
    latency = Latency("adreno640")
    assert "analytic" in latency.provenance()
    conv = latency.measure(uniform(space, "nor_conv_3x3"))["latency_ms"]
    light = latency.measure(uniform(space, "skip_connect"))["latency_ms"]
    assert conv > light > 0
    note10 = "measured on Samsung Note10 by OFA, predicted by archir's LUT model"
    assert Latency("note10-cpu").provenance() == note10


def test_latency_on_an_untrained_target_is_a_recorded_error_naming_the_fix(tmp_path):
    space = TINY_NB201.build()
    o = standard_objective("latency", target="ort-cpu", predictor=str(tmp_path / "none"))
    e = o.evaluate(uniform(space, "nor_conv_3x3"))
    assert e.score is None and "archir profile" in e.error


# ---- zero-cost proxies -------------------------------------------------------------------------

def test_zero_cost_proxies_are_deterministic_and_rank_a_dead_network_last():
    space = TINY_NB201.build()
    conv, dead = uniform(space, "nor_conv_3x3"), uniform(space, "none")
    with torch_threads(1):
        for m in (Synflow(), Naswot(), GradNorm()):
            (name,) = m.metrics
            first = m.measure(conv)[name]
            assert m.measure(Candidate(space, conv.assignment))[name] == first
            assert math.isfinite(first) and first > m.measure(dead)[name] >= 0.0
    assert Naswot().measure(dead)["naswot"] == 0.0  # every image has the same activation pattern


def test_naswot_reads_activations_through_extra_graph_outputs():
    space = TINY_NB201.build()
    flat = uniform(space, "nor_conv_3x3").flat
    module, n = with_activation_outputs(flat)
    relus = [op for op in flat.main.ops if op.name == "relu"]
    assert n == 1 and len(module.main.outputs) == 1 + len(relus) > 1
    assert len(flat.main.outputs) == 1  # the candidate's own module is untouched


def test_synflow_runs_on_token_models():
    space = SpaceSpec("transformer", {"widths": [128], "layers": [2], "vocab": 64, "seq_len": 16}).build()
    with torch_threads(1):
        value = Synflow().measure(Candidate(space, space.default()))["synflow"]
    assert math.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="image model"):
        Naswot().measure(Candidate(space, space.default()))


# ---- proxy training ----------------------------------------------------------------------------

def test_proxy_training_on_digits_separates_a_real_network_from_a_dead_one():
    space = TINY_NB201.build()
    m = ProxyTrain(epochs=2, train_limit=400)
    with torch_threads(1):
        good = m.measure(uniform(space, "skip_connect"))
        dead = m.measure(uniform(space, "none"))
        again = m.measure(uniform(space, "skip_connect"))
    assert good["accuracy"] > 0.6 and dead["accuracy"] < 0.2
    assert good == again


# ---- callbacks ---------------------------------------------------------------------------------

def test_callback_measure_by_reference():
    space = TINY_NB201.build()
    cb = Callback.of(user_metric, ["convs"])
    assert cb.ref.endswith(":user_metric")
    assert cb.measure(uniform(space, "nor_conv_1x1")) == {"convs": 6.0}
    o = Objective((cb, Cost()), Goal("convs"))
    assert Objective.from_json(json.loads(json.dumps(o.to_json()))).evaluate(
        uniform(space, "none")).score == 0.0


def test_callbacks_that_cannot_be_named_are_refused():
    with pytest.raises(ValueError, match="module-level function"):
        Callback.of(lambda c: 1.0)
    with pytest.raises(ValueError, match="cannot import"):
        Callback("no_such_module_xyz:f")


def picky_metric(candidate):
    if candidate.assignment["edge.1.0"] == "none":
        raise RuntimeError("cannot measure a network whose first edge is none")
    return 1.0


def broken_metric(candidate):
    raise RuntimeError("this metric is broken")


def test_a_failing_candidate_is_recorded_and_the_search_goes_on():
    from archir.search import Budget, Search, SearchConfig

    o = Objective((Callback.of(picky_metric), Cost()), Goal("value"))
    result = Search(SearchConfig(TINY_NB201, o, "random", seed=2, batch_size=4)).run(Budget(evaluations=40))
    failed = result.failures()
    assert failed and all(r.assignment["edge.1.0"] == "none" for r in failed)
    assert all("first edge is none" in r.evaluation.error and "RuntimeError" in r.evaluation.error
               for r in failed)
    assert result.evaluations == 40 and result.best.score == 1.0


def test_a_search_whose_first_batch_all_fails_stops_with_the_error():
    from archir.search import Budget, Search, SearchConfig, SearchError

    o = Objective((Callback.of(broken_metric), Cost()), Goal("value"))
    with pytest.raises(SearchError, match="this metric is broken"):
        Search(SearchConfig(TINY_NB201, o, "random", seed=0, batch_size=4)).run(Budget(evaluations=8))
