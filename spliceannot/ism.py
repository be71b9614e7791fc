"""In-silico mutagenesis (ISM) around a splice site.

Every base within ``width`` nucleotides of the site is changed to each of
the three other bases, and the drop in the site's acceptor (or donor)
probability is recorded: ``drop = P(reference) - P(mutant)``.  A position's
importance is the mean drop over its three mutants.

The genome is read as it is (no transcript masking, as ``predict`` reads
it).  With the cone engine (default) one pass over a reference tile gives
the site's reference probability and every layer's activations; each
mutant then recomputes only its receptive cone (see
:mod:`spliceannot.engine.cone`); all mutants share one cone geometry, so
they are batched together.
``compute="window"`` runs every mutant's whole window through the model
instead (the reference path; both give the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spliceannot.encoding import complement_text
from spliceannot.errors import InputError
from spliceannot.readers.annotation import load_annotation
from spliceannot.readers.fasta import Reference
from spliceannot.sites import KINDS, Site, resolve_site
from spliceannot.windows import encode

BASES = "ACGT"


@dataclass(frozen=True)
class Mutagenesis:
    """ISM of one site with one model.

    Attributes
    ----------
    positions
        ``(n,)`` 1-based contig positions mutated, ascending.
    reference
        The ``n`` forward-strand reference bases.
    drops
        ``(n, 4)`` drop of the site's probability when the position becomes
        A, C, G, T (forward strand); ``nan`` for the reference base.
    reference_probability
        The site's probability on the reference sequence.
    """

    site: Site
    model: str
    positions: np.ndarray
    reference: str
    drops: np.ndarray
    reference_probability: float

    @property
    def importance(self) -> np.ndarray:
        """``(n,)`` mean drop over each position's mutants."""
        return np.nanmean(self.drops, axis=1)

    @property
    def offsets(self) -> np.ndarray:
        """``(n,)`` distance from the site in transcript direction (negative = upstream)."""
        relative = self.positions - self.site.pos
        return relative if self.site.strand == "+" else -relative

    @property
    def transcript_bases(self) -> str:
        """The reference bases as the transcript reads them (complemented on the minus strand)."""
        return (
            self.reference
            if self.site.strand == "+"
            else complement_text(self.reference)
        )


# --------------------------------------------------------------------------- mutagenesis


@dataclass(frozen=True)
class _Plan:
    """A forward-strand stretch of sequence holding the site's receptive field and every mutated base."""

    contig: str
    first: int  # 0-based contig coordinate of text[0]
    text: str  # upper-case, N beyond the contig's ends
    positions: np.ndarray  # 1-based positions mutated


def _plan(reference: Reference, site: Site, flank: int, span: tuple[int, int]) -> _Plan:
    contig = reference.resolve(site.chrom)
    if contig is None:
        raise InputError(f"{site.chrom}: contig not in {reference.path}")
    length = reference.length(contig)
    if not 1 <= site.pos <= length:
        raise InputError(f"{site.chrom}:{site.pos}: beyond the end of {site.chrom} ({length} nt)")
    lo_pos, hi_pos = max(1, span[0]), min(length, span[1])
    # room for the receptive field of every output from the lowest to the highest of
    # the site and the mutated bases, plus the same reach again (see _cone_probabilities)
    reach = max(abs(site.pos - lo_pos), abs(hi_pos - site.pos))
    first = min(lo_pos, site.pos) - 1 - flank // 2 - reach
    last = max(hi_pos, site.pos) + flank // 2 + reach  # exclusive 0-based end
    fetched = reference.fetch(contig, max(0, first), min(length, last)).upper()
    text = "N" * max(0, -first) + fetched + "N" * max(0, last - length)
    return _Plan(contig, first, text, np.arange(lo_pos, hi_pos + 1))


