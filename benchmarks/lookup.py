"""Latency and throughput of the lookup server (``spliceannot serve --http``) against ``annotate``.

On the shipped example genome (examples/chr16_region.fa.gz) with SpliceAI's
grch38 table and Illumina's five models, every process pinned to one CPU
core with one thread:

- start-up: from launch to the ready line; the first lookup, which loads the networks;
- uncached SNV: SNVs never scored before, one request at a time (``/api/lookup``
  and the SpliceAI-lookup API ``/spliceai/`` at -D 50, which also computes the
  per-position tracks);
- cached: the same SNVs again, from a freshly started server (score cache hits),
  and once more from the same server (answers it remembers);
- 50 clients: requests per second with 50 concurrent clients, cached and uncached
  (uncached requests that arrive together are scored in one batch);
- ``spliceannot annotate`` on a one-variant VCF, start-up included.

Usage: ``python benchmarks/lookup.py [--quick] [--cpu 1] [--out benchmarks/RESULTS-lookup.json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FASTA = ROOT / "examples" / "chr16_region.fa.gz"
VCF = ROOT / "examples" / "variants.vcf"


def snvs(count: int, skip: int = 0) -> list[tuple[str, int, str, str]]:
    """SNVs of the example VCF inside grch38's LUC7L..TMEM8A genes (positions 188,000-382,000)."""
    found = []
    for line in VCF.read_text().splitlines():
        if line.startswith("#"):
            continue
        chrom, pos, _, ref, alt = line.split("\t")[:5]
        if ref in ("A", "C", "G", "T") and alt in ("A", "C", "G", "T") and 188_000 < int(pos) < 382_000:
            found.append((chrom, int(pos), ref, alt))
    return found[skip : skip + count]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "median_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1)}  # fmt: skip


class Server:
    def __init__(self, cpu: str, cache: Path, extra=()) -> None:
        started = time.perf_counter()
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            ["taskset", "-c", cpu, sys.executable, "-m", "spliceannot", "serve", "--http", "0",
             "--genome", f"38={FASTA},grch38", "--cache", str(cache), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )  # fmt: skip
        self.ready = json.loads(self.process.stdout.readline())
        self.startup = time.perf_counter() - started
        self.url = self.ready["http"].rstrip("/")

    def get(self, path: str) -> tuple[float, dict]:
        started = time.perf_counter()
        with urllib.request.urlopen(self.url + path, timeout=600) as response:
            body = json.loads(response.read())
        return time.perf_counter() - started, body

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def sequential(server: Server, variants, path: str) -> list[float]:
    times = []
    for chrom, pos, ref, alt in variants:
        elapsed, body = server.get(path.format(v=f"{chrom}-{pos}-{ref}-{alt}"))
        assert "error" not in body or "did not return" in body["error"], body
        times.append(elapsed)
    return times


def concurrent(server: Server, variants, clients: int, per_client: int) -> dict:
    import aiohttp

    async def run() -> float:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800)) as session:
            async def client(index: int) -> None:
                for k in range(per_client):
                    chrom, pos, ref, alt = variants[(index * per_client + k) % len(variants)]
                    url = f"{server.url}/api/lookup?variant={chrom}-{pos}-{ref}-{alt}"
                    async with session.get(url) as response:
                        body = await response.read()
                        assert response.status == 200, (response.status, body[:300])

            started = time.perf_counter()
            await asyncio.gather(*(client(i) for i in range(clients)))
            return time.perf_counter() - started

    elapsed = asyncio.run(run())
    requests = clients * per_client
    return {"clients": clients, "requests": requests, "seconds": round(elapsed, 2),
            "requests_per_s": round(requests / elapsed, 1)}  # fmt: skip


def annotate_once(cpu: str, variant, directory: Path) -> float:
    chrom, pos, ref, alt = variant
    source = directory / "one.vcf"
    source.write_text(f"##fileformat=VCFv4.2\n##contig=<ID={chrom}>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                      f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n")  # fmt: skip
    started = time.perf_counter()
    subprocess.run(["taskset", "-c", cpu, sys.executable, "-m", "spliceannot", "annotate", "-I", str(source),
                    "-O", str(directory / "out.vcf"), "-R", str(FASTA), "-A", "grch38", "--no-cache"],
                   check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer variants (a smoke run)")
    parser.add_argument("--cpu", default="1", help="the CPU core(s) every process is pinned to")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS-lookup.json"))
    args = parser.parse_args()
    count = 5 if args.quick else 20
    results: dict = {"cpu": args.cpu, "variants": count, "model": "spliceai (5 networks)", "distance": 50}
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        cache = directory / "scores.sqlite"
        first, second, third = snvs(count), snvs(count, count), snvs(50 if not args.quick else 10, 2 * count)
        server = Server(args.cpu, cache)
        results["startup_s"] = round(server.startup, 2)
        warm = snvs(1000)[-1:]  # the first lookup loads the networks (lazily): timed on its own
        results["first_lookup_s"] = round(sequential(server, warm, "/api/lookup?variant={v}")[0], 2)
        results["uncached_api"] = summary(sequential(server, first, "/api/lookup?variant={v}"))
        results["uncached_spliceai_lookup"] = summary(
            sequential(server, second, "/spliceai/?hg=38&distance=50&mask=0&variant={v}"))
        results["remembered_api"] = summary(sequential(server, first, "/api/lookup?variant={v}"))
        results["uncached_50_clients"] = concurrent(server, third, 50, 1)
        server.stop()
        fresh = Server(args.cpu, cache)
        results["cached_api"] = summary(sequential(fresh, first, "/api/lookup?variant={v}"))
        results["cached_50_clients"] = concurrent(fresh, first + second + third, 50, 10 if not args.quick else 2)
        fresh.stop()
        runs = [annotate_once(args.cpu, first[0], directory) for _ in range(3 if not args.quick else 1)]
        results["annotate_one_variant_s"] = round(statistics.median(runs), 2)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
