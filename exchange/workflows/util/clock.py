"""Epoch milliseconds: the only time unit stored or returned."""
import time


def now_ms():
    return int(time.time() * 1000)