def mutagenesis(
    reference: Reference,
    site: Site,
    model,
    *,
    width: int = 50,
    region: tuple[int, int] | None = None,
    device: str = "auto",
    batch_size: int = 32,
    compute: str = "cone",
    name: str | None = None,
) -> Mutagenesis:
    """ISM of ``site`` with a loaded model.

    Parameters
    ----------
    model
        A :class:`~spliceannot.engine.weights.LoadedModel`.
    width
        Mutate positions ``site.pos - width .. site.pos + width``.
    region
        1-based inclusive ``(start, end)`` to mutate instead.
    compute
        ``cone`` (recompute each mutant's receptive cone) or ``window``
        (every mutant's whole window through the model).
    """
    from spliceannot.engine.runner import Predictor

    if compute not in ("cone", "window"):
        raise ValueError(f"compute must be cone or window, got {compute!r}")
    span = region or (site.pos - width, site.pos + width)
    plan = _plan(reference, site, model.flank, span)
    mutants = [
        (i, base)
        for i, p in enumerate(plan.positions)
        for base in BASES
        if base != plan.text[p - 1 - plan.first]
    ]
    predictor = Predictor(model, device=device, batch_size=batch_size)
    run = _cone_probabilities if compute == "cone" else _window_probabilities
    ref_probs, alt_probs = run(
        predictor, plan, site, [(int(plan.positions[i]), b) for i, b in mutants]
    )
    column = KINDS[site.kind]
    drops = np.full((len(plan.positions), 4), np.nan)
    for (index, base), probs in zip(mutants, alt_probs):
        drops[index, BASES.index(base)] = float(ref_probs[column]) - float(probs[column])
    bases = "".join(plan.text[p - 1 - plan.first] for p in plan.positions)
    return Mutagenesis(
        site, name or model.name, plan.positions, bases, drops, float(ref_probs[column])
    )


def _model_index(plan: _Plan, position: int, strand: str) -> int:
    """Index of 1-based contig ``position`` in the (possibly reverse-complemented) plan text."""
    forward = position - 1 - plan.first
    return forward if strand == "+" else len(plan.text) - 1 - forward


def _cone_probabilities(predictor, plan: _Plan, site: Site, mutants: Sequence[tuple[int, str]]):
    """Site probabilities ``(3,)`` of the reference and of each mutant, by cone recomputation.

    Every mutant asks for the outputs within ``reach`` of its own base, which
    include the site wherever the base is: all mutants then have one cone
    geometry and share batches (the wider output costs little next to the
    cone itself).
    """
    from spliceannot.engine.cone import ConeRunner, Substitution, TrackRequest

    runner = ConeRunner(
        predictor.ensemble,
        predictor.device,
        batch_size=predictor.batch_size,
        max_positions=max(65_536, len(plan.text)),
    )
    output = _model_index(plan, site.pos, site.strand)
    starts = [_model_index(plan, position, site.strand) for position, _ in mutants]
    reach = max((abs(start - output) for start in starts), default=0)
    substitutions = [
        Substitution(0, start, 1, encode(base, site.strand), start - reach, 2 * reach + 1)
        for start, (_, base) in zip(starts, mutants)
    ]
    refs, alts = runner.run(
        [encode(plan.text, site.strand)], [TrackRequest(0, output, 1)], substitutions
    )
    return refs[0][0], [alt[output - start + reach] for alt, start in zip(alts, starts)]


def _window_probabilities(predictor, plan: _Plan, site: Site, mutants: Sequence[tuple[int, str]]):
    """Site probabilities ``(3,)`` of the reference and of each mutant, one whole window each."""
    half = predictor.flank // 2
    centre = site.pos - 1 - plan.first
    lo, hi = centre - half, centre + half + 1

    def window(text: str) -> np.ndarray:
        return encode(text[lo:hi], site.strand)

    texts = [plan.text]
    for position, base in mutants:
        index = position - 1 - plan.first
        texts.append(plan.text[:index] + base + plan.text[index + 1 :])
    outputs = predictor.predict([window(t) for t in texts])
    return outputs[0][0], [out[0] for out in outputs[1:]]


