"""The team benchmark's CPU account (tests/bench/cpu_account.py) puts a process's CPU under the label of its
nearest named ancestor, and counts only what was spent since its snapshot."""

import os
import signal
import subprocess
import sys
import time

from tests.bench.cpu_account import CpuAccount

SPIN = ("import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\n"
        "print('spun', flush=True)\ntime.sleep(60)")
PARENT = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {SPIN!r}])"


def _spent(account: CpuAccount, label: str) -> float:
    return next((cpu for name, cpu, _ in account.rows() if name == label), 0.0)


def test_a_named_process_s_child_counts_under_its_name_and_only_since_the_snapshot():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, start_new_session=True)
    try:
        while_spinning = CpuAccount({"spinner": parent.pid})
        assert parent.stdout is not None and parent.stdout.readline() == b"spun\n"  # the child spent 0.6 s
        assert _spent(while_spinning, "spinner") >= 0.6
        after = CpuAccount({"spinner": parent.pid})
        time.sleep(0.5)
        assert _spent(after, "spinner") < 0.1
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the parent and the child it started, in their own group
        parent.wait(5)
        if parent.stdout is not None:
            parent.stdout.close()
