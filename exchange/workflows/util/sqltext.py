"""The parameters of a SQL text written by workflow code (the db steps): where its `?` placeholders are, and whether
it uses another placeholder style that only some drivers understand (%s, %(name)s, $1, :name, ?1).

Only what is outside string literals, quoted names and comments counts: `'why?'`, `"col?"`, `-- ok?` and
PostgreSQL's dollar-quoted bodies hold no placeholder. A `::` cast is not a `:name` parameter.
"""
import re

_PYFORMAT = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)s")
_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_NAME_CHARS = _NAME_START + "0123456789$"
_DIGITS = "0123456789"


class Placeholders(object):
    """positions: the index of each `?` placeholder, in order; other: the first placeholder of another style
    (its text, e.g. "%s", "$1", ":batch"), or None."""

    def __init__(self, positions, other):
        self.positions = positions
        self.other = other


def scan(sql):
    positions = []
    other = None
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            i = _after_literal(sql, i, _backslash_escapes(sql, i))
        elif c == '"' or c == "`":
            i = _after_quoted(sql, i, c)
        elif c == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
        elif c == "/" and sql.startswith("/*", i):
            i = _after_block_comment(sql, i)
        elif c == "$":
            tag = _dollar_tag(sql, i)
            if tag is not None:
                end = sql.find(tag, i + len(tag))
                i = n if end < 0 else end + len(tag)
            else:
                if other is None and _follows(sql, i, _DIGITS) and not _inside_name(sql, i):
                    other = c + _run(sql, i + 1, _DIGITS)
                i += 1
        elif c == "?":
            if _follows(sql, i, _DIGITS):
                other = other or c + _run(sql, i + 1, _DIGITS)
            else:
                positions.append(i)
            i += 1
        elif c == ":":
            if sql.startswith("::", i):
                i += 2
                continue
            if other is None and _follows(sql, i, _NAME_START) and not sql.startswith(":=", i):
                other = c + _run(sql, i + 1, _NAME_CHARS)
            i += 1
        elif c == "%":
            if other is None:
                named = _PYFORMAT.match(sql, i)
                if named is not None:
                    other = named.group(0)
                elif sql.startswith("%s", i) and not _follows(sql, i + 1, _NAME_CHARS):
                    other = "%s"
            i += 1
        else:
            i += 1
    return Placeholders(positions, other)


def _follows(sql, i, chars):
    return i + 1 < len(sql) and sql[i + 1] in chars


def _run(sql, start, chars):
    end = start
    while end < len(sql) and sql[end] in chars:
        end += 1
    return sql[start:end]


def _inside_name(sql, i):
    """True when sql[i] continues an identifier (PostgreSQL allows $ inside names: a$1)."""
    return i > 0 and sql[i - 1] in _NAME_CHARS


def _backslash_escapes(sql, i):
    """PostgreSQL's E'...' literals escape with backslashes."""
    return i > 0 and sql[i - 1] in "eE" and not (i > 1 and sql[i - 2] in _NAME_CHARS)


def _after_literal(sql, i, backslashes):
    j = i + 1
    while j < len(sql):
        c = sql[j]
        if backslashes and c == "\\":
            j += 2
            continue
        if c == "'":
            if sql.startswith("''", j):
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _after_quoted(sql, i, quote):
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if sql.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def _after_block_comment(sql, i):
    depth, j = 0, i
    while j < len(sql):
        if sql.startswith("/*", j):
            depth += 1
            j += 2
        elif sql.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(sql)


def _dollar_tag(sql, i):
    """The opening tag of a dollar-quoted string at sql[i] ($$ or $name$), or None."""
    if _inside_name(sql, i):
        return None
    j = i + 1
    if j < len(sql) and sql[j] == "$":
        return "$$"
    if j < len(sql) and sql[j] in _NAME_START:
        end = j
        while end < len(sql) and sql[end] in _NAME_START + _DIGITS:
            end += 1
        if end < len(sql) and sql[end] == "$":
            return sql[i:end + 1]
    return None


def with_format_placeholders(sql, positions):
    """The text with each `?` at `positions` as %s and every other % doubled: what a format-style driver (psycopg)
    expects."""
    wanted = set(positions)
    out = []
    for index, c in enumerate(sql):
        if index in wanted:
            out.append("%s")
        elif c == "%":
            out.append("%%")
        else:
            out.append(c)
    return "".join(out)
