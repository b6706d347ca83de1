#!/usr/bin/env python3
"""Start-to-exit wall time of `kubeseal --cert` sealing one 5-key Secret.

Usage: scripts/bench-kubeseal.py [--runs N] [--kubeseal target/release/kubeseal]

Makes a throwaway RSA-4096 certificate with openssl, then runs kubeseal N times
(stdin: a Secret with 5 values, stdout discarded) and prints the median and quartiles,
beside the same figures for `/bin/true` (the cost of starting any process from here),
so the difference is kubeseal's own time. Prints figures; asserts nothing.
"""

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed_runs(cmd, stdin_bytes, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            cmd, input=stdin_bytes, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"{cmd[0]} failed: {proc.stderr.decode(errors='replace')}")
    return times


def summary(times):
    q = statistics.quantiles(times, n=4)
    return f"median {statistics.median(times) * 1e3:6.2f} ms  (p25 {q[0] * 1e3:.2f}, p75 {q[2] * 1e3:.2f}, min {min(times) * 1e3:.2f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--kubeseal", default="target/release/kubeseal")
    args = ap.parse_args()
    if not os.access(args.kubeseal, os.X_OK):
        sys.exit(f"{args.kubeseal} is not an executable: cargo build --release -p kubeseal-cli")

    with tempfile.TemporaryDirectory(prefix="bench-kubeseal-") as tmp:
        key = os.path.join(tmp, "key.pem")
        cert = os.path.join(tmp, "cert.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-keyout", key,
             "-out", cert, "-days", "1", "-subj", "/O=bench"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        data = "\n".join(
            f"  key{i}: {base64.b64encode(f'benchmark-value-{i}-0123456789abcdef'.encode()).decode()}"
            for i in range(5)
        )
        secret = (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bench\n  namespace: default\n"
            f"type: Opaque\ndata:\n{data}\n"
        ).encode()
        cmd = [args.kubeseal, "--cert", cert, "--format", "yaml"]
        timed_runs(cmd, secret, 5)  # warm the page cache
        baseline = timed_runs(["/bin/true"], secret, args.runs)
        ours = timed_runs(cmd, secret, args.runs)
    print(f"{args.runs} runs each, one 5-value Secret, RSA-4096 certificate")
    print(f"/bin/true          {summary(baseline)}")
    print(f"kubeseal --cert    {summary(ours)}")
    print(
        "kubeseal minus process start: "
        f"{(statistics.median(ours) - statistics.median(baseline)) * 1e3:.2f} ms (medians)"
    )


if __name__ == "__main__":
    main()
