"""The contract every tag provider keeps: Ignition's system.tag (ignition_tags), the standalone gateway's memory
tags (memory_tags).

The engine and the library steps see tags only through it, as JSON-native values, so a reading can be recorded
as a step's output and judged the same way on every host:

    read(paths)          -> [{"path", "value", "quality", "good", "timestamp"}]  one batched read, in order
    write(paths, values) -> [{"path", "quality", "good"}]                        one batched write, in order
    browse(path)         -> [{"name", "fullPath", "hasChildren", "tagType", "value", "quality", "timestamp"}]
    tags_under(folder, limit) -> [{"path", "value", "quality", "good", "timestamp"}]  every tag below, path order

`quality` is the quality code's name as Ignition prints it ("Good", "Bad_NotFound", "Uncertain_LastKnownValue");
`good` says whether it is a good quality; `timestamp` is epoch milliseconds (None when the provider has none).
"""


class TagProvider(object):
    """Base class of the tag providers; the methods below say what each must do."""

    def read(self, paths):
        """The current value, quality and timestamp of each path, in order, in one batched read."""
        raise NotImplementedError

    def write(self, paths, values):
        """Write values[i] to paths[i] in one batched write; the quality each write answered, in order."""
        raise NotImplementedError

    def browse(self, path):
        """The folders and tags directly under a folder path."""
        raise NotImplementedError

    def tags_under(self, folder, limit):
        """Every tag below a folder ('' for the default provider's root), at most `limit`, with its reading."""
        raise NotImplementedError


def reading(path, value, quality, good, timestamp):
    return {"path": path, "value": value, "quality": quality, "good": bool(good), "timestamp": timestamp}


def write_result(path, quality, good):
    return {"path": path, "quality": quality, "good": bool(good)}
