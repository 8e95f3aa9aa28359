"""Fleet replay on Dask: a fleet's event logs replayed through a policy on a cluster's workers.

    python3 -m hivewarden.fleet replay --policy P [--scheduler tcp://HOST:8786] [--workers N] LOGS...

or from Python:

    from hivewarden import fleet
    result = fleet.replay(paths, "policy.yaml", client=client)   # a dask.distributed Client

The result (lines, their order, the summary, the errors) equals `hivewarden replay` of the same
files in the same order. The compiled policy goes to each worker once (scattered, broadcast) and is
loaded once per worker (cached by the blob's SHA-256). A log is one task, except a large text log,
which is cut into one part per worker: every part reads (inflates, scans) the whole log but
decodes and decides only its own blocks of records (hivewarden.replay's `part`/`parts`); the parts
merge (merge_parts) into the log's result, and the logs' results, in the order given, into the
whole (merge_replays). A log whose parts report a problem (damage) is replayed again whole by one
worker, so its result is that of reading it in turn. The workers must see the logs at the paths
given (a shared file system, or the same paths on every machine).
"""
import argparse
import collections
import contextlib
import hashlib
import logging
import os
import sys

from . import _hivewarden as _hw

# A text log larger than this (bytes on disk) is cut into parts, one per worker; smaller ones are
# one task each (reading a log costs every part the inflating and scanning of the whole text).
SPLIT_BYTES = 1 << 20

_EVTX_MAGIC = b"ElfFile\0"

# The policies a worker has loaded, by the SHA-256 of their blob (a worker process keeps them for
# the tasks that follow; the blob travels to each worker once).
_LOADED = {}
_MAX_LOADED = 8  # a long-lived worker serving many policies keeps only the latest few
_LOADS = collections.Counter()  # how often each blob was loaded here (once, unless it changed)


def loads_here():
    """{blob SHA-256: times loaded} in this process (a worker's, through client.run)."""
    return dict(_LOADS)


def _loaded_policy(blob, digest, name):
    policy = _LOADED.get(digest)
    if policy is None:
        if hashlib.sha256(blob).hexdigest() != digest:
            raise _hw.PolicyError(f"{name}: the blob the worker received is not the one sent")
        if len(_LOADED) >= _MAX_LOADED:
            del _LOADED[next(iter(_LOADED))]  # the oldest
        policy = _LOADED[digest] = _hw.load_policy(blob, name=name)
        _LOADS[digest] += 1
    return policy


def _replay_task(path, part, parts, policy_blob, what_if_blob, all_lines):
    """On a worker: one log (or one part of it) through the cached policy; a pickled result."""
    policy = _loaded_policy(*policy_blob)
    what_if = _loaded_policy(*what_if_blob) if what_if_blob else None
    return _hw.replay([path], policy, all=all_lines, what_if=what_if, strict=False,
                      part=part, parts=parts)


def _policy_of(policy):
    if isinstance(policy, _hw.Policy):
        return policy
    if isinstance(policy, (bytes, bytearray, memoryview)):
        return _hw.load_policy(bytes(policy))
    if policy is None:
        return _hw.default_policy()
    if isinstance(policy, (str, os.PathLike)):
        return _hw.compile_policy_file(os.fspath(policy))
    raise TypeError(f"fleet.replay: policy must be a Policy, a path, a blob or None, "
                    f"not {type(policy).__name__}")


