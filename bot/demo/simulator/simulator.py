"""``TelegramSimulator``: the simulated bot client plus the controls of its world."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hydrogram import utils

from bot.demo.simulator.faults import LOST_KINDS, FaultPlan, LostKind, TransientKind
from bot.demo.simulator.feeds import UserFeeds
from bot.demo.simulator.limits import LimitRules
from bot.demo.simulator.model import (
    CallbackAnswer,
    ReceivedMessage,
    SimChat,
    SimUser,
    UserState,
)
from bot.demo.simulator.peers import Directory, is_channel
from bot.demo.simulator.world import SimWorld


class TelegramSimulator(UserFeeds):
    """A bot client on a simulated Telegram: users, chats, flood limits and failures.

    Drive it with hydrogram's own API (``send_message``, ``get_messages``,
    ``Message.copy``...) and inspect what users received with :meth:`inbox`.
    The flood rules are documented in :mod:`bot.demo.simulator.limits`.

    Args:
        name: Client name.
        telegram_limit: Messages per sliding second, bot-wide (1..1000).
        chat_burst: Send requests allowed to one chat per ``chat_window`` seconds.
        chat_window: Seconds of the per-chat window.
        latency_ms: Delay of every request (``asyncio.sleep``).
        latency_jitter_ms: Uniform jitter around ``latency_ms``, seeded.
        transient_failure_rate: Probability in [0, 1] that a send fails server-side
            (not delivered, not counted by flood control).
        transient_error: ``"rpc"`` (500 RPC_CALL_FAIL) or ``"timeout"`` (``TimeoutError``).
        lost_answer_rate: Probability in [0, 1] that a delivered message's answer is lost
            (the user has it; the client sees a timeout, a reset, -503 or a 500).
        lost_answer_kinds: Which of those failures lost answers show as.
        cold: A new session: hydrogram's peer storage starts empty (see
            :class:`~bot.demo.simulator.client.SimulatedClient`).
        seed: Seed of all randomness.
        clock: Monotonic seconds for limits and dates; inject a fake one in tests.
        date_origin: Unix time that the clock's current reading maps to (default: now).
        bot_id: The bot's user id.
        bot_username: The bot's username.
        workers: Handler tasks of hydrogram's dispatcher.
    """

    def __init__(
        self,
        name: str = "simulator",
        *,
        telegram_limit: int = 30,
        chat_burst: int = 3,
        chat_window: float = 3.0,
        latency_ms: float = 0.0,
        latency_jitter_ms: float = 0.0,
        transient_failure_rate: float = 0.0,
        transient_error: TransientKind = "rpc",
        lost_answer_rate: float = 0.0,
        lost_answer_kinds: tuple[LostKind, ...] = LOST_KINDS,
        cold: bool = False,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        date_origin: float | None = None,
        bot_id: int = 7_000_000_001,
        bot_username: str = "broadcast_sim_bot",
        workers: int = 4,
    ) -> None:
        faults = FaultPlan(
            seed=seed,
            latency_ms=latency_ms,
            latency_jitter_ms=latency_jitter_ms,
            transient_failure_rate=transient_failure_rate,
            transient_error=transient_error,
            lost_answer_rate=lost_answer_rate,
            lost_answer_kinds=lost_answer_kinds,
        )
        world = SimWorld(
            directory=Directory(bot_id, bot_username, "Broadcast Bot"),
            rules=LimitRules(telegram_limit, chat_burst, chat_window),
            faults=faults,
            clock=clock,
            date_origin=time.time() if date_origin is None else date_origin,
        )
        super().__init__(name, world, workers=workers, cold=cold)

    def add_users(
        self,
        user_ids: Iterable[int],
        state: UserState = UserState.ACTIVE,
        *,
        language_code: str = "en",
        is_premium: bool = False,
    ) -> None:
        """Add many users at once (200,000 take well under a second), named ``User <id>``."""
        users = self.world.directory.users
        ids = list(user_ids)
        if ids and (min(ids) <= 0 or max(ids) > utils.MAX_USER_ID):
            raise ValueError("user ids must be in 1..999999999999")
        if self.world.directory.bot_id in ids:
            raise ValueError("a user cannot have the bot's id")
        for uid in ids:
            users[uid] = SimUser(uid, state, f"User {uid}", None, language_code, is_premium)
        self.queue_peers(ids)

    def set_state(self, user_id: int, state: UserState) -> None:
        """Change what sending to a known user answers (e.g. the user blocks the bot)."""
        self.world.directory.users[user_id].state = state

    def add_chat(self, chat_id: int, title: str | None = None) -> None:
        """Add a channel (-100...) or basic group (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError(f"chat ids are negative, got {chat_id}")
        utils.get_peer_type(chat_id)  # raises ValueError for an impossible id
        kind = "Channel" if is_channel(chat_id) else "Group"
        self.world.directory.chats[chat_id] = SimChat(chat_id, title or f"{kind} {chat_id}")
        self.queue_peers([chat_id])

    def fail_next(
        self,
        chat_id: int,
        *,
        error_message: str = "MESSAGE_TOO_LONG",
        error_code: int = 400,
        exception: BaseException | None = None,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` sends to ``chat_id`` (None: all) fail.

        They fail with ``exception`` if given, else with the RPC error. Use error ids
        hydrogram knows: for unknown ones it appends to ``./unknown_errors.txt``.
        Scripted failures are counted by flood control, like other answered sends.
        """
        self.world.faults.fail_next(
            chat_id,
            error_message=error_message,
            error_code=error_code,
            exception=exception,
            times=times,
        )

    def limit_edits(self, seconds: float | None) -> None:
        """Answer ``400 MESSAGE_EDIT_TIME_EXPIRED`` to an edit of a message older than
        ``seconds`` (None: no limit, the default). Telegram documents no such limit for a
        bot's own messages, yet MTProto has the error: this plays a server that applies one."""
        self.world.edit_window_s = seconds

    def fail_next_request(
        self,
        name: str,
        *,
        error_message: str = "FLOOD_WAIT_60",
        error_code: int = 420,
        times: int | None = 1,
    ) -> None:
        """Make the next ``times`` requests named ``name`` (None: all) fail, whatever they ask.

        ``name`` is the request's name without ``functions.``, as in :attr:`request_counts`
        (``"users.GetUsers"``: a look-up of users, e.g. a cold session resolving peers).
        """
        self.world.faults.fail_next_request(
            name, error_message=error_message, error_code=error_code, times=times
        )

    def answer_too_long(self, chat_id: int) -> None:
        """Deliver the next send to ``chat_id`` but answer ``updatesTooLong``, as Telegram
        may under load: the sender learns that it was accepted, not the message's id."""
        self.world.faults.too_long.add(chat_id)

    async def seed_message(
        self, chat_id: int, text: str = "", *, media: str | None = None, caption: str = ""
    ) -> int:
        """Put a message into one of the bot's chats and return its id.

        In a private chat the user wrote it; in a channel it is a post; in a group the
        bot wrote it. ``media`` is a kind of :data:`bot.demo.simulator.media.MEDIA_KINDS`.
        """
        if not media and not text.strip():
            raise ValueError("a seeded message needs text or media")
        world = self.world
        message = world.compose(
            chat_id,
            sender=self._author_in(chat_id),
            text=caption if media else text,
            media=world.media.create(media, world.date()) if media else None,
        )
        world.store.put(chat_id, message)
        await self.register_peers()
        return message.id

    async def seed_album(self, chat_id: int, items: Sequence[str | tuple[str, str]]) -> list[int]:
        """Put an album into a chat; ``items`` are kinds or ``(kind, caption)``. Returns the ids."""
        messages = self._album(chat_id, self._author_in(chat_id), items)
        for message in messages:
            self.world.store.put(chat_id, message)
        await self.register_peers()
        return [message.id for message in messages]

    def inbox(self, chat_id: int) -> list[ReceivedMessage]:
        """Return what the bot delivered to ``chat_id``, oldest first."""
        return self.world.inbox.of(chat_id)

    def touches(self, chat_id: int) -> list[tuple[str, tuple[int, ...]]]:
        """Every edit and delete the bot asked of messages it delivered to ``chat_id``,
        done or refused, in order: ``("edit" | "delete", message ids)``."""
        return [(kind, ids) for kind, chat, ids in self.world.touches if chat == chat_id]

    def pass_time(self, seconds: float) -> None:
        """Let ``seconds`` pass on the world's calendar: the messages delivered so far are
        that much older (for Telegram's 48 hours to delete), in no time."""
        self.world.pass_time(seconds)

    def received_counts(self) -> dict[int, int]:
        """Return, per chat that received anything, how many messages it received."""
        return self.world.inbox.counts()

    @property
    def sent_total(self) -> int:
        """Messages delivered (an album of n counts n)."""
        return self.world.inbox.total

    @property
    def lost_answers(self) -> int:
        """Delivered messages whose answer the client never got."""
        return self.world.faults.lost_answers

    @property
    def duplicates_refused(self) -> int:
        """Sends refused with RANDOM_ID_DUPLICATE (their message was already delivered)."""
        return self.world.duplicates_refused

    @property
    def flood_waits(self) -> int:
        """FLOOD_WAIT answers given so far."""
        return self.world.flood_waits

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """The bot's answers to callback queries, in order."""
        return list(self.world.callback_answers)

    def another_connection(self, name: str, cls: type[TelegramSimulator] | None = None) -> Any:
        """Another client of the same bot on the same simulated Telegram: a second instance.

        It has its own peer storage and dispatcher (updates fed to it run its handlers
        only) and shares everything Telegram knows: users, chats, messages, limits.
        ``cls`` picks a subclass (e.g. one whose answers are slowed). Start it yourself.
        """
        other = (cls or TelegramSimulator)(name, workers=self.workers, cold=self.cold)
        other.world = self.world
        return other

    def _author_in(self, chat_id: int) -> int | None:
        if chat_id > 0:
            if chat_id not in self.world.directory.users:
                raise ValueError(f"unknown user {chat_id}: call add_user first")
            return chat_id
        if chat_id not in self.world.directory.chats:
            self.add_chat(chat_id)
        return None if is_channel(chat_id) else self.world.directory.bot_id
