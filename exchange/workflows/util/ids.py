"""Workflow ids are canonical lowercase UUID strings."""
import re
import uuid

from exchange.workflows.util.compat import string_types

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def new_id():
    return str(uuid.uuid4())


def is_uuid(value):
    return isinstance(value, string_types) and _UUID.match(value) is not None


def normalize(value):
    """Lowercase canonical form, or None when `value` is not a UUID string."""
    if not is_uuid(value):
        return None
    return str(value).lower()
