#!/usr/bin/env python3
"""Measures fleet replay (hivewarden.fleet) on 1 and 2 local workers against `hivewarden replay`,
alternating the three, several runs each: wall time and the CPU time of the workers (docs/SCALE.md).

  PYTHONPATH=build/python /usr/bin/python3 scripts/fleet-scale.py [--runs 3] [LOG]
LOG defaults to ../shared/data/otrf/registry_events.jsonl.gz. By default each cluster is started
once and kept for its runs; with --one-cluster-at-a-time a cluster is started before its timed run
(after one untimed replay) and closed after it, so an idle cluster's processes never share the
cores. Start-up is never counted; every run checks its output against the command's.
"""
import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time

import hivewarden
from hivewarden import fleet

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..")


def worker_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cluster_cpu(client):
    return sum(client.run(worker_cpu).values())


def timed_fleet(client, log, policy):
    cpu, start = cluster_cpu(client), time.perf_counter()
    result = fleet.replay([log], policy, client)
    wall = time.perf_counter() - start
    return wall, cluster_cpu(client) - cpu, result


def timed_cli(cli, log):
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([cli, "replay", "--no-progress", log], capture_output=True, text=True,
                          check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - start, cpu, done.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", default=os.path.join(
        SOURCE, "..", "shared", "data", "otrf", "registry_events.jsonl.gz"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cli", default=os.path.join(SOURCE, "build", "src", "cli", "hivewarden"))
    parser.add_argument("--one-cluster-at-a-time", action="store_true")
    args = parser.parse_args()
    policy = hivewarden.default_policy()
    rows = {"cli": [], 1: [], 2: []}
    with contextlib.ExitStack() as kept:
        clusters = {} if args.one_cluster_at_a_time else {
            n: kept.enter_context(fleet.local_client(n)) for n in (1, 2)}
        for run in range(args.runs):
            wall, cpu, text = timed_cli(args.cli, args.log)
            rows["cli"].append((wall, cpu))
            for workers in (1, 2):
                with contextlib.ExitStack() as own:
                    client = clusters.get(workers) or own.enter_context(fleet.local_client(workers))
                    if workers not in clusters:
                        fleet.replay([args.log], policy, client)  # the policy cached, imports done
                    wall, cpu, result = timed_fleet(client, args.log, policy)
                if result.output() != text:
                    sys.exit(f"run {run}: {workers} worker(s) printed other lines than the CLI")
                rows[workers].append((wall, cpu))
            print(f"run {run + 1}: " + ", ".join(
                f"{k}: {rows[k][-1][0]:.2f} s wall, {rows[k][-1][1]:.2f} s CPU" for k in rows),
                flush=True)
        records = result.summary["records"]
    for k, values in rows.items():
        walls = [w for w, _ in values]
        cpus = [c for _, c in values]
        print(f"{k}: median wall {statistics.median(walls):.2f} s (runs {walls}), median CPU "
              f"{statistics.median(cpus):.2f} s; {records / statistics.median(walls):,.0f} "
              f"records/s wall")
    one_wall = statistics.median(w for w, _ in rows[1])
    two_wall = statistics.median(w for w, _ in rows[2])
    print(f"speed-up of 2 workers over 1: {one_wall / two_wall:.2f}x (median wall); "
          f"per run: {[round(a[0] / b[0], 2) for a, b in zip(rows[1], rows[2])]}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
