#!/usr/bin/env python3
"""Top-k accuracy of ``spliceannot predict`` on real GRCh38 genes (augustus-doc's chr16 region).

The Debian package augustus-doc ships a 210 kb region of GRCh38 chr16
(``tutorial-cgp/genomes/hg38.fa``, chr16:186,964-397,118) with its RefSeq
transcripts (``tutorial-cgp/refseq/refseq.hg38.gtf``, coordinates relative
to the region).  This script predicts every position inside the genes, each
gene on its own strand, exactly as ``spliceannot predict -A refseq.hg38.gtf``
does, and scores the predictions against the sites ``spliceannot
create-data`` labels:

- acceptor = the first base of an exon that follows an intron,
- donor = the last base of an exon that precedes an intron,

in transcript orientation (``trainers.gene_windows.gene_sites``), every intron
labelled (create-data's default, no ``--canonical-introns``), the union over
the transcripts that ``--transcripts`` selects.  A base labelled both is a
donor, as in create-data's windows.

Top-k accuracy as SpliceAI defines it: with ``n`` annotated sites of a class
among the evaluated positions, take the ``k = factor x n`` positions with
the highest probability of that class; the accuracy is the fraction of them
that are annotated sites (over ``min(k, n)``; ``trainers.metrics``).
``top-1`` is SpliceAI's headline number.  PR-AUC is average precision.

Usage (spliceannot's environment; fetches augustus-doc if needed)::

    python scripts/eval-predict-chr16.py                 # spliceai ensemble, CPU, 1 thread
    python scripts/eval-predict-chr16.py --threads 2 --json out.json
    python scripts/eval-predict-chr16.py -m my_model.safetensors --transcripts all
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FETCH = HERE / "fetch-augustus-doc.sh"
FACTORS = (0.5, 1.0, 2.0, 4.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-m", "--model", default="spliceai",
                        help="model for spliceannot predict (default %(default)s)")
    parser.add_argument("--doc", type=Path,
                        help="augustus-doc's doc directory (default: fetch-augustus-doc.sh)")
    parser.add_argument("--transcripts", choices=("canonical", "all"), default="canonical",
                        help="transcripts that define genes and labels, as for predict -A "
                             "(default %(default)s)")
    parser.add_argument("--device", default="cpu", help="predict --device (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for torch (default %(default)s)")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    return parser.parse_args(argv)


def augustus_doc(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    result = subprocess.run(["bash", str(FETCH)], check=True, stdout=subprocess.PIPE, text=True)
    return Path(result.stdout.strip().splitlines()[-1])


def first_existing(*paths: Path) -> Path:
    for path in paths:
        if path.exists():
            return path
    raise FileNotFoundError(f"none of {', '.join(map(str, paths))} exists")


def inputs(doc: Path) -> tuple[Path, Path]:
    """hg38.fa (or .fa.gz) and refseq.hg38.gtf (or .gtf.gz) in either of the package layouts."""
    fasta = first_existing(*(doc / d / "genomes" / f"hg38.fa{z}"
                             for d in ("tutorial-cgp", "tutorial-cgp/data") for z in ("", ".gz")))
    gtf = first_existing(*(doc / d / "refseq" / f"refseq.hg38.gtf{z}"
                           for d in ("tutorial-cgp", "tutorial-cgp/data") for z in ("", ".gz")))
    return fasta, gtf


def predict_genes(fasta: Path, genes: list, args: argparse.Namespace):
    """Probabilities inside the genes, per contig and strand: float32 (length, 3), NaN elsewhere.

    The same calls as ``spliceannot predict -A``: gene spans on their strand,
    context from the genome, runs of >= 1000 N skipped.
    """
    from spliceannot.engine._device import set_cpu_threads
    from spliceannot.engine.weights import load_model
    from spliceannot.trainers.predict import GenomePredictor
    from spliceannot.trainers.predict_genome import predict_genome
    from spliceannot.trainers.predict_plan import gene_spans
    from spliceannot.writers.tracks import TrackWriter

    class Collect(TrackWriter):
        """Keeps every block in memory (a small region)."""

        def __init__(self) -> None:
            super().__init__()
            self.tracks: dict[str, dict[str, np.ndarray]] = {}
            self._length = 0

        def begin_contig(self, contig: str, length: int) -> None:
            self.tracks[contig] = {}
            self._length = length

        def write(self, block) -> None:
            track = self.tracks[block.contig].get(block.strand)
            if track is None:
                track = np.full((self._length, 3), np.nan, dtype=np.float32)
                self.tracks[block.contig][block.strand] = track
            track[block.start : block.end] = block.probs

    set_cpu_threads(args.threads)
    started = time.perf_counter()
    model = load_model(args.model)
    predictor = GenomePredictor(model, device=args.device, chunk_size=args.chunk_size,
                                batch_size=args.batch_size)
    loaded = time.perf_counter()
    collector = Collect()
    summary = predict_genome(fasta, predictor, [collector], genes=gene_spans(genes))
    done = time.perf_counter()
    timing = {"load_s": loaded - started, "predict_s": done - loaded,
              "positions": summary.predicted}
    return collector.tracks, timing


def site_labels(fasta: Path, genes: list) -> dict[str, dict[str, np.ndarray]]:
    """contig -> strand -> int8 labels (0 neither, 1 acceptor, 2 donor) over the contig."""
    from spliceannot.readers.fasta_stream import stream_fasta
    from spliceannot.trainers.gene_windows import gene_sites

    by_contig: dict[str, list] = {}
    for gene in genes:
        by_contig.setdefault(gene.chrom, []).append(gene)
    labels: dict[str, dict[str, np.ndarray]] = {}
    for contig, sequence in stream_fasta(fasta, wanted=set(by_contig)):
        if contig in labels:
            continue
        strands: dict[str, np.ndarray] = {}
        for gene in by_contig[contig]:
            track = strands.setdefault(gene.strand, np.zeros(len(sequence), dtype=np.int8))
            acceptors, donors = gene_sites(gene, sequence)
            track[np.asarray(acceptors, dtype=np.int64)] = np.maximum(
                track[np.asarray(acceptors, dtype=np.int64)], 1)
            track[np.asarray(donors, dtype=np.int64)] = 2  # both -> donor, as create-data
        labels[contig] = strands
    return labels


def evaluate(tracks, labels) -> tuple[dict, dict]:
    """Site metrics over every predicted position inside the genes (both strands pooled)."""
    from spliceannot.trainers.metrics import site_metrics

    all_labels, all_probs, per_strand = [], [], {}
    for contig, strands in tracks.items():
        for strand, probs in strands.items():
            kept = ~np.isnan(probs[:, 0])
            truth = labels.get(contig, {}).get(strand)
            if truth is None:
                truth = np.zeros(len(probs), dtype=np.int8)
            all_labels.append(truth[kept])
            all_probs.append(probs[kept])
            per_strand[strand] = per_strand.get(strand, 0) + int(kept.sum())
    flat_labels = np.concatenate(all_labels).astype(np.int64)
    flat_probs = np.concatenate(all_probs)
    return site_metrics(flat_labels, flat_probs), per_strand


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from spliceannot.readers.fasta_stream import fasta_contigs
    from spliceannot.trainers.genes import load_genes

    doc = augustus_doc(args.doc)
    fasta, gtf = inputs(doc)
    genes = load_genes(gtf, fasta_contigs(fasta), transcripts=args.transcripts, biotype="all")
    transcripts = sum(len(gene.transcripts) for gene in genes)
    print(f"FASTA {fasta}\nGTF   {gtf}\n{len(genes)} genes ({transcripts} transcripts, "
          f"--transcripts {args.transcripts}); model {args.model}, {args.device}, "
          f"{args.threads} thread(s)", flush=True)
    tracks, timing = predict_genes(fasta, genes, args)
    metrics, per_strand = evaluate(tracks, site_labels(fasta, genes))
    rate = timing["positions"] / timing["predict_s"] if timing["predict_s"] else float("nan")
    print(f"{timing['positions']:,} positions predicted ("
          + ", ".join(f"{s}: {n:,}" for s, n in sorted(per_strand.items()))
          + f") in {timing['predict_s']:.1f} s ({rate:,.0f} positions/s; "
            f"model loading {timing['load_s']:.1f} s)\n")
    header = "| class | sites | top-1 | top-k 0.5 | top-k 2 | top-k 4 | PR-AUC |"
    print(header)
    print("|" + "---|" * 7)
    for name in ("acceptor", "donor"):
        topk = metrics.topk[name]
        print(f"| {name} | {metrics.sites[name]} | {topk[1.0]:.4f} | {topk[0.5]:.4f} | "
              f"{topk[2.0]:.4f} | {topk[4.0]:.4f} | {metrics.pr_auc[name]:.4f} |")
    print(f"\nmean top-1 {metrics.mean_top1:.4f} over {metrics.positions:,} positions")
    if args.json:
        data = {
            "fasta": str(fasta), "gtf": str(gtf), "model": args.model,
            "transcripts": args.transcripts, "genes": len(genes),
            "transcript_count": transcripts, "device": args.device, "threads": args.threads,
            "positions": metrics.positions, "positions_per_strand": per_strand,
            "timing": timing, "sites": metrics.sites,
            "topk": {name: {f"{f:g}": v for f, v in values.items()}
                     for name, values in metrics.topk.items()},
            "pr_auc": metrics.pr_auc, "mean_top1": metrics.mean_top1,
        }  # fmt: skip
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
