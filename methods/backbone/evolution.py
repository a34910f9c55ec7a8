"""A small evolutionary architecture search under a hard constraint (regularised evolution style:
Real et al. 2019; the SnapGen-V and Once-for-All searches use the same population / mutation /
selection loop over a lookup-table-constrained space).

A candidate is a mapping gene -> choice over a finite :data:`SearchSpace`. The loop:

1. the first ``population`` candidates are the given seeds, then random draws;
2. afterwards a parent is picked by tournament (``tournament`` draws among the ``population`` best
   scored so far, the best of them wins) and mutated (1 to ``max_mutations`` genes set to another
   choice);
3. a candidate already seen is redrawn; one that ``constraint`` rejects (over a latency budget) is
   written to the trace and **never scored**;
4. it stops after ``max_evaluations`` scored candidates (or ``max_proposals`` proposals).

Lower scores are better. The proposals depend only on the seed and on the scores, so a resumed
search whose ``evaluate`` returns the cached scores replays the same trace.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

SearchSpace = Mapping[str, Sequence[str]]  # gene -> its choices
Candidate = dict[str, str]


def candidate_key(c: Mapping[str, str]) -> str:
    return json.dumps(dict(sorted(c.items())), separators=(",", ":"))


@dataclass
class SearchResult:
    trace: list[dict[str, Any]] = field(default_factory=list)  # every proposal in order

    @property
    def scored(self) -> list[dict[str, Any]]:
        return [r for r in self.trace if r["status"] == "scored"]

    @property
    def best(self) -> dict[str, Any]:
        if not self.scored:
            raise ValueError("the search scored no candidate: every proposal broke the constraint")
        return min(self.scored, key=lambda r: r["score"])


def random_candidate(space: SearchSpace, rng: random.Random) -> Candidate:
    return {g: rng.choice(list(choices)) for g, choices in space.items()}


def mutate(parent: Mapping[str, str], space: SearchSpace, rng: random.Random, max_mutations: int = 2) -> Candidate:
    """``parent`` with 1 to ``max_mutations`` genes (that have a choice) set to another choice."""
    child = dict(parent)
    movable = [g for g, c in space.items() if len(c) > 1]
    for g in rng.sample(movable, rng.randint(1, min(max_mutations, len(movable)))):
        child[g] = rng.choice([c for c in space[g] if c != parent[g]])
    return child


def evolutionary_search(
    space: SearchSpace,
    evaluate: Callable[[Candidate], float],
    constraint: Callable[[Candidate], tuple[bool, dict[str, Any]]],
    *,
    max_evaluations: int = 12,
    population: int = 4,
    tournament: int = 2,
    max_mutations: int = 2,
    seeds: Sequence[Mapping[str, str]] = (),
    seed: int = 0,
    max_proposals: int = 500,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> SearchResult:
    """Run the search; ``constraint(c)`` -> (ok, info) is checked before ``evaluate(c)`` ever runs."""
    if max_evaluations < 1 or population < 1:
        raise ValueError("max_evaluations and population must be at least 1")
    for s in seeds:
        if set(s) != set(space) or any(s[g] not in space[g] for g in space):
            raise ValueError(f"seed candidate {dict(s)} is not in the search space")
    rng = random.Random(seed)
    result = SearchResult()
    seen: set[str] = set()
    queue = [dict(s) for s in seeds]
    proposals = 0
    while len(result.scored) < max_evaluations and proposals < max_proposals:
        proposals += 1
        scored = sorted(result.scored, key=lambda r: r["score"])
        parent = None
        if queue:
            cand = queue.pop(0)
        elif len(scored) < population:
            cand = random_candidate(space, rng)
        else:
            pool = scored[:population]
            parent = min(rng.sample(pool, min(tournament, len(pool))), key=lambda r: r["score"])
            cand = mutate(parent["candidate"], space, rng, max_mutations)
        key = candidate_key(cand)
        if key in seen:
            continue
        seen.add(key)
        ok, info = constraint(cand)
        record: dict[str, Any] = {"proposal": proposals, "candidate": cand, "parent": parent["index"] if parent else None,
                                  "constraint": info}
        if not ok:
            record["status"] = "rejected"
            logger.info("search: proposal %d rejected by the constraint: %s", proposals, info)
        else:
            record["index"] = len(result.scored)
            record["score"] = float(evaluate(cand))
            record["status"] = "scored"
            logger.info("search: candidate %d scored %.4g", record["index"], record["score"])
        result.trace.append(record)
        if on_record is not None:
            on_record(record)
    return result
