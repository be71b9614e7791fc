"""Streaming records through a scoring pool: chunks in, outcomes out, every record written in order.

:func:`annotate_records` drives a :class:`~spliceannot.parallel.Pool` (one
scorer in this process, worker processes or Ray actors) over the input in
chunks, so memory is bounded by a chunk, not the input; :func:`record_views`
turns input records into the :class:`~spliceannot.values.Record` values that
cross to workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from spliceannot.entry import INFO_KEY, set_per_allele
from spliceannot.outcome import Summary
from spliceannot.readers.vcf import NOT_TEXT
from spliceannot.values import Record
from spliceannot.writers.samples import splice_format


def record_view(record) -> Record:
    """A :class:`Record` from a pysam VariantRecord.

    A CHROM, REF or ALT that is not UTF-8 (an ALT that is not ASCII) becomes
    ``<not UTF-8>``, so the record passes through unscored (contig not in
    FASTA, REF mismatch or no scorable ALT).
    """

    def text(read):
        try:
            return read()
        except UnicodeDecodeError:
            return NOT_TEXT

    alts = text(lambda: tuple(alt if alt.isascii() else NOT_TEXT for alt in record.alts or ()))
    return Record(
        chrom=text(lambda: record.chrom),
        pos=record.pos,
        ref=text(lambda: record.ref or ""),
        alts=(alts,) if alts == NOT_TEXT else alts,
    )


def record_views(items: Sequence) -> list[Record]:
    """:func:`record_view` of each :class:`~spliceannot.readers.vcf.InputRecord` (what crosses to
    workers), with the local haplotypes of its samples when it has them (``--haplotypes``)."""
    views = []
    for item in items:
        view = record_view(item.record)
        contexts = getattr(item, "contexts", ())
        views.append(replace(view, contexts=contexts) if contexts else view)
    return views


def chunked(items: Iterable, size: int) -> Iterable[list]:
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def annotate_records(
    records: Iterable,
    pool,
    write: Callable[..., None],
    *,
    chunk_size: int = 64,
    per_allele_fields: bool = False,
    progress: Callable[[int], None] | None = None,
    sample_fields: Callable | None = None,
    record_values: bool = True,
) -> Summary:
    """Score records in chunks and write each, in input order.

    Parameters
    ----------
    records
        :class:`~spliceannot.readers.vcf.InputRecord` items (their header
        must define the SpliceAI INFO field, and the per-allele fields when
        asked for).
    pool
        A :class:`~spliceannot.parallel.Pool` (one scorer in this process,
        worker processes, or Ray actors); a scorer may be Pangolin's or a
        group of models, whose outcomes carry their INFO fields in ``fields``.
    write
        Called as ``write(pysam_record, line, info_keys)`` for each record,
        annotated or not, in input order: ``info_keys`` are the INFO keys set.
    chunk_size
        Records scored together (memory is bounded by this, not the input).
    sample_fields
        Called as ``sample_fields(item, outcome)``: ``(keys, values per
        sample)`` of FORMAT fields to set, or None (``--haplotypes``).
    record_values
        Also set those values on the pysam record (the writer formats the
        record rather than splicing its line: BCF output, or no line).
    """
    summary = Summary()
    started = time.perf_counter()
    for chunk, outcomes in pool.map_ordered(pool.chunks(records, chunk_size)):
        for item, outcome in zip(chunk, outcomes):
            summary.count(item, outcome)
            record = item.record
            keys: tuple[str, ...] = ()
            if outcome.reason is None and outcome.entries:
                record.info[INFO_KEY] = ",".join(outcome.entries)
                keys = (INFO_KEY,)
                if per_allele_fields:
                    keys += set_per_allele(record, outcome.per_allele)
            for key, value in outcome.fields.items():  # other models of the pass (Pangolin)
                record.info[key] = value
                keys += (key,)
            line = item.line
            formats = sample_fields(item, outcome) if sample_fields is not None else None
            if formats is not None:
                format_keys, values = formats
                if record_values or line is None:
                    for sample, sample_values in zip(record.samples.values(), values):
                        for key, value in zip(format_keys, sample_values):
                            sample[key] = value
                if line is not None:
                    line = splice_format(line, format_keys, values)
            write(record, line, keys)
            summary.written += 1
        if progress is not None:
            progress(len(chunk))
    summary.retried = pool.retried
    summary.seconds = time.perf_counter() - started
    return summary
