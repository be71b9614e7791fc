"""Several models in one pass: one record stream, one genome, one annotation, one INFO field each.

:class:`ScorerGroup` scores each chunk of records with every scorer and
folds their outcomes into the first scorer's (its pass-through reasons are
the run's; the others add their INFO field where they scored the record).
"""

from __future__ import annotations

from collections.abc import Sequence

from spliceannot.outcome import Outcome


class ScorerGroup:
    """SpliceAI and Pangolin (or any scorers with ``score(records) -> outcomes``) in one pass.

    A later scorer's pass-through reason goes into ``Outcome.skipped``
    under its INFO key (the run's summary counts them per model).
    """

    def __init__(self, scorers: Sequence) -> None:
        self.scorers = list(scorers)

    @property
    def first(self):
        return self.scorers[0]

    def __getattr__(self, name: str):
        # reference, annotation, geometry, distance, ...: the first scorer's
        if name == "scorers":
            raise AttributeError(name)
        return getattr(self.scorers[0], name)

    def score(self, records) -> list[Outcome]:
        outcomes = self.scorers[0].score(records)
        for scorer in self.scorers[1:]:
            for outcome, other in zip(outcomes, scorer.score(records)):
                outcome.fields.update(other.fields)
                if other.reason is not None:
                    outcome.skipped[scorer.info_key] = other.reason
                outcome.source = outcome.source or other.source
        return outcomes
