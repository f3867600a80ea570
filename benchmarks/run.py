"""Run benchmark workloads, each in a fresh process, and print wall time and peak memory.

    python benchmarks/run.py [names ...] [--repeat N] [--json results.json] [--list]

Workloads are registered with ``registry.workload`` in the ``bench_*.py`` modules next to
this file; with no names, all of them run. See benchmarks/README.md for the columns.
"""

import argparse
import importlib
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from registry import WORKLOADS

HERE = Path(__file__).resolve().parent


def load_workloads():
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)
    return WORKLOADS


def peak_rss_mib():
    """Peak resident memory of this process so far (C++ allocations included)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def measure(name, repeat):
    """Set up and time one workload in this process; the result as a dict."""
    workload = load_workloads()[name]
    run = workload.setup()
    setup_mib = peak_rss_mib()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    best = min(times)
    return {
        "name": name,
        "best_s": best,
        "median_s": statistics.median(times),
        "throughput": workload.items / best if workload.items else None,
        "unit": workload.unit,
        "setup_mib": setup_mib,
        "peak_mib": peak_rss_mib(),
    }


def run_in_subprocess(name, repeat):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    command += ["--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(f"workload {name} failed:\n{done.stderr}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_throughput(result):
    if result["throughput"] is None:
        return "-"
    return f"{result['throughput'] / 1e6:.1f} M {result['unit']}/s"


def print_table(results):
    header = ["workload", "best s", "median s", "throughput", "setup MiB", "peak MiB"]
    rows = [
        [
            r["name"],
            f"{r['best_s']:.4f}",
            f"{r['median_s']:.4f}",
            format_throughput(r),
            f"{r['setup_mib']:.0f}",
            f"{r['peak_mib']:.0f}",
        ]
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    align = ["<"] + [">"] * (len(header) - 1)
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="workloads to run (default: all)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per workload")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(measure(args.worker, args.repeat)))
        return 0
    workloads = load_workloads()
    if args.list:
        for workload in workloads.values():
            print(f"{workload.name:32s} {workload.description}")
        return 0
    unknown = [name for name in args.names if name not in workloads]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; see --list")

    results, failed = [], []
    for name in args.names or list(workloads):
        result = run_in_subprocess(name, args.repeat)
        if result is None:
            failed.append(name)
        else:
            results.append(result)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