def _is_splittable(path, split_bytes):
    """A large regular file that is not EVTX (EVTX files are read whole: libevtx reads through
    one handle)."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) < split_bytes:
            return False
        with open(path, "rb") as f:
            return f.read(len(_EVTX_MAGIC)) != _EVTX_MAGIC
    except OSError:
        return False  # the worker's read gives the message replay gives


def _paths_of(paths):
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    out = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"fleet.replay: a log path must be a str or a path, "
                            f"not {type(p).__name__}")
        out.append(os.fspath(p))
    if not out:
        raise ValueError("fleet.replay: no logs given")
    return out


@contextlib.contextmanager
def local_client(workers=2):
    """A LocalCluster on loopback: `workers` processes of one thread each, closed on exit."""
    from dask.distributed import Client, LocalCluster

    # Each worker is a process of its own (~100 MB with Dask): more than two per core only adds
    # memory, and a typo such as 200 would exhaust a laptop's. A real cluster has no such bound.
    most = max(2, 2 * (os.cpu_count() or 1))
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= most:
        raise ValueError(f"fleet: workers must be a whole number from 1 to {most} on this "
                         f"machine's {os.cpu_count()} cores (--scheduler for more), not {workers!r}")
    import dask

    # Dask's worker profiler samples Python stacks every 10 ms; a replay task is one C++ call,
    # so it learns nothing and took 2-4% of a worker (docs/SCALE.md). The workers get this config.
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address="127.0.0.1:0")
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _worker_addresses(client):
    return sorted(client.scheduler_info().get("workers", {}))


def _run(client, logs, policy, what_if, all_lines, split_bytes):
    def shipped(p):
        if p is None:
            return None
        blob = p.blob
        return client.scatter((blob, hashlib.sha256(blob).hexdigest(), p.name), broadcast=True,
                              hash=False)

    policy_future, what_if_future = shipped(policy), shipped(what_if)
    workers = _worker_addresses(client)

    def submit(path, part, parts, worker=None):
        # A log's parts go one to each worker (the scheduler would often start them all on the
        # first one, as they are short); elsewhere only if that worker is gone.
        placed = {"workers": worker, "allow_other_workers": True} if worker else {}
        return client.submit(_replay_task, path, part, parts, policy_future, what_if_future,
                             all_lines, pure=False, **placed)

    tasks = []
    for path in logs:
        parts = len(workers) if len(workers) > 1 and _is_splittable(path, split_bytes) else 1
        tasks.append([submit(path, k, parts, [workers[k]] if parts > 1 else None)
                      for k in range(parts)])
    results = []
    for path, futures in zip(logs, tasks):
        parts = client.gather(futures)
        if len(parts) == 1:
            results.append(parts[0])
        elif any(p.errors for p in parts):  # damaged: its parts would read past the damage
            results.append(submit(path, 0, 1).result())
        else:
            results.append(_hw.merge_parts(parts))
    return _hw.merge_replays(results)


def replay(paths, policy=None, client=None, *, workers=2, all=False, what_if=None, strict=True,
           split_bytes=SPLIT_BYTES):
    """Replays `paths` through `policy` (a Policy, a .yaml/.hwp path, a blob, or None for the
    built-in policy) on a Dask cluster: `client` (a dask.distributed Client), or else a
    LocalCluster of `workers` single-thread processes on loopback, closed before returning.
    Returns the ReplayResult `hivewarden.replay(paths, policy)` returns. strict: a log that could
    not be read whole raises InputError (its `.result` holds the rest), as hivewarden.replay."""
    logs = _paths_of(paths)
    policy = _policy_of(policy)
    what_if = _policy_of(what_if) if what_if is not None else None
    if not isinstance(split_bytes, int) or split_bytes < 1:
        raise ValueError(f"fleet.replay: split_bytes must be a positive number, not {split_bytes!r}")
    if client is None:
        with local_client(workers) as own:
            result = _run(own, logs, policy, what_if, all, split_bytes)
    else:
        result = _run(client, logs, policy, what_if, all, split_bytes)
    if strict and result.errors:
        error = _hw.InputError("\n".join(result.errors))
        error.result = result
        raise error
    return result


def _main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m hivewarden.fleet",
        description="Replay Sysmon registry event logs through a policy on a Dask cluster; the "
                    "output equals `hivewarden replay` of the same logs")
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("replay", help="replay event logs (.evtx, XML, JSON lines, .gz)")
    r.add_argument("logs", nargs="+", help="event logs, at paths the workers can read")
    r.add_argument("--policy", default="", help="policy file (.yaml or .hwp); default: built-in")
    r.add_argument("--what-if", default="", help="a second policy: print only where they differ")
    r.add_argument("--scheduler", default="",
                   help="a Dask scheduler's address (tcp://HOST:8786); default: a local cluster")
    r.add_argument("--workers", type=int, default=2,
                   help="the local cluster's worker processes (one thread each); default 2")
    r.add_argument("--summary", default="", help="write the summary as JSON here")
    r.add_argument("--all", action="store_true", help="a line for every event")
    args = parser.parse_args(argv)
    # stderr carries replay's own lines (errors, totals) as `hivewarden replay` prints them; Dask's
    # warnings (a slow event loop on a loaded machine) would mix into them. Its errors still show.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        policy = _policy_of(args.policy or None)
        what_if = _policy_of(args.what_if) if args.what_if else None
        if args.scheduler:
            from dask.distributed import Client

            with Client(args.scheduler) as client:
                result = replay(args.logs, policy, client, all=args.all, what_if=what_if,
                                strict=False)
        else:
            result = replay(args.logs, policy, workers=args.workers, all=args.all,
                            what_if=what_if, strict=False)
    except ImportError as e:
        print(f"error: hivewarden.fleet needs Dask's distributed scheduler (Debian: "
              f"python3-distributed): {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as e:  # PolicyError and InputError are ValueErrors
        for line in str(e).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    failures = len(result.errors)
    try:
        sys.stdout.write(result.output())
        sys.stdout.flush()
    except OSError as e:  # a full disk, a closed pipe: said once, counted as a failure
        print(f"error: cannot write the decisions: {e.strerror or e}", file=sys.stderr)
        failures += 1
    for problem in result.errors:
        print(f"error: {problem}", file=sys.stderr)
    if args.summary:
        try:
            with open(args.summary, "w", encoding="utf-8") as f:
                f.write(result.summary_text())
        except OSError as e:
            print(f"error: {args.summary}: {e.strerror}", file=sys.stderr)
            failures += 1
    print(result.totals(args.what_if), file=sys.stderr)
    return 0 if failures == 0 else 2


if __name__ == "__main__":
    sys.exit(_main())
