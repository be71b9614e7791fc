"""The variant a user typed -> one VCF-style variant: ``CHROM-POS-REF-ALT``, ``CHROM:POS:REF:ALT`` or HGVS ``c.``."""

from __future__ import annotations

import re
from collections.abc import Callable

from spliceannot.lookup.hgvs import GenomicVariant, HgvsError, parse_hgvs, to_genomic
from spliceannot.lookup.transcripts import TranscriptIndex, coding_model

MAX_VARIANT_TEXT = 1000  # characters; longer texts are refused before parsing
MAX_ALLELE = 1000  # bases of REF or ALT
# CHROM-POS-REF-ALT, CHROM:POS:REF:ALT and the spellings SpliceAI-lookup accepts
# (separators: -, :, spaces; "REF>ALT"); CHROM as written (chr16 and 16 both match the genome).
GENOMIC_RE = re.compile(
    r"(?P<chrom>[A-Za-z0-9_.]+?)[-:\s]+(?P<pos>\d{1,10})[-:\s]+(?P<ref>[ACGTNacgtn]+)[-:\s>]+(?P<alt>[ACGTNacgtn]+)"
)


class VariantError(ValueError):
    """A variant text that cannot be read or placed; the text is one line for the user."""


def is_hgvs(text: str) -> bool:
    return ":c." in text


def parse_genomic(text: str) -> GenomicVariant:
    """``16-189969-T-A``, ``chr16:189969:T:A`` or ``chr16:189969 T>A`` -> a variant (alleles upper-cased)."""
    match = GENOMIC_RE.fullmatch(text.strip())
    if match is None:
        raise VariantError(
            f"Unable to parse variant: {text!r}. Expected CHROM-POS-REF-ALT (16-189969-T-A), "
            "CHROM:POS:REF:ALT or HGVS c. (NM_018032.4:c.100+1G>A)"
        )
    ref, alt = match["ref"].upper(), match["alt"].upper()
    if len(ref) > MAX_ALLELE or len(alt) > MAX_ALLELE:
        raise VariantError(f"alleles longer than {MAX_ALLELE} bases are not looked up")
    pos = int(match["pos"])
    if pos < 1:
        raise VariantError(f"POS must be at least 1, got {pos}")
    return GenomicVariant(match["chrom"], pos, ref, alt)


def resolve_variant(
    text: str, transcripts: TranscriptIndex, fetch: Callable[[str, int, int], str]
) -> tuple[GenomicVariant, str | None]:
    """The genomic variant of ``text``, and the transcript ID an HGVS text named (else None).

    Parameters
    ----------
    text
        What the user typed.
    transcripts
        The loaded transcripts (HGVS names one of them).
    fetch
        ``fetch(chrom, start0, end0)``: upper-case genome bases of ``[start0, end0)``.

    Raises
    ------
    VariantError
        A text that is neither form, an unknown transcript, or HGVS bases the genome does not have.
    """
    if len(text) > MAX_VARIANT_TEXT:
        raise VariantError(f"variant text longer than {MAX_VARIANT_TEXT} characters")
    if not is_hgvs(text):
        return parse_genomic(text), None
    try:
        hgvs = parse_hgvs(text)
    except HgvsError as error:
        raise VariantError(str(error)) from None
    rows = transcripts.find(hgvs.accession, hgvs.version)
    if not rows:
        known = transcripts.versions(hgvs.accession)
        wanted = f"{hgvs.accession}.{hgvs.version}" if hgvs.version else hgvs.accession
        if known:
            raise VariantError(f"transcript {wanted} is not loaded (loaded: {', '.join(known)})")
        raise VariantError(f"transcript {wanted} is not in the loaded annotation")
    row = rows[0]
    model = coding_model(transcripts.rows[row], transcripts.details[row])
    try:
        variant = to_genomic(model, hgvs.change, lambda start, end: fetch(model.chrom, start, end))
    except ValueError as error:  # HgvsError, or a position off the contig
        raise VariantError(f"{text.strip()}: {error}") from None
    return variant, transcripts.details[row].transcript_id
