"""Benchmark harness: spliceannot against SpliceAI 1.3.1 and OpenSpliceAI 0.0.7.

Standard library only, so that ``python3 benchmarks/run.py`` works on a bare
Python before any virtual environment exists. Modules:

- ``paths``: where the repository, the cache and the outputs are.
- ``genome``: the example FASTA and SpliceAI's gene table, read once.
- ``workloads``: the deterministic VCF workloads (dense, sparse, scale).
- ``tools``: setting up and invoking the three annotators.
- ``measure``: one timed run of a command (wall time, peak RSS).
- ``fidelity``: INFO strings compared record for record.
- ``machine`` and ``report``: the machine description and RESULTS.md.
"""
