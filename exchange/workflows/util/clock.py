"""Epoch milliseconds: the only time unit stored or returned."""
import time


def now_ms():
    return int(time.time() * 1000)


def seconds_text(value):
    """Seconds as a message shows them: 10, 2.5 (a float in its shortest form), "-" for none."""
    if value is None:
        return "-"
    return ("%g" % value) if isinstance(value, float) else str(value)
