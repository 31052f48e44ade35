from datetime import timedelta

from bot.schedule.scheduler import build_scheduler


def test_each_connector_polls_on_the_interval_without_overlap():
    scheduler = build_scheduler({"x": lambda: None, "facebook": lambda: None}, timedelta(seconds=30))
    scheduler.start(paused=True)  # job defaults are applied when the scheduler starts
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)
    assert set(jobs) == {"poll:x", "poll:facebook"}
    for job in jobs.values():
        assert job.trigger.interval == timedelta(seconds=30)
        assert job.coalesce is True and job.max_instances == 1
