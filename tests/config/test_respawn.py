"""config/respawn.py, which every Procfile line runs under: under honcho (what
`make run` starts) a process killed with SIGKILL comes back while the others
keep running, and SIGTERM still stops everything."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.servers import _wait_until

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SLEEPER = "import time; time.sleep(600)"
STOP_SECONDS = 10


def descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        path = Path(f"/proc/{stack.pop()}/task")
        for task in path.iterdir() if path.exists() else ():
            try:
                children = [int(child) for child in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            found += children
            stack += children
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left


def sleepers(root: int) -> dict[str, int]:
    """The supervised commands under ``root``, by the name each got as its argument."""
    found = {}
    for pid in descendants(root):
        args = cmdline(pid)
        if SLEEPER in args and "config.respawn" not in args and alive(pid):
            found[args[-2]] = pid
    return found


def respawned_sleeper(name: str) -> list[str]:
    return [PYTHON, "-m", "config.respawn", "--", PYTHON, "-c", SLEEPER, name]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_honcho_gets_a_killed_process_back_and_stops_all_on_sigterm(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "".join(f"{name}: {subprocess.list2cmdline(respawned_sleeper(name))}\n" for name in ("alpha", "beta"))
    )
    honcho = subprocess.Popen(
        [str(Path(PYTHON).with_name("honcho")), "start", "-f", str(procfile), "-d", str(ROOT)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_until(lambda: set(sleepers(honcho.pid)) == {"alpha", "beta"}, "both supervised commands")
        before = sleepers(honcho.pid)

        os.kill(before["alpha"], signal.SIGKILL)

        _wait_until(lambda: sleepers(honcho.pid).get("alpha") not in (None, before["alpha"]), "alpha restarted")
        after = sleepers(honcho.pid)
        assert after["beta"] == before["beta"]  # the others were left running
        assert honcho.poll() is None

        everything = descendants(honcho.pid)
        honcho.send_signal(signal.SIGTERM)
        honcho.wait(timeout=STOP_SECONDS)
        _wait_until(lambda: not any(alive(pid) for pid in everything), "every supervised process gone", STOP_SECONDS)
    finally:
        stop(honcho)


def test_sigterm_to_the_supervisor_alone_stops_its_command_and_exits_0():
    respawn = subprocess.Popen(respawned_sleeper("alone"), cwd=ROOT, start_new_session=True)
    try:
        _wait_until(lambda: "alone" in sleepers(respawn.pid), "the supervised command")
        (child,) = sleepers(respawn.pid).values()

        respawn.send_signal(signal.SIGTERM)

        assert respawn.wait(timeout=STOP_SECONDS) == 0
        assert not alive(child)
    finally:
        stop(respawn)
