"""Run a module (-m NAME) or code (-c CODE) and write the process's own peak RSS (kB) to $PEAK_RSS_FILE.

VmHWM is read from /proc at exit because the kernel's ru_maxrss for a child also counts the
parent's memory at the moment the child was started (the pre-exec address space).
"""

import atexit
import os
import runpy
import sys


def report() -> None:
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["PEAK_RSS_FILE"], "w") as out:
        out.write(peak)


atexit.register(report)
mode, target, *rest = sys.argv[1:]
if mode == "-m":
    sys.argv = [target, *rest]
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    sys.argv = ["-c", *rest]
    exec(compile(target, "<code>", "exec"), {"__name__": "__main__"})
