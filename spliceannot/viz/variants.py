"""Naming variants on the command line: ``chrom:pos:ref:alt``, or records of a VCF."""

from __future__ import annotations

import re
from collections.abc import Sequence

from spliceannot.errors import InputError
from spliceannot.values import Variant

_VARIANT = re.compile(r"^([^:\s]+):(\d+)[:\-]([A-Za-z]+)[:\->]([A-Za-z]+)$")
_POSITION = re.compile(r"^([^:\s]+):(\d+)$")


def parse_variant(text: str) -> Variant:
    """A :class:`~spliceannot.windows.Variant` from ``chrom:pos:ref:alt`` (1-based ``pos``).

    ``chrom-pos-ref-alt`` and ``chrom:pos:ref>alt`` are read too.

    Raises
    ------
    InputError
        If ``text`` is not of that form.
    """
    match = _VARIANT.match(text.strip())
    if not match or int(match.group(2)) < 1:
        raise InputError(
            f"{text!r}: not a variant (expected CHROM:POS:REF:ALT, e.g. chr16:274274:G:C)"
        )
    chrom, pos, ref, alt = match.groups()
    return Variant(chrom=chrom, pos=int(pos), ref=ref, alt=alt)


def variant_label(variant: Variant) -> str:
    """``chrom:pos:ref:alt``."""
    return f"{variant.chrom}:{variant.pos}:{variant.ref}:{variant.alt}"


def file_label(variant: Variant, ident: str | None = None) -> str:
    """A file-name-safe label: the record ID when there is one, else ``chrom_pos_ref_alt``."""
    text = (
        ident
        if ident and ident != "."
        else f"{variant.chrom}_{variant.pos}_{variant.ref}_{variant.alt}"
    )
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]


def variants_from_vcf(path: str, selectors: Sequence[str] = ()) -> list[tuple[Variant, str | None]]:
    """Variants of a VCF (one per ALT) with their record IDs.

    Parameters
    ----------
    path
        VCF, bgzipped VCF or BCF.
    selectors
        Record IDs, ``chrom:pos`` positions or ``chrom:pos:ref:alt``
        variants to keep; empty keeps every record.  Each selector must match
        at least one record.

    Raises
    ------
    InputError
        Unreadable file, or a selector that matches nothing.
    """
    from spliceannot.readers.vcf import open_variants

    handle = open_variants(path)
    found: list[tuple[Variant, str | None]] = []
    used: set[str] = set()
    try:
        for item in handle.records():
            record = item.record
            for alt in record.alts or ():
                if alt.startswith("<") or alt in ("*", ".", "-"):
                    continue
                variant = Variant(chrom=record.chrom, pos=record.pos, ref=record.ref or "", alt=alt)
                hits = _matching(selectors, variant, record.id)
                if selectors and not hits:
                    continue
                used.update(hits)
                found.append((variant, record.id))
    finally:
        handle.close()
    missing = [s for s in selectors if s not in used]
    if missing:
        raise InputError(
            f"{path}: no record matches {missing[0]!r} (give an ID, CHROM:POS or CHROM:POS:REF:ALT)"
        )
    return found


def _matching(selectors: Sequence[str], variant: Variant, ident: str | None) -> set[str]:
    """The selectors that pick ``variant`` (record ID, position or full variant)."""
    hits = set()
    for selector in selectors:
        if ident is not None and selector in ident.split(";"):
            hits.add(selector)
            continue
        position = _POSITION.match(selector)
        if (
            position
            and _same_contig(position.group(1), variant.chrom)
            and int(position.group(2)) == variant.pos
        ):
            hits.add(selector)
            continue
        full = _VARIANT.match(selector)
        if (
            full
            and _same_contig(full.group(1), variant.chrom)
            and int(full.group(2)) == variant.pos
            and full.group(3) == variant.ref
            and full.group(4) == variant.alt
        ):
            hits.add(selector)
    return hits


def _same_contig(a: str, b: str) -> bool:
    from spliceannot.readers.contigs import ContigMatcher

    return ContigMatcher([b]).resolve(a) is not None
