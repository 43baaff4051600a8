"""Python subprocess peer for figure 1: subprocess.run of /bin/true with both
pipes captured, in sequence; prints a RESULT line like the C programs (the
median chunk, microseconds a run)."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=100)
    args = ap.parse_args()
    for _ in range(20):
        subprocess.run(["/bin/true"], capture_output=True, check=True)
    per = []
    done = 0
    while done < args.n:
        k = min(args.chunk, args.n - done)
        t0 = time.perf_counter()
        for _ in range(k):
            subprocess.run(["/bin/true"], capture_output=True, check=True)
        per.append((time.perf_counter() - t0) / k)
        done += k
    print("RESULT " + json.dumps({"name": "spawn_python", "value": statistics.median(per) * 1e6,
                                  "unit": "us/run", "n": args.n}))


if __name__ == "__main__":
    main()
