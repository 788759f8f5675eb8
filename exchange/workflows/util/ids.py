"""Workflow ids are canonical lowercase UUID strings."""
import binascii
import hashlib
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
    return name_based_id(parent_id, "child/%d" % position)


def name_based_id(namespace_id, name):
    """RFC 4122 version 5 UUID of `name` in the namespace `namespace_id`, equal to uuid.uuid5. Computed with
    hashlib: Jython's uuid module costs close to a millisecond per id, which a fan-out pays once per child."""
    namespace = binascii.unhexlify(namespace_id.replace("-", "").encode("ascii"))
    if not isinstance(name, bytes):
        name = name.encode("utf-8")
    digest = bytearray(hashlib.sha1(namespace + name).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    digits = binascii.hexlify(bytes(digest))
    if not isinstance(digits, str):
        digits = digits.decode("ascii")
    return "%s-%s-%s-%s-%s" % (digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:])
