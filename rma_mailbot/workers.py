"""What every worker process of the bot does first (parse workers, the report reader)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading


def worker_start() -> None:
    # Ctrl-C and systemd's SIGTERM reach the whole process group: the parent decides when workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # A worker holds both ends of its task pipe, so a killed parent never gives it EOF: watch the parent.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent) -> None:
    parent.join()
    os._exit(0)
