"""Which pages may show the console in a frame (an Inline Frame of a Perspective view, a portal): the sources of
its Content-Security-Policy frame-ancestors, and the X-Frame-Options that goes with them.

By default nothing may ('none', with X-Frame-Options: DENY). A site allows its own gateway's origin with
`./gateway run --frame-ancestors "https://scada.plant.example:8043"` or, for every host of the console (the
WebDev-mounted one too), `"frameAncestors"` in the users file. Sources are 'none' (alone), 'self', or origins:
http(s)://host[:port], where the host may start with "*." for its subdomains.
"""
import re

NONE = "'none'"
SELF = "'self'"
_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")
_OTHER_DIRECTIVES = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                     "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors %s; form-action 'self'")


class FramingError(ValueError):
    def __init__(self, message):
        ValueError.__init__(self, message)
        self.message = message


def parse(text):
    """The sources of a frame-ancestors setting (text, or a list of texts); FramingError for anything else."""
    if text is None:
        return [NONE]
    if isinstance(text, (list, tuple)):
        items = [("%s" % t).strip() for t in text]
    else:
        items = ("%s" % text).replace(",", " ").split()
    if not items:
        return [NONE]
    sources = []
    for item in items:
        lowered = item.lower()
        if lowered in ("none", NONE):
            word = NONE
        elif lowered in ("self", SELF):
            word = SELF
        elif _ORIGIN.match(item[:-1] if item.endswith("/") else item):
            word = item[:-1] if item.endswith("/") else item
        else:
            raise FramingError("frame ancestors are 'none', 'self' or origins such as https://scada.example:8043 "
                               "(a scheme, a host and a port, no path): %r is none of them" % item)
        if word not in sources:
            sources.append(word)
    if NONE in sources and len(sources) > 1:
        raise FramingError("'none' cannot be combined with other frame ancestors")
    return sources


def headers(sources):
    """The (Content-Security-Policy, X-Frame-Options or None) pair for these sources."""
    policy = _OTHER_DIRECTIVES % " ".join(sources)
    if sources == [NONE]:
        return policy, "DENY"
    if sources == [SELF]:
        return policy, "SAMEORIGIN"
    return policy, None  # X-Frame-Options cannot name another origin: the CSP decides, as in every current browser
