"""The statements of schedules: their rows, their due fires, the runs they started, and who changed them."""

SCHEDULE_COLUMNS = ("schedule_name", "workflow_name", "cron", "timezone", "inputs", "queue_name", "partition_key",
                    "missed_policy", "catch_up_limit", "enabled", "source", "next_fire_at", "last_fire_at",
                    "created_by", "created_at", "updated_at")
CHANGE_COLUMNS = ("id", "schedule_name", "action", "actor", "actor_roles", "verdict", "detail", "at")
_SELECT = ", ".join(SCHEDULE_COLUMNS)
# what a schedule may have changed after it was made (the engine checks the values)
CHANGEABLE = ("workflow_name", "cron", "timezone", "inputs", "queue_name", "partition_key", "missed_policy",
              "catch_up_limit", "enabled", "next_fire_at", "last_fire_at")


def _marks(n):
    return ", ".join(["?"] * n)


def _row(values):
    row = dict(zip(SCHEDULE_COLUMNS, values))
    row["enabled"] = bool(int(row["enabled"]))
    return row


class ScheduleStore(object):
    def __init__(self, db):
        self.db = db

    def create(self, row):
        """Insert a schedule; False when one of that name exists."""
        return self.db.execute("INSERT INTO workflows.schedules (%s) VALUES (%s) ON CONFLICT DO NOTHING"
                               % (_SELECT, _marks(len(SCHEDULE_COLUMNS))),
                               [int(row[c]) if c == "enabled" else row[c] for c in SCHEDULE_COLUMNS]) == 1

    def get(self, name):
        rows = self.db.query("SELECT %s FROM workflows.schedules WHERE schedule_name = ?" % _SELECT, (name,))
        return _row(rows[0]) if rows else None

    def all(self):
        return [_row(r) for r in self.db.query("SELECT %s FROM workflows.schedules ORDER BY schedule_name" % _SELECT)]

    def update(self, name, changes, now, expected_next=None):
        """Change the given columns (CHANGEABLE); with `expected_next`, only while next_fire_at still has that value
        (so two gateways that computed the same fire advance it once). Returns whether the row changed."""
        sets = []
        params = []
        for column in sorted(changes):
            if column not in CHANGEABLE:
                raise ValueError(column)
            value = changes[column]
            sets.append("%s = ?" % column)
            params.append(int(value) if column == "enabled" else value)
        sets.append("updated_at = ?")
        params.append(now)
        where = "schedule_name = ?"
        params.append(name)
        if expected_next is not None:
            where += " AND enabled = 1 AND next_fire_at = ?"
            params.append(expected_next)
        return self.db.execute("UPDATE workflows.schedules SET %s WHERE %s" % (", ".join(sets), where), params) == 1

    def delete(self, name):
        return self.db.execute("DELETE FROM workflows.schedules WHERE schedule_name = ?", (name,)) == 1

    def due(self, before, limit):
        """Enabled schedules whose next fire is at or before `before`, soonest first (index sc_due)."""
        rows = self.db.query("SELECT %s FROM workflows.schedules WHERE enabled = 1 AND next_fire_at <= ? ORDER BY "
                             "next_fire_at LIMIT ?" % _SELECT, (before, limit))
        return [_row(r) for r in rows]

    def next_due_at(self):
        rows = self.db.query("SELECT MIN(next_fire_at) FROM workflows.schedules WHERE enabled = 1")
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def last_runs(self, names):
        """{schedule name: (run id, status, scheduled_at)} of each schedule's run with the latest fire time."""
        if not names:
            return {}
        names = list(names)
        out = {}
        for i in range(0, len(names), 500):
            part = names[i:i + 500]
            rows = self.db.query(
                "SELECT w.schedule_name, w.workflow_uuid, w.status, w.scheduled_at FROM workflows.workflow_status w "
                "WHERE w.schedule_name IN (%s) AND w.scheduled_at = (SELECT MAX(x.scheduled_at) FROM "
                "workflows.workflow_status x WHERE x.schedule_name = w.schedule_name)" % _marks(len(part)), part)
            for name, wid, status, at in rows:
                out[name] = (wid, status, int(at))
        return out

    def runs_at(self, name, fire_times):
        """The fire times of `fire_times` that already have a run of this schedule."""
        if not fire_times:
            return set()
        rows = self.db.query("SELECT scheduled_at FROM workflows.workflow_status WHERE schedule_name = ? AND "
                             "scheduled_at IN (%s)" % _marks(len(fire_times)), [name] + list(fire_times))
        return set([int(r[0]) for r in rows])

    # -- the record of changes --------------------------------------------------------------------------------------

    def record_change(self, name, action, actor, roles, verdict, detail, at):
        self.db.execute("INSERT INTO workflows.schedule_changes (schedule_name, action, actor, actor_roles, verdict, "
                        "detail, at) VALUES (?, ?, ?, ?, ?, ?, ?)", (name, action, actor, roles, verdict, detail, at))

    def changes(self, name=None, limit=50):
        where, params = ("WHERE schedule_name = ? ", [name]) if name else ("", [])
        rows = self.db.query("SELECT %s FROM workflows.schedule_changes %sORDER BY id DESC LIMIT ?"
                             % (", ".join(CHANGE_COLUMNS), where), params + [limit])
        return [dict(zip(CHANGE_COLUMNS, r)) for r in rows]
