"""Mutation operators: of an assignment within a space (``mutate_assignment``), and graph
rewrites of a plain architecture (``MUTATIONS``, ``random_mutation``). A mutation returns a
new module that verifies or raises ``Rejected``; its input is never modified."""

from archir.search.mutations.assignment import AssignmentMutant, mutate_assignment
from archir.search.mutations.base import GraphMutation, Mutant, Rejected
from archir.search.mutations.registry import MUTATIONS, random_mutation

__all__ = ["MUTATIONS", "AssignmentMutant", "GraphMutation", "Mutant", "Rejected", "mutate_assignment",
           "random_mutation"]
