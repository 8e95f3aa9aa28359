"""hivewarden: registry policies compiled, decided, explained and replayed from Python.

The engine, policy compiler and log readers of the `hivewarden` command, through the code its
commands use: `Policy.decide` gives the fields `hivewarden eval` prints, `Policy.explain` the text
of `hivewarden check`, `replay` the lines and summary of `hivewarden replay`.
"""
from ._hivewarden import (  # noqa: F401
    InputError,
    Policy,
    PolicyError,
    ReplayResult,
    compile_policy,
    compile_policy_file,
    default_policy,
    load_policy,
    merge_parts,
    merge_replays,
    read_events,
    replay,
)

__all__ = [
    "InputError",
    "Policy",
    "PolicyError",
    "ReplayResult",
    "compile_policy",
    "compile_policy_file",
    "default_policy",
    "load_policy",
    "merge_parts",
    "merge_replays",
    "read_events",
    "replay",
]
