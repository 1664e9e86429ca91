#!/usr/bin/env python3
"""Times commands in turns (one run of each per round), wall and CPU time.

The CPU time is the child's own rusage (user + system of the command and
everything it waited for), read by wait4: on a loaded shared machine it moves
far less than the wall time. Each command runs in a clean environment (the
PATH below, plus NAME=VALUE words given before it). Prints min and median of
each; nothing is asserted.

  python3 bench/turns.py -n 20 -- 'node -e 0' 'SKIFF_ROOT=/s skiff run --rm --network none IMG true'
"""
import argparse
import os
import shlex
import statistics
import time

PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


def run_once(argv, env):
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open('/dev/null', os.O_RDWR)
            os.dup2(devnull, 0)
            os.dup2(devnull, 1)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f'{shlex.join(argv)} exited {code}')
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def parse(command):
    words = shlex.split(command)
    env = {'PATH': PATH, 'HOME': os.environ.get('HOME', '/')}
    while words and '=' in words[0] and not words[0].startswith('/'):
        key, _, value = words.pop(0).partition('=')
        env[key] = value
    return words, env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=20)
    ap.add_argument('-w', type=int, default=3, help='warm-up rounds')
    ap.add_argument('commands', nargs='+')
    args = ap.parse_args()
    parsed = [parse(c) for c in args.commands]
    walls = [[] for _ in parsed]
    cpus = [[] for _ in parsed]
    for i in range(args.w + args.n):
        for k, (argv, env) in enumerate(parsed):
            wall, cpu = run_once(argv, env)
            if i >= args.w:
                walls[k].append(wall)
                cpus[k].append(cpu)
    print(f'{args.n} rounds in turns; load average {" ".join(f"{x:.2f}" for x in os.getloadavg())}')
    print(f'{"command":70} {"wall min":>9} {"median":>8} {"cpu min":>8} {"median":>8}')
    for k, command in enumerate(args.commands):
        print(f'{command[-70:]:70} {min(walls[k]):9.1f} {statistics.median(walls[k]):8.1f} {min(cpus[k]):8.1f} {statistics.median(cpus[k]):8.1f}')


main()
