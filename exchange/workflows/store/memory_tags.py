"""The table of the standalone gateway's memory tags (workflows.memory_tags): one row per tag, keyed by its path
in lower case (tag paths are case-insensitive, as in Ignition), with the path as first written, the value as JSON
text, the quality name and the time of the last write. host/memory_tags.py gives it the tag provider's meaning."""

LOOKUP_CHUNK = 500


def _marks(n):
    return ", ".join(["?"] * n)


def _like_prefix(prefix):
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class MemoryTagTable(object):
    def __init__(self, db):
        self.db = db

    def get(self, keys):
        """{path_key: (path, value_json, quality, updated_at)} of the keys that exist."""
        found = {}
        keys = list(keys)
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start:start + LOOKUP_CHUNK]
            for row in self.db.query("SELECT path_key, path, value, quality, updated_at FROM workflows.memory_tags "
                                     "WHERE path_key IN (%s)" % _marks(len(chunk)), chunk):
                found[row[0]] = (row[1], row[2], row[3], int(row[4]))
        return found

    def put(self, rows):
        """Create or overwrite tags: rows of (path_key, path, value_json, quality, updated_at); a tag keeps the
        spelling of its path from its first write."""
        if rows:
            self.db.execute_many("INSERT INTO workflows.memory_tags (path_key, path, value, quality, updated_at) "
                                 "VALUES (?, ?, ?, ?, ?) ON CONFLICT (path_key) DO UPDATE SET value = excluded.value, "
                                 "quality = excluded.quality, updated_at = excluded.updated_at", rows)

    def under(self, prefix_key, limit):
        """(path, value_json, quality, updated_at) of the tags whose key starts with `prefix_key`, in path order."""
        return [(r[0], r[1], r[2], int(r[3])) for r in self.db.query(
            "SELECT path, value, quality, updated_at FROM workflows.memory_tags WHERE path_key LIKE ? ESCAPE '\\' "
            "ORDER BY path_key LIMIT ?", (_like_prefix(prefix_key), limit))]
