"""Runs commands many times, interleaved, and reports per run the wall time
and the CPU time (user + system, from wait4's rusage, microsecond resolution)
of each child. Input on stdin: {"runs", "warmup", "env", "commands": [argv]}.
Output on stdout: one list of runs per command."""

import json
import os
import sys
import time

spec = json.load(sys.stdin)
devnull = os.open(os.devnull, os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]
commands = spec["commands"]


def once(argv):
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, spec["env"], file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return {
        "wall_ms": wall * 1e3,
        "user_ms": ru.ru_utime * 1e3,
        "sys_ms": ru.ru_stime * 1e3,
        "maxrss_kb": ru.ru_maxrss,
        "code": os.waitstatus_to_exitcode(status),
    }


for _ in range(spec["warmup"]):
    for argv in commands:
        once(argv)
results = [[] for _ in commands]
for i in range(spec["runs"]):
    # Rotate the order so no command always runs right after the same one.
    for k in range(len(commands)):
        j = (i + k) % len(commands)
        results[j].append(once(commands[j]))
json.dump(results, sys.stdout)