# --------------------------------------------------------------------------- TSV

TSV_COLUMNS = (
    "model",
    "chrom",
    "pos",
    "offset",
    "ref",
    "drop_A",
    "drop_C",
    "drop_G",
    "drop_T",
    "importance",
)


def write_tsv(results: Sequence[Mutagenesis], path: str | Path) -> None:
    """One row per model and position: drops per forward-strand base (``.`` for the reference) and importance.

    ``offset`` is the distance from the site in transcript direction.
    Header comment lines give the site and each model's reference probability.
    """
    from spliceannot.atomic import atomic_path

    with atomic_path(path) as temporary, open(temporary, "w") as handle:
        site = results[0].site
        handle.write(f"# site={site.chrom}:{site.pos} kind={site.kind} strand={site.strand}\n")
        for result in results:
            handle.write(
                f"# model={result.model} reference_probability={result.reference_probability:.6f}\n"
            )
        handle.write("\t".join(TSV_COLUMNS) + "\n")
        for result in results:
            for row, position in enumerate(result.positions):
                drops = ["." if np.isnan(d) else f"{d:.6f}" for d in result.drops[row]]
                handle.write(
                    "\t".join(
                        [
                            result.model,
                            site.chrom,
                            str(position),
                            str(result.offsets[row]),
                            result.reference[row],
                            *drops,
                            f"{result.importance[row]:.6f}",
                        ]
                    )
                    + "\n"
                )


def read_tsv(path: str | Path) -> dict[str, dict[int, float]]:
    """``{model: {position: importance}}`` from a file :func:`write_tsv` wrote."""
    table: dict[str, dict[int, float]] = {}
    with open(path) as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    header = lines[0]
    for fields in lines[1:]:
        row = dict(zip(header, fields))
        table.setdefault(row["model"], {})[int(row["pos"])] = float(row["importance"])
    return table


def model_labels(specs: Sequence[str], labels: Sequence[str] = ()) -> list[str]:
    """Short distinct names for models: ``labels`` when given, else ``spliceai`` or the file/directory stem."""
    if labels and len(labels) != len(specs):
        raise InputError(f"--label given {len(labels)} times for {len(specs)} --model(s)")
    names = list(labels) or [
        spec if "/" not in spec and "." not in spec else Path(spec).stem or spec for spec in specs
    ]
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return result


def run_mutagenesis(
    reference_path: str,
    location: str,
    models: Sequence[str],
    *,
    annotation: str | None = None,
    kind: str | None = None,
    strand: str | None = None,
    width: int = 50,
    labels: Sequence[str] = (),
    device: str = "auto",
    batch_size: int = 32,
    compute: str = "cone",
) -> list[Mutagenesis]:
    """Resolve the site that ``location`` names and run ISM with each model.

    Parameters
    ----------
    reference_path
        The reference FASTA.
    location
        ``CHROM:POS`` or ``CHROM:START-END`` (see
        :func:`~spliceannot.sites.resolve_site`).
    models
        Model specs for :func:`~spliceannot.engine.weights.load_model`.
    annotation
        ``-A``: finds the site's kind and strand when ``kind``/``strand``
        do not give them.
    labels
        Names of the models (default: from their specs, see :func:`model_labels`).

    Returns
    -------
    list
        One :class:`Mutagenesis` per model, in the order of ``models``.
    """
    from spliceannot.engine.weights import load_model

    names = model_labels(models, labels)
    genes = load_annotation(annotation) if annotation else None
    site, region = resolve_site(location, genes, kind=kind, strand=strand)
    reference = Reference(reference_path)
    try:
        return [
            mutagenesis(
                reference,
                site,
                load_model(spec),
                width=width,
                region=region,
                device=device,
                batch_size=batch_size,
                compute=compute,
                name=name,
            )
            for spec, name in zip(models, names)
        ]
    finally:
        reference.close()
