"""capture - records what each notebook cell prints, and still prints it.

sys.stdout and sys.stderr are replaced by Tee objects: every write goes to
the real stream (the task's log, which jobsd's supervisor captures) and, while
a cell runs, into that cell's record for cells.json. Output written straight
to file descriptors 1/2 (a child process, a C extension) reaches the log but
not cells.json, as on Databricks, where such output goes to the driver log.

A cell keeps at most CELL_MAX characters and all cells together TOTAL_MAX
(Databricks caps a cell's output at 8 MB); the log keeps everything.
"""
import sys

CELL_MAX = 8 << 20
TOTAL_MAX = 32 << 20

TRUNCATED_NOTE = ("\n*** jobsd: output truncated in the notebook record; the task's "
                  "stdout/stderr log has all of it ***\n")


class CellCapture:
    """The text captured for the cell now running (none between cells)."""

    def __init__(self, cell_max=CELL_MAX, total_max=TOTAL_MAX):
        self.cell_max = cell_max
        self.total_left = total_max
        self._parts = None
        self._size = 0
        self._truncated = False

    def start(self):
        self._parts, self._size, self._truncated = [], 0, False

    def add(self, s):
        parts = self._parts
        if parts is None or not s:
            return
        room = min(self.cell_max - self._size, self.total_left)
        if len(s) > room:
            s = s[:max(room, 0)]
            self._truncated = True
        if s:
            parts.append(s)
            self._size += len(s)
            self.total_left -= len(s)

    def stop(self):
        """Ends the cell: returns (text, truncated)."""
        parts, self._parts = self._parts or [], None
        text = "".join(parts)
        if self._truncated:
            text += TRUNCATED_NOTE
        return text, self._truncated


class Tee:
    """A text stream writing to `real` and to a CellCapture."""

    def __init__(self, real, capture):
        self._real = real
        self._capture = capture

    def write(self, s):
        # Record first: whatever reached the log is then in the record too,
        # even if SIGTERM's exception arrives right after the real write.
        if isinstance(s, str):
            self._capture.add(s)
        self._real.write(s)
        return len(s)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        self._real.flush()

    def isatty(self):
        return False

    def __getattr__(self, name):  # encoding, errors, buffer, fileno, closed...
        return getattr(self._real, name)


def prepare_std_streams():
    """Line-buffered UTF-8 stdout/stderr, so the log interleaves the two
    streams in the order written and never fails on unencodable text."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="utf-8", errors="backslashreplace",
                               line_buffering=True)
        except (AttributeError, ValueError, OSError):
            pass  # not a TextIOWrapper (or closed): leave it as it is


def install_tee(capture):
    """Replaces sys.stdout/sys.stderr with tees; returns the real streams."""
    real = (sys.stdout, sys.stderr)
    sys.stdout = Tee(real[0], capture)
    sys.stderr = Tee(real[1], capture)
    return real
