"""Queues declared in code: capacity across all gateways, per gateway, and an optional start rate."""
from exchange.workflows.util.compat import is_integer, string_types
from exchange.workflows.util.errors import InvalidArgument

DEFAULT_QUEUE = "default"
PRIORITY_MIN = 0
PRIORITY_MAX = 1000
PRIORITY_DEFAULT = 100


class QueueDef(object):
    def __init__(self, name, concurrency=None, workerConcurrency=None, rateLimit=None, ratePeriodSeconds=None):
        if not isinstance(name, string_types) or not name.strip():
            raise InvalidArgument("queue name must be a non-empty string", field="name")
        for field, value in (("concurrency", concurrency), ("workerConcurrency", workerConcurrency),
                             ("rateLimit", rateLimit)):
            if value is not None and (not is_integer(value) or value < 1):
                raise InvalidArgument("%s must be a positive integer or None" % field, field=field)
        if (rateLimit is None) != (ratePeriodSeconds is None):
            raise InvalidArgument("rateLimit and ratePeriodSeconds go together", field="rateLimit")
        if ratePeriodSeconds is not None and (not isinstance(ratePeriodSeconds, (int, float)) or ratePeriodSeconds <= 0):
            raise InvalidArgument("ratePeriodSeconds must be a positive number", field="ratePeriodSeconds")
        self.name = name
        self.concurrency = concurrency
        self.worker_concurrency = workerConcurrency
        self.rate_limit = rateLimit
        self.rate_period_ms = int(ratePeriodSeconds * 1000) if ratePeriodSeconds else None

    def as_dict(self):
        return {"name": self.name, "concurrency": self.concurrency, "workerConcurrency": self.worker_concurrency,
                "rateLimit": self.rate_limit,
                "ratePeriodSeconds": (self.rate_period_ms / 1000.0) if self.rate_period_ms else None}


class QueueRegistry(object):
    def __init__(self):
        self._queues = {DEFAULT_QUEUE: QueueDef(DEFAULT_QUEUE)}

    def declare(self, queue):
        self._queues[queue.name] = queue
        return queue

    def get(self, name):
        return self._queues.get(name)

    def all(self):
        return [self._queues[n] for n in sorted(self._queues)]


QUEUES = QueueRegistry()


def declareQueue(name, concurrency=None, workerConcurrency=None, rateLimit=None, ratePeriodSeconds=None):
    """Declare (or redeclare) a queue in code, next to the workflows that use it."""
    return QUEUES.declare(QueueDef(name, concurrency, workerConcurrency, rateLimit, ratePeriodSeconds))


def check_priority(priority):
    if priority is None:
        return PRIORITY_DEFAULT
    if not is_integer(priority) or priority < PRIORITY_MIN or priority > PRIORITY_MAX:
        raise InvalidArgument("priority must be an integer from %d (first) to %d (last)" % (PRIORITY_MIN, PRIORITY_MAX),
                              field="priority")
    return int(priority)
