"""Process helpers shared by everything MLP launches: tie a child's life to its parent."""

from __future__ import annotations

import contextlib
import os
import signal
import sys

import psutil


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies, even by SIGKILL.

    Call it in a child's ``preexec_fn`` (or at the top of a launched script). Linux
    only; elsewhere it does nothing. The signal fires when the *thread* that forked
    the child exits, so launch from a thread that lives as long as the parent.

    Parameters
    ----------
    sig
        Signal delivered on the parent's death.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(sig))


def kill_tree(pid: int, grace: float = 5.0) -> None:
    """Terminate ``pid``, its process group and every descendant; kill what stays.

    Kernels started by jupyter_client run in sessions of their own, so killing
    the process group alone would leave them behind: descendants are collected
    first and signalled one by one.
    """
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(os.getpgid(pid), signal.SIGTERM)
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    _gone, alive = psutil.wait_procs(procs, timeout=grace)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=grace)
