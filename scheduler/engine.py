"""The APScheduler 3 parts a :class:`scheduler.jobs.JobScheduler` is built from.

- :class:`HandOffExecutor` runs due jobs with :data:`firing` set, so the job
  target (``scheduler.jobs.fire``) knows which JobScheduler to hand the job to.
- :class:`PollingScheduler` fixes how a ``BackgroundScheduler`` shuts down and
  looks at its store regularly.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED

Deliver = Callable[[str, datetime], None]
"""Hands ``(job id, scheduled run time)`` to the JobScheduler; called on the executor thread."""

firing: contextvars.ContextVar[tuple[Deliver, datetime]] = contextvars.ContextVar("firing")
"""While a job runs: where to deliver it, and the run time being served."""


class HandOffExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs due jobs on a thread of its own, with :data:`firing` set for the job target.

    Like APScheduler's pool executors it runs ``run_job`` (which skips run times
    missed by more than the grace time and makes the events) off the scheduler
    thread, then reports through ``_run_job_success`` / ``_run_job_error``.

    Args:
        deliver: What :func:`scheduler.jobs.fire` calls with the job id and run time.
    """

    def __init__(self, deliver: Deliver) -> None:
        super().__init__()
        self._deliver = deliver
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-scheduler-fire")

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def report(future: Future[list[Any]]) -> None:
            error = future.exception()
            if error is None:
                self._run_job_success(job.id, future.result())
            else:
                self._run_job_error(job.id, error, error.__traceback__)

        self._pool.submit(self._run, job, run_times).add_done_callback(report)

    def _run(self, job: Any, run_times: list[datetime]) -> list[Any]:
        events: list[Any] = []
        for run_time in run_times:  # one with coalesce; each call of fire sees its own time
            token = firing.set((self._deliver, run_time))
            try:
                events += run_job(job, job._jobstore_alias, [run_time], self._logger.name)
            finally:
                firing.reset(token)
        return events

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait)


class PollingScheduler(BackgroundScheduler):  # type: ignore[misc]
    """A BackgroundScheduler that polls its store, and not once more after shutdown.

    Another process may add jobs to the shared store; without polling, the
    scheduler would only see them at its next wakeup, however far away.

    APScheduler 3.11's main loop runs ``_process_jobs`` once more when shutdown
    wakes it, after the store and executor are shut down: due jobs would then be
    taken from the store (one-off jobs deleted) but never run.

    Args:
        poll_s: The longest it waits before looking at the store again.
        **options: BackgroundScheduler's options (pass ``timezone``).
    """

    def __init__(self, poll_s: float, **options: Any) -> None:
        self._poll_s = poll_s
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        with self._jobstores_lock:  # shutdown closes the store under this lock
            if self.state == STATE_STOPPED:
                return None
            wait: float | None = super()._process_jobs()
        return self._poll_s if wait is None else min(wait, self._poll_s)
