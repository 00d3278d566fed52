"""The progress line a long run draws on a terminal (and nowhere else)."""
import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from proofcheck import progress
from proofcheck.progress import ERASE, Progress, wanted

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_nothing_is_drawn_in_the_first_seconds():
    clock, screen = Clock(), Terminal()
    p = Progress(screen, clock)
    p.reading("proofs/a.pf")
    clock.now += progress.DELAY - 0.1
    p.deciding("deciding steps", 5, 10)
    p.clear()
    assert screen.getvalue() == ""


def test_a_long_run_shows_what_it_does_then_erases_the_line():
    clock, screen = Clock(), Terminal()
    p = Progress(screen, clock)
    clock.now += progress.DELAY + 1
    p.reading("proofs/big.pf", 52000, 147060)
    assert screen.getvalue() == ERASE + "proofcheck: reading big.pf, line 52,000 of 147,060 (3 s)"
    clock.now += progress.EVERY / 2
    p.deciding("deciding steps", 1, 450)      # too soon after the last redraw
    assert "deciding" not in screen.getvalue()
    clock.now += progress.EVERY
    p.deciding("deciding steps", 120, 450)
    assert screen.getvalue().endswith(ERASE + "proofcheck: deciding steps, 120 of 450 (3 s)")
    p.clear()
    assert screen.getvalue().endswith(ERASE)
    p.clear()                                 # nothing left to erase
    assert not screen.getvalue().endswith(ERASE + ERASE)


def test_the_line_never_wraps():
    clock, screen = Clock(), Terminal()
    p = Progress(screen, clock)
    clock.now += progress.DELAY
    p.reading("proofs/" + "x" * 300 + ".pf")
    assert len(screen.getvalue()) - len(ERASE) < 80


def test_drawn_only_on_a_terminal(monkeypatch):
    assert not wanted(io.StringIO())
    assert wanted(Terminal())
    monkeypatch.setenv("TERM", "dumb")
    assert not wanted(Terminal())


RUN_WITH_NO_DELAY = ("import sys; import proofcheck.progress as p; p.DELAY = p.EVERY = 0; "
                     "from proofcheck.cli import main; sys.exit(main(sys.argv[1:]))")


def _run_on_a_terminal(*args):
    """The command with its standard error on a pseudo-terminal (its report on a
    pipe), the progress line drawn at every event; returns (report, what the terminal got)."""
    leader, follower = pty.openpty()
    p = subprocess.Popen([sys.executable, "-c", RUN_WITH_NO_DELAY, *args], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    screen = b""
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the command ended: the terminal is closed
            break
        if not data:
            break
        screen += data
    os.close(leader)
    report = p.stdout.read()
    assert p.wait(timeout=120) == 1
    return report, screen.decode()


def test_the_command_draws_progress_on_a_terminal_and_erases_it():
    report, screen = _run_on_a_terminal("--no-cache", "--no-color", "proofs/mistakes.pf")
    assert "proofcheck: deciding steps, " in screen
    assert "proofcheck: reading mistakes.pf" in screen
    assert "proofcheck: looking for facts to cite, " in screen  # the second pass, for steps not proved
    assert screen.endswith(ERASE)              # the line is gone before the report
    assert "fails at a = 1, b = 1" in report and "\r" not in report


def test_no_progress_turns_it_off_and_the_report_is_the_same():
    shown, _ = _run_on_a_terminal("--no-cache", "--no-color", "proofs/mistakes.pf")
    report, screen = _run_on_a_terminal("--no-cache", "--no-color", "--no-progress", "proofs/mistakes.pf")
    assert screen == ""
    strip = lambda text: [line for line in text.splitlines() if "(0." not in line and " s)" not in line]  # noqa: E731
    assert strip(report) == strip(shown)


def test_nothing_is_drawn_when_standard_error_is_not_a_terminal():
    p = subprocess.run([sys.executable, "-c", RUN_WITH_NO_DELAY, "--no-cache", "proofs/mistakes.pf"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert p.stderr == ""


def test_wide_characters_and_control_characters_in_a_file_name_cannot_wrap_or_escape():
    clock, screen = Clock(), Terminal()
    p = Progress(screen, clock)
    p.width = 40
    clock.now += progress.DELAY
    p.reading("proofs/" + "証明" * 30 + ".pf")
    line = screen.getvalue()[len(ERASE):]
    assert progress.fit(line, 40) == line and sum(2 if "\u3000" < c else 1 for c in line) <= 40
    clock.now += 1
    p.reading("evil\x1b]0;PWNED\x07\x1b[31mx.pf")
    drawn = screen.getvalue().rsplit(ERASE, 1)[1]
    assert "\x1b" not in drawn and "\x07" not in drawn and "\\x1b]0;PWNED" in drawn


def test_ctrl_c_stops_the_run_cleanly(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it: no traceback from
    the main process or a worker, the progress line erased, exit status 130."""
    import signal
    import time
    f = tmp_path / "many.pf"
    f.write_text("let x : real\n" + "".join(f"claim : (x + {i})^2 = x^2 + {2 * i}*x + {i * i}\n"
                                            for i in range(1, 3001)))
    leader, follower = pty.openpty()
    p = subprocess.Popen([sys.executable, "-c", RUN_WITH_NO_DELAY, "--no-cache", str(f)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=follower, start_new_session=True)
    os.close(follower)
    screen = b""
    started = time.monotonic()
    while b"deciding steps" not in screen and time.monotonic() - started < 60:
        screen += os.read(leader, 4096)
    os.killpg(p.pid, signal.SIGINT)
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:
            break
        if not data:
            break
        screen += data
    os.close(leader)
    assert p.wait(timeout=60) == 130
    text = screen.decode()
    assert text.endswith(ERASE + "proofcheck: interrupted\r\n"), text[-300:]
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
