"""Run jupyterhub-idle-culler so that it stops at once when the hub stops it.

The culler itself only leaves its loop on KeyboardInterrupt raised in the loop's own
frame; SIGINT or SIGTERM delivered while a cull is in flight was ignored, and the hub
then waited ~30 s (SIGINT, SIGTERM, SIGKILL timeouts) on every shutdown. It holds no
state, so exiting immediately on either signal is safe.
"""

from __future__ import annotations

import os
import signal


def main() -> None:
    """Install exit-now handlers, then hand over to the culler."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: os._exit(0))
    from jupyterhub_idle_culler import main as culler_main

    culler_main()


if __name__ == "__main__":
    main()
