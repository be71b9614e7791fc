"""Pangolin's VCF writing without its model: each input read and written back by PyVCF 0.6.8.

Run with the Python of the Pangolin peer virtualenv (``benchmarks/peers/setup_pangolin.sh``)::

    ~/.cache/spliceannot/peers/pangolin-5cf94b8/bin/python benchmarks/pyvcf_roundtrip.py \\
        --out-dir tests/data/pangolin/pyvcf tests/data/pangolin/pyvcf/*.vcf

Each ``NAME.vcf`` is read with ``vcf.Reader(filename=...)``, gets Pangolin's INFO
definition (tkzeng/Pangolin 5cf94b8 ``pangolin.py``: ``Pangolin``, Number ``.``,
String) and is written through ``vcf.Writer`` to ``OUT_DIR/NAME.expected.vcf``,
every record written, records with an even index (0, 2, ...) given
``INFO["Pangolin"] = SCORES``, as Pangolin writes a scored record.  Inputs named
``*.expected.vcf`` are skipped.  An input PyVCF raises on is reported on stderr
as ``NAME: ErrorType: message`` and leaves no output; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

import vcf

SCORES = "G|1:0.5|-2:-0.1|Warnings:"
PANGOLIN_INFO = vcf.parser._Info(
    "Pangolin", ".", "String",
    "Pangolin splice scores. Format: gene|pos:score_change|pos:score_change|warnings,...", ".", ".",
)


def roundtrip(source: str, target: str) -> int:
    """Write ``source`` to ``target`` as Pangolin's writer would; the number of records written."""
    reader = vcf.Reader(filename=source)
    reader.infos["Pangolin"] = PANGOLIN_INFO
    with open(target, "w") as stream:
        writer = vcf.Writer(stream, reader)
        count = 0
        for index, record in enumerate(reader):
            if index % 2 == 0:
                record.INFO["Pangolin"] = SCORES
            writer.write_record(record)
            writer.flush()
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """Command line: the inputs, ``--out-dir``; 1 when PyVCF raised on any input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", help="VCF files (*.expected.vcf are skipped)")
    parser.add_argument("--out-dir", required=True, help="where NAME.expected.vcf are written")
    parser.add_argument("--traceback", action="store_true", help="print the whole traceback of a failure")
    args = parser.parse_args(argv)
    failed = 0
    for source in sorted(args.inputs):
        name = os.path.basename(source)
        if name.endswith(".expected.vcf"):
            continue
        stem = name.removesuffix(".vcf")
        target = os.path.join(args.out_dir, stem + ".expected.vcf")
        try:
            count = roundtrip(source, target)
        except Exception as error:  # noqa: BLE001 - every PyVCF failure is reported, not raised
            failed += 1
            if os.path.exists(target):
                os.remove(target)
            print(f"{name}: {type(error).__name__}: {error}", file=sys.stderr)
            if args.traceback:
                traceback.print_exc()
            continue
        print(f"{name}: {count} records -> {target}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
