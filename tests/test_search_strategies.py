"""Search strategies and the loop: budgets, dedupe, ageing, the REINFORCE update, and exact resume
from JSON checkpoints (30 evaluations, stop, resume to 60 == 60 in one run)."""

import random

import numpy as np
import pytest
import torch

from archir.search import Budget, Search, SearchConfig, SpaceSpec
from archir.search.checkpoint import CheckpointError
from archir.search.objectives import standard_objective
from archir.search.strategies.controller import Controller

TINY_NB201 = SpaceSpec("nb201", {"cells_per_stage": 1, "resolution": 8, "width": 8})
OFA = SpaceSpec("ofa-mbv3")
# Six architectures: kv_heads {1, 2} x three positional encodings.
TINY_TRANSFORMER = SpaceSpec("transformer", {"widths": [64], "layers": [1], "heads": [4], "kv_heads": [1, 2],
                                             "windows": [0], "vocab": 32, "seq_len": 8})


def nb201_config(strategy, **options):
    # MACs under a parameter limit: a cheap objective whose best is not the biggest network.
    objective = standard_objective("macs", max_params=40_000)
    return SearchConfig(TINY_NB201, objective, strategy, options, seed=7, batch_size=4)


def ofa_config(strategy, **options):
    objective = standard_objective("macs", target="note10-cpu", max_latency_ms=25)
    return SearchConfig(OFA, objective, strategy, options, seed=3, batch_size=4)


def trace(search):
    return [(r.assignment, r.key, r.evaluation.metrics, r.score, r.feasible, r.duplicate_of, r.proposal.info)
            for r in search.records]


def strategy_state(search):
    state, arrays = search.strategy.state()
    return state, {k: v.tolist() for k, v in arrays.items()}


@pytest.mark.parametrize("make, strategy, options", [
    (nb201_config, "random", {}),
    (ofa_config, "evolution", {"population": 10, "sample": 3}),
    (nb201_config, "evolution", {"population": 10, "sample": 3}),
    (nb201_config, "reinforce", {}),
])
def test_stop_at_30_and_resume_to_60_equals_an_uninterrupted_60(tmp_path, make, strategy, options):
    config = make(strategy, **options)
    whole = Search(config)
    whole.run(Budget(evaluations=60))

    first = Search(config)
    first.run(Budget(evaluations=30), checkpoint_dir=tmp_path)
    assert first.evaluations == 30 and first.pending  # 30 is not a multiple of the batch of 4
    resumed = Search.resume(tmp_path, config)
    assert trace(resumed) == trace(first)
    resumed.run(Budget(evaluations=60), checkpoint_dir=tmp_path)

    assert resumed.evaluations == whole.evaluations == 60
    assert trace(resumed) == trace(whole)
    assert strategy_state(resumed) == strategy_state(whole)


def test_resume_refuses_another_configuration(tmp_path):
    Search(nb201_config("random")).run(Budget(evaluations=4), checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointError, match="seed: checkpoint 7, now 8"):
        Search.resume(tmp_path, SearchConfig(TINY_NB201, standard_objective("macs", max_params=40_000),
                                             "random", seed=8, batch_size=4))
    with pytest.raises(CheckpointError, match="no search checkpoint"):
        Search.resume(tmp_path / "elsewhere")


