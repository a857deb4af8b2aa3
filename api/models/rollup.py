"""Pre-aggregated activity counts that reports read instead of scanning every activity.

One row per (grain, period, school, officer, category, outcome, referral_to, status) with the
number of activities and their minutes, at three grains kept side by side:

* ``day``: period = the date the activity started, in the program's time zone
  (``PROGRAM_TIMEZONE``; api.dates.local_date);
* ``month``: period = the first day of that month;
* ``month_all``: the same month, summed over every school and officer (school_id and
  officer_id are 0), for the program-wide views that do not group or filter by them.

A report over a date range reads month rows for the whole months inside the range and day rows
for the partial months at its edges, so its cost depends on the number of cells, not activities.

Maintained in the same transaction as every activity write (api.services.writes.store; a
large demo load recounts it once at the end: rollup.rebuild); deleted activities are not
counted. ``outcome`` and ``referral_to`` use ``""`` for "not recorded" so the key has no NULLs
(NULLs never conflict in a unique key).
After a change of ``PROGRAM_TIMEZONE`` it is recounted with ``flask --app wsgi reports rebuild``.
"""

from datetime import date

from sqlalchemy import BigInteger, Date, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.extensions import db
from api.models.activity import Activity

GRAIN_DAY = "day"
GRAIN_MONTH = "month"
GRAIN_MONTH_ALL = "month_all"
EVERYONE = 0  # school_id and officer_id of month_all rows
NONE_KEY = ""


class ActivityRollup(db.Model):
    __tablename__ = "activity_rollup"
    __table_args__ = (Index("ix_activity_rollup_school", "school_id", "grain", "period"),)

    grain: Mapped[str] = mapped_column(String(12), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    officer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    referral_to: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    minutes: Mapped[int] = mapped_column(BigInteger, default=0)


# The review-health report and the reminders count activities still awaiting review by how
# long ago they went to the school (migration 0009).
Index("ix_activity_status_submitted", Activity.status, Activity.submitted_at)
