"""archir.search: strategies (random, regularized evolution, REINFORCE), objectives (latency, cost,
zero-cost proxies, proxy training, callbacks; MnasNet-form scores, Pareto fronts), runners
(in-process, process pool, Ray), checkpoints that resume exactly, and ``archir search``."""

from archir.search.candidate import Candidate
from archir.search.config import Budget, SearchConfig
from archir.search.history import Proposal, Record
from archir.search.loop import Progress, Search, SearchError, SearchResult, run_search
from archir.search.spaces import SPACES, SpaceSpec

__all__ = ["SPACES", "Budget", "Candidate", "Progress", "Proposal", "Record", "Search", "SearchConfig",
           "SearchError", "SearchResult", "SpaceSpec", "run_search"]
