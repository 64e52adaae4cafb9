"""The one way to put the admin bot on a hydrogram client: :func:`install`.

A host bot (the design document's MovieBot) calls it on its own client and
database; ``python -m bot run`` calls it on a client built from the settings.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import hydrogram

from bot.app import Core, Tuning, broadcast_client, build_core, open_database
from bot.handlers.context import BotContext, Timing
from bot.handlers.router import handlers
from bot.mongo import Database
from bot.pipeline import PipelineConfig, ProgressCallback
from bot.queue import BroadcastQueue
from bot.report import Summary
from bot.status import StatusMessage
from config.settings import Settings

log = logging.getLogger(__name__)

#: Our handlers run before a host bot's (group 0) and stop propagation of what they consume.
HANDLER_GROUP = -1


@dataclass(slots=True)
class BroadcastBot:
    """The installed admin bot: its machinery, its queue, and how to take it out."""

    core: Core
    queue: BroadcastQueue
    context: BotContext
    registered: list[tuple[Any, int]] = field(default_factory=list)

    async def stop(self) -> None:
        """Remove the handlers, drop open questions and stop the queue.

        A running broadcast stays ``running`` in MongoDB and resumes at the next start.
        """
        for handler, group in self.registered:
            self.context.client.remove_handler(handler, group)
        self.registered.clear()
        self.context.pending.close_all()
        await self.queue.stop()


async def install(
    client: hydrogram.Client,
    db: Database,
    settings: Settings,
    *,
    config: PipelineConfig | None = None,
    timing: Timing | None = None,
    group: int = HANDLER_GROUP,
    all_callbacks: bool = False,
) -> BroadcastBot:
    """Install the broadcast admin commands and buttons on ``client`` and start the queue.

    Args:
        client: A hydrogram bot client created with ``sleep_threshold=0``.
        db: The database holding the users collection; broadcasts are stored next to it.
        settings: Admins, rate, users collection, test mode.
        config: Pipeline tuning; from ``settings`` when None.
        timing: How long the bot waits for an asked message and a confirmation.
        group: The hydrogram handler group.
        all_callbacks: Answer every callback query (a standalone bot), not only
            those this package created (``bc:...``).

    Returns:
        The running bot; call :meth:`BroadcastBot.stop` before stopping the client.
    """
    core = build_core(db, client, Tuning.from_settings(settings), config=config)
    await core.ensure_indexes()
    statuses: dict[str, StatusMessage] = {}

    async def status_for(doc: dict[str, Any]) -> ProgressCallback | None:
        status = StatusMessage.from_document(client, doc)
        if status is not None:
            statuses[str(doc["_id"])] = status
        return status

    async def on_finished(summary: Summary) -> None:
        doc = await core.store.get(summary.broadcast_id)
        status = statuses.pop(summary.broadcast_id, None) or StatusMessage.from_document(
            client, doc
        )
        if status is not None:
            await status.finish(summary, by=_finished_by(doc, summary))

    queue = BroadcastQueue(core, status_for, on_finished)
    context = BotContext(client, core, queue, settings, timing or Timing())
    bot = BroadcastBot(core, queue, context)
    for handler in handlers(context, all_callbacks=all_callbacks):
        client.add_handler(handler, group)
        bot.registered.append((handler, group))
    await asyncio.sleep(0)  # hydrogram registers handlers in a task of its own
    await queue.start()
    return bot


def _finished_by(doc: dict[str, Any], summary: Summary) -> str:
    """Who the summary names: whoever cancelled it, else whoever created it."""
    if summary.status == "cancelled":
        cancels = [e for e in doc.get("audit") or [] if e.get("action") == "cancelled"]
        if cancels and cancels[-1].get("by") is not None:
            return str(cancels[-1]["by"])
    name = doc.get("admin_username")
    return f"{name} ({doc.get('admin_id')})" if name else str(doc.get("admin_id"))


async def serve(settings: Settings) -> None:
    """Run the standalone bot until interrupted (Ctrl-C); the caller checks credentials."""
    if not settings.admin_ids:
        log.warning("ADMIN_IDS is empty: only users with role 'admin' can use the bot")
    async with open_database(settings) as db:
        client = broadcast_client(settings)
        await client.start()
        try:
            bot = await install(client, db, settings, all_callbacks=True)
            try:
                await hydrogram.idle()  # type: ignore[no-untyped-call]
            finally:
                await bot.stop()
        finally:
            await client.stop()
