"""Keeps one command running: restarts it when it dies, with backoff, and
stops it when told to. Every Procfile line runs under it, so under honcho
(``make run``) a crashed daphne, worker or beat comes back on its own instead
of honcho stopping all of them.

    python -m config.respawn -- <command> [args...]

SIGTERM/SIGINT/SIGHUP stop the command (SIGTERM, then SIGKILL after
STOP_GRACE_SECONDS) and exit 0. The command stays in this process's group, so
honcho's own killpg still reaches it. A command that keeps failing is retried
1, 2, 4 ... up to MAX_BACKOFF_SECONDS apart; one that ran STABLE_SECONDS counts
as healthy again and is restarted after the first step."""

import os
import select
import signal
import subprocess
import sys
import time

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0
STOP_GRACE_SECONDS = 8.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _log(message: str) -> None:
    print(f"respawn: {message}", file=sys.stderr, flush=True)


class Respawner:
    def __init__(self, command: list[str]):
        self.command = command
        self.child: subprocess.Popen | None = None
        self.stopping = False
        # Self-pipe: a signal wakes the backoff wait at once (signal.set_wakeup_fd).
        self._wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_stop_signal)

    def _on_stop_signal(self, signum, _frame) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def _wait_or_stop(self, seconds: float) -> None:
        """Sleep the backoff, returning early if a stop signal arrives."""
        deadline = time.monotonic() + seconds
        while not self.stopping and (left := deadline - time.monotonic()) > 0:
            if select.select([self._wake_read], [], [], left)[0]:
                os.read(self._wake_read, 512)

    def _stop_child(self) -> None:
        if self.child is None or self.child.poll() is not None:
            return
        self.child.send_signal(signal.SIGTERM)
        try:
            self.child.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            _log(f"{self.command[0]} ignored SIGTERM for {STOP_GRACE_SECONDS:.0f} s; killing it")
            self.child.kill()
            self.child.wait()

    def run(self) -> int:
        backoff = FIRST_BACKOFF_SECONDS
        while not self.stopping:
            started = time.monotonic()
            try:
                self.child = subprocess.Popen(self.command)
            except OSError as exc:
                _log(f"cannot start {self.command[0]}: {exc}")
                return 127
            code = self.child.wait()
            if self.stopping:
                break
            if time.monotonic() - started >= STABLE_SECONDS:
                backoff = FIRST_BACKOFF_SECONDS
            _log(f"{' '.join(self.command)} exited with {code}; restarting in {backoff:.0f} s")
            self._wait_or_stop(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self._stop_child()
        return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        _log("usage: python -m config.respawn -- <command> [args...]")
        return 2
    return Respawner(argv).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
