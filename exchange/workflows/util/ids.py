"""Workflow ids are canonical lowercase UUID strings."""
import binascii
import os
import re

from exchange.workflows.util.compat import string_types

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def new_id():
    """A random (version 4) UUID. Formatted from os.urandom directly: the uuid module costs four times as much
    under Jython, and in-memory starts make one per call on the caller's thread."""
    digits = binascii.hexlify(os.urandom(16))
    if not isinstance(digits, str):
        digits = digits.decode("ascii")
    return "%s-%s-4%s-%s%s-%s" % (digits[:8], digits[8:12], digits[13:16], "89ab"[int(digits[16], 16) & 3],
                                  digits[17:20], digits[20:])


def is_uuid(value):
    return isinstance(value, string_types) and _UUID.match(value) is not None


def normalize(value):
    """Lowercase canonical form, or None when `value` is not a UUID string."""
    if not is_uuid(value):
        return None
    return str(value).lower()


def derived_id(parent_id, position):
    """The id of the run a run starts at `position`: the same on every replay of the parent (a name-based,
    version 5 UUID of the parent's id and the position), so a replay never starts a second child."""
    import uuid

    return str(uuid.uuid5(uuid.UUID(parent_id), "child/%d" % position))
