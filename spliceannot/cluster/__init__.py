"""Scoring and prediction on a Ray cluster (``--engine ray``).

The driver (the ``spliceannot`` process) reads the input, cuts it into
shards, hands the shards to Ray actors and writes the results back in input
order, so the output is byte-identical to a single-process run.  Each actor
loads the model once and keeps it; there is one actor per GPU when the
cluster has GPUs, otherwise a configurable number of CPU actors.

- ``annotate``: each batch of ``--chunk-size`` records is cut into one
  shard per actor, near the even split but between records that share no
  window when such a place is near (they would share reference tiles).
  The driver loads the annotation once (a GTF/GFF3 is parsed there) and
  puts its rows in Ray's object store, from which every actor gets them.
  Actors read the genome, the model and the score cache from the paths
  given on the command line: on a cluster of several machines these paths
  must be readable on every node (a shared filesystem).
- ``predict``: a shard is one batch of chunks of a contig (on the same
  64-position grid as a single-process run), with batches of every strand
  and contig in flight; the driver reads the FASTA and
  sends base codes, actors return probabilities, so only the model needs to
  be reachable from the nodes.

Faults: when an actor process dies (killed, out of memory, node lost) Ray
restarts it and the driver sends its unfinished shards again; results are
only taken once, in order, so no record is lost or written twice.  An
interrupted driver drops its temporary output as a single-process run does.

Modules
-------
- :mod:`~spliceannot.cluster.connection`: joining, starting and leaving a
  cluster, its settings and errors, signals while the driver waits on it.
- :mod:`~spliceannot.cluster.actor_pool`: actors fed shards in order, their
  results collected in order, dead actors' shards sent again.
- :mod:`~spliceannot.cluster.shards`: cutting ``annotate``'s records into shards.
- :mod:`~spliceannot.cluster.annotate_pool`: ``annotate``'s scoring on actors.
- :mod:`~spliceannot.cluster.predict_pool`: ``predict``'s network on actors.
"""