def test_checkpoints_are_json_and_npz_only(tmp_path):
    Search(nb201_config("reinforce")).run(Budget(evaluations=8), checkpoint_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json", "strategy.npz"]
    with np.load(tmp_path / "strategy.npz", allow_pickle=False) as data:
        assert any(k.startswith("controller/") for k in data.files)
        assert any(k.startswith("adam/") for k in data.files)


def test_budget_counts_new_architectures_and_dedupe_by_structure():
    search = Search(nb201_config("random"))
    result = search.run(Budget(evaluations=40))
    evaluated = [r for r in result.records if r.duplicate_of is None]
    assert len(evaluated) == result.evaluations == 40
    assert len({r.key for r in evaluated}) == 40
    for r in result.records:
        if r.duplicate_of is not None:
            assert r.key == result.records[r.duplicate_of].key
            assert r.evaluation == result.records[r.duplicate_of].evaluation


def test_a_small_space_seen_whole_stops_the_search_instead_of_looping():
    config = SearchConfig(TINY_TRANSFORMER, standard_objective("params"), "random", {"tries": 3}, seed=0,
                          batch_size=4)
    result = Search(config).run(Budget(evaluations=50, duplicate_streak=12))
    assert result.evaluations == 6
    assert "duplicates in a row" in result.stop_reason


def test_time_budget_stops_the_search():
    result = Search(nb201_config("random")).run(Budget(seconds=0.5))
    assert result.stop_reason == "time budget" and result.evaluations > 0


def test_aging_evolution_keeps_the_youngest_and_mutates_one_decision():
    search = Search(ofa_config("evolution", population=12, sample=4))
    search.run(Budget(evaluations=60))
    population = [r.index for r in search.strategy.population]
    assert population == list(range(len(search.records) - 12, len(search.records)))  # oldest removed
    children = [r for r in search.records if r.proposal.info["origin"] == "mutation"]
    assert len(children) >= 60 - 12
    for child in children:
        parent = search.records[child.proposal.info["parent"]]
        changed = [k for k in child.assignment if child.assignment[k] != parent.assignment[k]]
        assert len(changed) == 1
        assert parent.index < child.index


def test_evolution_picks_the_best_of_its_tournament():
    # sample == population: the tournament is the whole population, which (batch 1) is exactly
    # the 8 records told before the child was asked for
    config = SearchConfig(TINY_NB201, standard_objective("macs", max_params=40_000), "evolution",
                          {"population": 8, "sample": 8}, seed=1, batch_size=1)
    search = Search(config)
    search.run(Budget(evaluations=24))
    children = search.records[8:]
    assert children and all(c.proposal.info["origin"] == "mutation" for c in children)
    for child in children:
        population = search.records[child.index - 8:child.index]
        parent = search.records[child.proposal.info["parent"]]
        assert parent in population
        assert parent.rank() == max(r.rank() for r in population)


def test_controller_teacher_forcing_matches_its_sampling():
    torch.manual_seed(0)
    c = Controller([3, 5, 2, 4])
    rng = random.Random(1)
    picks = c.sample(rng, 6)
    logp, entropy = c.log_prob_entropy(picks)
    # recompute one sequence's probability step by step
    h = cc = torch.zeros(1, 64)
    x, total = c.start, 0.0
    for i, p in enumerate(picks[0]):
        h, cc = c.cell(x, (h, cc))
        total += torch.log_softmax(c._logits(i, h), 1)[0, p].item()
        x = c.embeds[i](torch.tensor([p]))
    assert logp[0].item() == pytest.approx(total, abs=1e-5)
    assert (entropy > 0).all()


def test_reinforce_update_makes_rewarded_choices_likelier():
    from archir.search.history import Record
    from archir.search.objectives import Evaluation
    from archir.search.strategies.reinforce import Reinforce

    space = TINY_NB201.build()
    rl = Reinforce(space, seed=0, lr=0.05)
    proposals = rl.ask(8, lambda a: True)
    picks = [p.info["picks"] for p in proposals]
    before, _ = rl.controller.log_prob_entropy(picks)
    best = 5
    for i, p in enumerate(proposals):
        rl.tell(p, Record(i, p, str(i), Evaluation({}, 1.0 if i == best else 0.0, True)))
    assert rl.updates == 1
    after, _ = rl.controller.log_prob_entropy(picks)
    assert after[best].item() > before[best].item()
    baseline = 1 / 8  # the first batch's mean, then an exponential moving average, reward by reward
    for i in range(8):
        baseline = 0.95 * baseline + 0.05 * (1.0 if i == best else 0.0)
    assert rl.baseline == pytest.approx(baseline)


@pytest.mark.parametrize("space, strategy", [
    ("nb201", "random"), ("darts", "reinforce"), ("nasnet", "evolution"), ("ofa-mbv3", "reinforce"),
    ("proxyless", "evolution"), ("transformer", "random"),
])
def test_every_named_space_can_be_searched(space, strategy):
    options = {"population": 4, "sample": 2} if strategy == "evolution" else {}
    config = SearchConfig(SpaceSpec(space), standard_objective("params"), strategy, options, seed=0,
                          batch_size=4)
    result = Search(config).run(Budget(evaluations=6))
    assert result.evaluations == 6 and not result.failures()
    for r in result.records:
        result.space.check(r.assignment)
    assert result.best.metrics["params"] == max(r.metrics["params"] for r in result.evaluated)
