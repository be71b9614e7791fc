"""Records in, Pangolin's INFO value or the reason it skipped the record out.

:class:`PangolinScorer` has :class:`~spliceannot.annotate.VariantScorer`'s
shape (``score(records) -> outcomes``, ``derive``), so every pool, the
server and the writers drive it the same way.  Pangolin 5cf94b8's checks, in
its order:

1. only the first ALT is scored; REF and ALT must each hold an A, C, G or T
   (case-sensitive) and not both be longer than one base unless equally long
   (substitutions, simple insertions and deletions, MNVs);
2. REF no longer than ``2 * d``;
3. the contig, named as in the VCF, else with ``chr`` added, else with its
   first three letters removed; the window (``5000 + d`` bases each side)
   starting inside the contig (a window that starts before it is skipped:
   Pangolin's FASTA library returns unrelated text or crashes there); a
   window that runs past the contig's end is cut there, as Pangolin's FASTA
   library cuts it, and the positions that the cut window has no output for
   are not scored (every output that remains reads only bases inside the
   window, so it is the full window's value);
4. REF equal to the FASTA's bases, case-sensitive (soft-masked lowercase
   bases do not match an uppercase REF);
5. a gene on either strand (see :mod:`spliceannot.pangolin.genes`).

The window is not masked outside genes and reaches ``len(REF) - 1`` bases
further right than SpliceAI's (a geometry that ``covers_ref``).
"""

from __future__ import annotations

from collections.abc import Sequence

from spliceannot.engine.pangolin_files import TISSUES
from spliceannot.outcome import (
    CHROM_END,
    COMPUTED,
    FROM_CACHE,
    NO_ALT,
    NO_CONTIG,
    NO_GENE,
    REF_MISMATCH,
    REF_TOO_LONG,
    UNSUPPORTED_VARIANT,
    Outcome,
)
from spliceannot.pangolin.numbers import gene_entry, loss_and_gain, tissue_deltas
from spliceannot.values import Record, Span, Variant, VariantJob
from spliceannot.windows import WindowGeometry

INFO_KEY = "Pangolin"
INFO_HEADER = (
    '##INFO=<ID=Pangolin,Number=.,Type=String,Description="Pangolin splice scores. '
    'Format: gene|pos:score_change|pos:score_change|warnings,...">'
)
TISSUE_FIELDS = tuple(f"Pangolin_{tissue}_{kind}" for tissue in TISSUES for kind in ("gain", "loss"))
TISSUE_HEADERS = tuple(
    f'##INFO=<ID={key},Number=1,Type=Float,Description="Pangolin: largest {key.rsplit("_", 1)[1]} in '
    f'P(splice) in {key.split("_")[1]} within the distance, over genes and strands, unmasked">'
    for key in TISSUE_FIELDS
)
FLANK = 10_000
_BASES = frozenset("ACGT")


