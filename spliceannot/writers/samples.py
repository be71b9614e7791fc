"""Putting FORMAT values into a VCF line, every other byte of it kept.

Text output keeps each record's input line (:mod:`spliceannot.writers.vcf`);
per-sample values set by the annotator are spliced into its FORMAT and
sample columns here.
"""

from __future__ import annotations

from collections.abc import Sequence

_FORMAT_COLUMN = 8


def splice_format(line: bytes, keys: Sequence[str], values: Sequence[Sequence[str]]) -> bytes:
    """``line`` with FORMAT ``keys`` set to ``values[sample][key index]``.

    A key the line already has is replaced where it stands; new keys are
    appended.  A sample column shorter than FORMAT (trailing fields dropped,
    as VCF allows) is filled with ``.`` up to the keys set.
    """
    fields = line.split(b"\t")
    if len(fields) <= _FORMAT_COLUMN + 1:
        return line
    names = fields[_FORMAT_COLUMN].split(b":") if fields[_FORMAT_COLUMN] not in (b"", b".") else []
    positions = []
    for key in keys:
        encoded = key.encode()
        if encoded not in names:
            names.append(encoded)
        positions.append(names.index(encoded))
    fields[_FORMAT_COLUMN] = b":".join(names)
    for sample, sample_values in enumerate(values):
        column = _FORMAT_COLUMN + 1 + sample
        if column >= len(fields):
            break
        parts = fields[column].split(b":")
        wanted = max(positions) + 1
        if len(parts) < wanted:
            parts.extend([b"."] * (wanted - len(parts)))
        for position, value in zip(positions, sample_values):
            parts[position] = value.encode()
        fields[column] = b":".join(parts)
    return b"\t".join(fields)
