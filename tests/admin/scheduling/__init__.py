"""Tests of scheduled broadcasts end to end: commands, firing, restarts, downtime, two instances.

The bot's wall clock is a :class:`ShiftedClock` that tests move forward by hours
or days; the sweep (every 0.5 s) sees the new time. APScheduler's own jobs run
on real time, so they fire only in the test that schedules a second ahead.
"""