class PangolinScorer:
    """Score records as Pangolin does.

    Parameters
    ----------
    reference
        The genome (:class:`~spliceannot.readers.fasta.Reference`).
    genes
        A gene source (:mod:`spliceannot.pangolin.genes`).
    tracks
        Called as ``tracks(jobs, geometry)``; gives float32 ``(positions, 12)``
        reference and alternate tracks of Pangolin's twelve networks.
    distance
        ``-d``.
    mask
        ``-m True``.
    cutoff
        ``-s``: every site with a change at least this large (None: the largest gain and loss).
    score_exons
        ``--score_exons True``.
    mask_per_gene
        Mask each gene's scores on its own copy (not Pangolin's default, where
        genes of one strand share one array and one gene's masking shows in
        the next gene's numbers: upstream issue 29).
    """

    info_key = INFO_KEY

    def __init__(
        self,
        reference,
        genes,
        tracks,
        *,
        distance: int = 50,
        mask: bool = True,
        cutoff: float | None = None,
        score_exons: bool = False,
        mask_per_gene: bool = False,
        model_digest: str = "",
        cache=None,
        tissue_fields: bool = False,
    ) -> None:
        self.reference = reference
        self.genes = genes
        self.tracks = tracks
        self.distance = distance
        self.mask = mask
        self.cutoff = cutoff
        self.score_exons = score_exons
        self.mask_per_gene = mask_per_gene
        self.model_digest = model_digest
        self.cache = cache
        self.tissue_fields = tissue_fields
        self.geometry = WindowGeometry(flank=FLANK, distance=distance, covers_ref=True)
        self._names = set(reference.lengths)

    def context(self) -> str:
        """The score cache context of this scorer's values: model, genes and every setting."""
        from spliceannot.cache import entry_context

        return entry_context(
            "pangolin", self.model_digest, self.genes.digest(), self.distance, self.mask,
            self.cutoff, self.score_exons, self.mask_per_gene,
        )  # fmt: skip

    def derive(
        self, *, distance: int | None = None, mask: bool | None = None, cache=None, tracks=None
    ) -> PangolinScorer:
        """A scorer sharing this one's genome, genes and track source, with another ``-d``/``-m``
        (``cache``: an :class:`~spliceannot.cache.EntryCache` of the new scorer's context)."""
        return PangolinScorer(
            self.reference,
            self.genes,
            self.tracks if tracks is None else tracks,
            distance=self.distance if distance is None else distance,
            mask=self.mask if mask is None else mask,
            cutoff=self.cutoff,
            score_exons=self.score_exons,
            mask_per_gene=self.mask_per_gene,
            model_digest=self.model_digest,
            cache=cache,
            tissue_fields=self.tissue_fields,
        )

    def contig(self, chrom: str) -> str | None:
        """The FASTA's name for ``chrom`` by Pangolin's rule (as is, ``chr`` added, three letters removed)."""
        if chrom in self._names:
            return chrom
        if "chr" + chrom in self._names:
            return "chr" + chrom
        if chrom[3:] in self._names:
            return chrom[3:]
        return None

    def _plan(self, record: Record) -> tuple[Outcome, list[VariantJob], object]:
        ref = record.ref
        alt = record.alts[0] if record.alts else "None"
        d = self.distance
        if not _BASES & set(ref) or not _BASES & set(alt) or (len(ref) != 1 and len(alt) != 1 and len(ref) != len(alt)):
            reason = NO_ALT if not record.alts else UNSUPPORTED_VARIANT
            return Outcome(reason=reason, message="Variant format not supported."), [], None
        if len(ref) > 2 * d:
            return Outcome(reason=REF_TOO_LONG, message="Deletion too large"), [], None
        contig = self.contig(record.chrom)
        if contig is None:
            return Outcome(reason=NO_CONTIG, message=_NO_SEQUENCE), [], None
        start, end = record.pos - 5001 - d, record.pos + len(ref) + 4999 + d
        if start < 0:  # Pangolin's FASTA library returns unrelated text here, or crashes
            return Outcome(reason=CHROM_END, message=_NO_SEQUENCE), [], None
        observed = self.reference.fetch(contig, record.pos - 1, record.pos - 1 + len(ref))
        if observed != ref:
            message = f"Mismatch between FASTA (ref base: {observed}) and variant file (ref base: {ref})."
            return Outcome(reason=REF_MISMATCH, message=message), [], None
        genes = self.genes.genes(contig, record.pos)
        if not genes:
            return Outcome(reason=NO_GENE, message=_NO_GENE), [], None
        if end - self.reference.length(contig) >= 2 * d + min(len(ref), len(alt)):
            # the window, cut at the contig's end, leaves no output: Pangolin stops with a traceback
            return Outcome(reason=CHROM_END, message=_NO_SEQUENCE), [], None
        span = Span(0, self.reference.length(contig))
        variant = Variant(contig, record.pos, ref, alt)
        jobs = [VariantJob(variant, strand, span) for strand, side in (("+", genes.plus), ("-", genes.minus)) if side]
        return Outcome(), jobs, genes

    def score(self, records: Sequence[Record]) -> list[Outcome]:
        """Outcomes for ``records``, in order; the windows of all of them are computed together
        (values found in the score cache are not computed)."""
        plans = [self._plan(record) for record in records]
        keys = {i: _cache_key(jobs[0].variant, genes) for i, (_, jobs, genes) in enumerate(plans) if jobs}
        use_cache = self.cache is not None and not self.tissue_fields
        cached = self.cache.get(list(keys.values())) if use_cache and keys else {}
        jobs = [job for i, (_, record_jobs, _) in enumerate(plans) if keys.get(i) not in cached for job in record_jobs]
        computed = iter(self.tracks(jobs, self.geometry) if jobs else [])
        outcomes, fresh = [], []
        for index, (record, (outcome, record_jobs, genes)) in enumerate(zip(records, plans)):
            if outcome.reason is None and keys[index] in cached:
                outcome.fields[INFO_KEY] = cached[keys[index]]
                outcome.source = FROM_CACHE
            elif outcome.reason is None:
                entries, tissues = [], []
                cut = max(0, self.geometry.end(record.pos, len(record.ref)) - self.reference.length(record_jobs[0].contig))
                for job in record_jobs:
                    ref_track, alt_track = next(computed)
                    if cut:  # the positions Pangolin's cut window has no output for
                        ref_track, alt_track = ref_track[:-cut], alt_track[:-cut]
                    side = genes.plus if job.strand == "+" else genes.minus
                    entries.extend(self._entries(side, ref_track, alt_track, record.pos))
                    if self.tissue_fields:
                        tissues.append(tissue_deltas(ref_track, alt_track, self.distance))
                outcome.fields[INFO_KEY] = ",".join(entries)
                if tissues:
                    outcome.fields.update(_tissue_values(tissues))
                outcome.source = COMPUTED
                fresh.append((keys[index], outcome.fields[INFO_KEY]))
            outcomes.append(outcome)
        if use_cache and fresh:
            self.cache.put(fresh)
        return outcomes

    def _entries(self, genes: dict[str, list[int]], ref_track, alt_track, pos: int) -> list[str]:
        loss, gain = loss_and_gain(ref_track, alt_track, self.distance)
        entries = []
        for gene, exons in genes.items():
            gene_loss, gene_gain = (loss.copy(), gain.copy()) if self.mask_per_gene else (loss, gain)
            entries.append(
                gene_entry(
                    gene,
                    exons,
                    gene_loss,
                    gene_gain,
                    pos=pos,
                    distance=self.distance,
                    mask=self.mask,
                    cutoff=self.cutoff,
                    score_exons=self.score_exons,
                )
            )
        return entries


def _tissue_values(tables: list) -> dict[str, float]:
    """Per tissue, the largest gain and loss over positions and strands (2 decimals)."""
    values = {}
    for tissue, name in enumerate(TISSUES):
        gain = max(float(table[tissue].max()) for table in tables)
        loss = min(float(table[tissue].min()) for table in tables)
        values[f"Pangolin_{name}_gain"] = round(gain, 2)
        values[f"Pangolin_{name}_loss"] = round(loss, 2)
    return values


def _cache_key(variant: Variant, genes) -> tuple[str, str]:
    import hashlib

    from spliceannot.cache import variant_key

    digest = hashlib.sha256(genes.key().encode()).hexdigest()[:24]
    return variant_key(variant.chrom, variant.pos, variant.ref, variant.alt), digest


_NO_SEQUENCE = (
    "Could not get sequence, possibly because the variant is too close to chromosome ends. "
    "See error message above."
)
_NO_GENE = "Variant not contained in a gene body. Do GTF/FASTA chromosome names match?"
