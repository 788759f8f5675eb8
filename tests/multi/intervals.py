"""Checks over execution intervals: how many were active at once, overlaps within a partition, starts per window.

An interval is (start, end) in any one unit; touching intervals (one ends exactly when the next starts) do not
overlap, because the timestamps come from clocks of millisecond resolution.
"""


def max_overlap(intervals):
    """The largest number of intervals active at one instant, and one instant where it happened."""
    points = []
    for start, end in intervals:
        points.append((start, 1))
        points.append((end, -1))
    points.sort(key=lambda p: (p[0], p[1]))  # at equal times an end (-1) comes before a start (+1)
    active = best = 0
    when = None
    for at, delta in points:
        active += delta
        if active > best:
            best, when = active, at
    return best, when


def overlapping_pairs(intervals_by_key):
    """{key: [(start, end, label), ...]} -> [(key, label_a, label_b)] for every two intervals of one key that overlap."""
    found = []
    for key, items in sorted(intervals_by_key.items()):
        items = sorted(items)
        for i, (start_a, end_a, label_a) in enumerate(items):
            for start_b, end_b, label_b in items[i + 1:]:
                if start_b < end_a and start_a < end_b:
                    found.append((key, label_a, label_b))
    return found


def busiest_window(times, period):
    """The most timestamps inside any half-open window [t, t + period), and where that window starts."""
    times = sorted(times)
    best, where, first = 0, None, 0
    for last in range(len(times)):
        while times[last] - times[first] >= period:
            first += 1
        if last - first + 1 > best:
            best, where = last - first + 1, times[first]
    return best, where
