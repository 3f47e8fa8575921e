"""Stops an embedded server when the process that started it is gone.

`python -m cli.watchdog OWNER_PID SERVER_PID SIGNAL` is started by the owner, in a process group of
its own, beside each embedded server: if the owner dies without stopping the server
(SIGKILL, a test run cut short by a timeout), the watchdog is re-parented and stops the
server rather than leave it holding its port and data folder. It exits by itself when the
server stops first.
"""

import os
import sys
import time

POLL_SECONDS = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def watch(owner_pid: int, server_pid: int, stop_signal: int) -> None:
    # The owner's pid comes as an argument: it may be gone before this process is up.
    while alive(server_pid):
        if os.getppid() != owner_pid:
            os.kill(server_pid, stop_signal)
            return
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    owner, server, signal_number = (int(argument) for argument in sys.argv[1:4])
    watch(owner, server, signal_number)
