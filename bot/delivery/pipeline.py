"""The one send pipeline every broadcast goes through.

:class:`Pipeline` binds the ports (:mod:`bot.delivery.ports`) to one run of one
broadcast; :mod:`bot.delivery.run` holds the run itself.
"""

from __future__ import annotations

from bot.delivery.ports import PipelineConfig, Ports, ProgressCallback
from bot.delivery.report import Summary
from bot.delivery.run import BroadcastRun


class Pipeline:
    """Delivers broadcasts; one instance serves every broadcast of the process."""

    def __init__(self, ports: Ports, config: PipelineConfig | None = None) -> None:
        self.ports = ports
        self.config = config or PipelineConfig()

    async def run(self, broadcast_id: str, progress: ProgressCallback | None = None) -> Summary:
        """Deliver a broadcast that is ``running`` until it completes, is cancelled or stops.

        Safe to call again on the same broadcast after a crash: it resumes from
        the ledger without sending anyone the message twice.
        """
        run = BroadcastRun(self.ports, self.config, broadcast_id, progress)
        return await run.execute()
