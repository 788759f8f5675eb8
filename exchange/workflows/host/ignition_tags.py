"""Ignition's tags behind the tag provider contract: system.tag.readBlocking, writeBlocking and browse.

A reading becomes JSON-native here (a java.util.Date as epoch milliseconds, a dataset as columns and rows, Java
arrays as lists), so that it can be recorded as a step's output and judged like any other host's reading.
Quality codes are named as Ignition names them (QualityCode.getName(): "Good", "Bad_NotFound", ...).
"""
import math

from exchange.workflows.host.tags import TagProvider, reading, write_result
from exchange.workflows.util.compat import integer_types, string_types, to_text

READ_TIMEOUT_MS = 45000  # readBlocking's own default, stated so a caller knows the bound
WRITE_TIMEOUT_MS = 45000
BATCH = 1000  # paths per readBlocking / writeBlocking call


def quality_name(quality):
    if quality is None:
        return "Bad_NotFound"
    try:
        return to_text(quality.getName())
    except:  # noqa: E722 - an older QualityCode, or a plain value
        return to_text("%s" % (quality,))


def quality_good(quality):
    try:
        return bool(quality.isGood())
    except:  # noqa: E722
        return quality_name(quality) == "Good"


def millis(stamp):
    if stamp is None:
        return None
    try:
        return int(stamp.getTime())
    except:  # noqa: E722
        return None


def native(value, depth=0):
    """A tag value as JSON-native data."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, string_types):
        return to_text(value)
    if isinstance(value, integer_types):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if depth > 8:
        return to_text("%s" % (value,))
    if hasattr(value, "getTime") and not hasattr(value, "keys"):  # java.util.Date and its kin
        return millis(value)
    if hasattr(value, "getColumnNames") and hasattr(value, "getRowCount"):  # a dataset
        columns = [to_text(c) for c in value.getColumnNames()]
        return {"columns": columns, "rows": [[native(value.getValueAt(r, c), depth + 1) for c in range(len(columns))]
                                            for r in range(value.getRowCount())]}
    if hasattr(value, "keys") and hasattr(value, "get"):
        return dict([(to_text("%s" % (k,)), native(value.get(k), depth + 1)) for k in value.keys()])
    if hasattr(value, "__iter__") and hasattr(value, "__len__"):  # lists, Java arrays and lists
        try:
            return [native(item, depth + 1) for item in value]
        except TypeError:
            pass
    return to_text("%s" % (value,))


class IgnitionTags(TagProvider):
    def __init__(self, system):
        self._system = system

    def read(self, paths):
        paths = [to_text(p) for p in paths]
        out = []
        for start in range(0, len(paths), BATCH):
            chunk = paths[start:start + BATCH]
            values = self._system.tag.readBlocking(chunk, READ_TIMEOUT_MS)
            for path, qualified in zip(chunk, values):
                quality = getattr(qualified, "quality", None)
                out.append(reading(path, native(getattr(qualified, "value", None)), quality_name(quality),
                                   quality_good(quality), millis(getattr(qualified, "timestamp", None))))
        return out

    def write(self, paths, values):
        paths = [to_text(p) for p in paths]
        values = list(values)
        out = []
        for start in range(0, len(paths), BATCH):
            chunk = paths[start:start + BATCH]
            qualities = self._system.tag.writeBlocking(chunk, values[start:start + BATCH], WRITE_TIMEOUT_MS)
            for path, quality in zip(chunk, qualities):
                out.append(write_result(path, quality_name(quality), quality_good(quality)))
        return out

    def browse(self, path):
        results = self._system.tag.browse(to_text(path))
        items = results.getResults() if hasattr(results, "getResults") else results
        out = []
        for item in items:
            tag_type = to_text("%s" % (_field(item, "tagType"),))
            out.append({"name": to_text(item["name"]), "fullPath": to_text("%s" % (item["fullPath"],)),
                        "hasChildren": bool(item["hasChildren"]), "tagType": tag_type,
                        "value": native(_field(item, "value")), "quality": _field_quality(item),
                        "timestamp": None})
        return out

    def tags_under(self, folder, limit):
        """A walk of browse() below the folder (breadth first, at most `limit` tags), read in one batch."""
        found = []
        folders = [folder or ""]
        while folders and len(found) < limit:
            for item in self.browse(folders.pop(0)):
                if item["hasChildren"] or item["tagType"] in ("Folder", "Provider"):
                    folders.append(item["fullPath"])
                elif len(found) < limit:
                    found.append(item["fullPath"])
        found.sort(key=lambda path: path.lower())
        return self.read(found) if found else []


def _field(item, name):
    try:
        return item[name]
    except:  # noqa: E722 - folders have no value
        return None


def _field_quality(item):
    quality = _field(item, "quality")
    return quality_name(quality) if quality is not None else None
