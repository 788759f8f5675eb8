"""Memory tags: the tag provider of the standalone gateway, the CPython host and the `system.tag` fake.

Tags are created by their first write, as `[provider]Folder/Sub/Name` paths (no provider means `[default]`;
paths are case-insensitive, as in Ignition). A value is any JSON-native value; a read of a path never written
answers quality Bad_NotFound. Like an Ignition memory tag, a tag keeps its value across restarts: the standalone
gateway keeps the tags in its database (store.memory_tags.MemoryTagTable), so scripts run with `./gateway console`
and every gateway on the database see the same tags. ProcessTagTable keeps them in this process only (the
`system.tag` fake of the Jython tests).
"""
import threading

from exchange.workflows.host.tags import TagProvider, reading, write_result
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, loads, to_json_native

DEFAULT_PROVIDER = "default"
GOOD = "Good"
NOT_FOUND = "Bad_NotFound"
TYPE_CONVERSION = "Bad_TypeConversion"
BROWSE_LIMIT = 10000


def _provider_and_parts(text):
    """('[provider]a/b' or 'a/b') -> (provider, ['a', 'b']), the default provider when none is named; None when
    the brackets are not closed."""
    text = text.strip()
    if not text.startswith("["):
        text = "[%s]%s" % (DEFAULT_PROVIDER, text)
    end = text.find("]")
    if end < 0:
        return None
    provider = text[1:end].strip() or DEFAULT_PROVIDER
    return provider, [p.strip() for p in text[end + 1:].split("/") if p.strip()]


def normalize(path):
    """(display path, lookup key) of a tag path, or None when it names no tag ('[default]Line1/Temp' and
    'line1/temp.Value' are the same tag)."""
    split = _provider_and_parts(path) if isinstance(path, string_types) else None
    if split is None:
        return None
    provider, parts = split
    if parts and parts[-1].lower().endswith(".value"):
        parts[-1] = parts[-1][:-len(".value")]
    if not parts or not parts[-1]:
        return None
    display = "[%s]%s" % (provider, "/".join(parts))
    return display, display.lower()


def folder_key(path):
    """The lookup prefix of the tags under a folder path ('' or '[default]' is the provider's root)."""
    split = _provider_and_parts(path or "")
    if split is None:
        return None
    provider, parts = split
    return ("[%s]" % provider + "/".join(parts) + ("/" if parts else "")).lower()


class ProcessTagTable(object):
    """Memory tags of this process only, with the interface of store.memory_tags.MemoryTagTable."""

    def __init__(self):
        self._rows = {}
        self._lock = threading.Lock()

    def get(self, keys):
        with self._lock:
            return dict([(k, self._rows[k]) for k in keys if k in self._rows])

    def put(self, rows):
        with self._lock:
            for key, path, value, quality, at in rows:
                kept = self._rows.get(key)
                self._rows[key] = (kept[0] if kept else path, value, quality, at)

    def under(self, prefix_key, limit):
        with self._lock:
            keys = sorted([k for k in self._rows if k.startswith(prefix_key)])[:limit]
            return [self._rows[k] for k in keys]


class MemoryTags(TagProvider):
    NAMES_KEPT = 20000  # normalised paths remembered: the dispatcher reads the same paths every tick

    def __init__(self, table):
        self.table = table
        self._names = {}

    def _name(self, path):
        if not isinstance(path, string_types):
            return normalize(path)
        found = self._names.get(path)
        if found is None:
            found = normalize(path) or False
            if len(self._names) >= self.NAMES_KEPT:
                self._names = {}
            self._names[path] = found
        return found or None

    def read(self, paths):
        paths = list(paths)
        names = [self._name(p) for p in paths]
        found = self.table.get(set([n[1] for n in names if n is not None]))
        now = now_ms()
        out = []
        for path, name in zip(paths, names):
            row = found.get(name[1]) if name is not None else None
            if row is None:
                out.append(reading(path, None, NOT_FOUND, False, now))
            else:
                out.append(reading(path, loads(row[1]), row[2], row[2] == GOOD, row[3]))
        return out

    def write(self, paths, values):
        paths = list(paths)
        values = list(values)
        if len(paths) != len(values):
            raise InvalidArgument("write needs one value per path (%d paths, %d values)" % (len(paths), len(values)),
                                  field="values")
        now = now_ms()
        rows = {}
        results = []
        for path, value in zip(paths, values):
            name = normalize(path)
            if name is None:
                results.append(write_result(path, NOT_FOUND, False))
                continue
            try:
                text = dumps(to_json_native(value, "value"))
            except InvalidArgument:
                results.append(write_result(path, TYPE_CONVERSION, False))
                continue
            rows[name[1]] = (name[1], name[0], text, GOOD, now)  # the last write of a path in one call wins
            results.append(write_result(path, GOOD, True))
        self.table.put(list(rows.values()))
        return results

    def browse(self, path):
        prefix = folder_key(path)
        if prefix is None:
            return []
        children = {}
        order = []
        for full, value, quality, at in self.table.under(prefix, BROWSE_LIMIT):
            rest = full[len(prefix):] if full.lower().startswith(prefix) else full[full.find("]") + 1:]
            name = rest.split("/")[0]
            if name.lower() in children:
                continue
            order.append(name.lower())
            if "/" in rest:
                children[name.lower()] = {"name": name, "fullPath": full[:len(full) - len(rest)] + name,
                                          "hasChildren": True, "tagType": "Folder", "value": None, "quality": None,
                                          "timestamp": None}
            else:
                children[name.lower()] = {"name": name, "fullPath": full, "hasChildren": False,
                                          "tagType": "AtomicTag", "value": loads(value), "quality": quality,
                                          "timestamp": at}
        return [children[k] for k in order]

    def tags_under(self, folder, limit):
        prefix = folder_key(folder)
        if prefix is None:
            return []
        return [reading(full, loads(value), quality, quality == GOOD, at)
                for full, value, quality, at in self.table.under(prefix, limit)]
