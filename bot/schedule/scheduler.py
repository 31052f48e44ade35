"""APScheduler wiring. Jobs live in bot/jobs.py; this module only decides when they run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from datetime import timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler

from bot.store.models import utcnow


def build_scheduler(poll_jobs: Mapping[str, Callable[[], object]], poll_interval: timedelta, *,
                    extra: Mapping[str, tuple[float, Callable[[], object]]] | None = None,
                    guard: Callable[[Callable[[], object]], Callable[[], object]] | None = None,
                    unguarded: Mapping[str, tuple[float, Callable[[], object]]] | None = None) -> BackgroundScheduler:
    """One interval job per connector, first run at once.

    coalesce + max_instances=1: a slow poll never overlaps the next one, and missed runs (after a
    pause or a long poll) collapse into a single catch-up run instead of a burst. `extra` jobs
    (name -> (interval seconds, function)) follow the same rules.

    With several replicas, `guard` (bot/leader.py's `Leadership.guard`) wraps the poll and extra jobs
    so only the leader runs them; `unguarded` jobs (the leadership tick itself) run everywhere.
    """
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1,
                                                                  "misfire_grace_time": None})
    wrap = guard or (lambda job: job)
    for name, job in poll_jobs.items():
        scheduler.add_job(wrap(job), "interval", seconds=poll_interval.total_seconds(), id=f"poll:{name}",
                          name=f"poll {name}", next_run_time=utcnow())
    for name, (seconds, job) in (extra or {}).items():
        scheduler.add_job(wrap(job), "interval", seconds=seconds, id=name, name=name, next_run_time=utcnow())
    for name, (seconds, job) in (unguarded or {}).items():
        scheduler.add_job(job, "interval", seconds=seconds, id=name, name=name, next_run_time=utcnow())
    return scheduler


def poll_soon(scheduler: BackgroundScheduler, name: str) -> None:
    """Run connector `name`'s poll job now (its network pushed word of something new); the job's
    guard and its no-overlap rule still hold. A scheduler shutting down is left alone."""
    with contextlib.suppress(JobLookupError, SchedulerNotRunningError):
        scheduler.modify_job(f"poll:{name}", next_run_time=utcnow())
