"""The hydrogram adapter against the simulator: what users receive, and our errors out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from hydrogram import raw
from hydrogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.delivery.content import (
    Content,
    CopyContent,
    Delivery,
    ParseMode,
    TextContent,
    UrlButton,
    content_from_document,
    content_to_document,
)
from bot.delivery.errors import (
    SEND_FAILURES,
    ContentError,
    ErrorCategory,
    FloodWaitError,
    SendError,
    StorageUnavailableError,
    classify_rpc_error,
    failure_kind,
)
from bot.delivery.ports import PreparedMessage
from bot.demo.simulator import TelegramSimulator, UserState
from bot.telegram.sender import HydrogramSender

ADMIN, ALICE, BOB, CAROL = 10, 11, 12, 13
SITE = UrlButton("Site", "https://example.org")
Fault = UserState | tuple[str, int] | BaseException


async def started(telegram_limit: int = 1000) -> TelegramSimulator:
    # A clock that never moves: a flood window never empties by itself.
    sim = TelegramSimulator(telegram_limit=telegram_limit, chat_burst=100, clock=lambda: 1000.0)
    sim.add_user(ADMIN)
    sim.add_users([ALICE, BOB, CAROL])
    return await sim.start()


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    simulator = await started()
    yield simulator
    await simulator.stop()


@pytest.fixture(autouse=True)
def _cwd(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # hydrogram appends error ids it does not know to ./unknown_errors.txt
    monkeypatch.chdir(tmp_path)


async def prepare(sim: TelegramSimulator, content: Content) -> PreparedMessage:
    return await HydrogramSender(sim).prepare(content)


def sends(sim: TelegramSimulator) -> int:
    """Send requests the simulator answered, whatever their kind."""
    return sum(n for name, n in sim.request_counts.items() if name.startswith("messages.Send"))


def one(result: Message | list[Message]) -> Message:
    assert isinstance(result, Message)
    return result


async def prepare_kind(sim: TelegramSimulator, kind: str) -> PreparedMessage:
    if kind == "text":
        return await prepare(sim, TextContent("<b>Hi</b>"))
    if kind == "album":
        ids = await sim.seed_album(ADMIN, ["photo", "video"])
        return await prepare(sim, CopyContent(ADMIN, tuple(ids)))
    source = await sim.seed_message(ADMIN, media="photo", caption="Sale")
    return await prepare(sim, CopyContent(ADMIN, (source,), forward=kind == "forward"))


LINKED_4096 = f'<a href="https://t.me"><b>{"x" * 4096}</b></a>'


@pytest.mark.parametrize(
    ("text", "mode", "received", "entities"),
    [
        ('<b>Hi</b> <a href="https://t.me">all</a>', ParseMode.HTML, "Hi all", "BOLD TEXT_LINK"),
        ("**Hi** __all__ <b>", ParseMode.MARKDOWN, "Hi all <b>", "BOLD ITALIC"),
        ("<b>Hi</b> **all**", ParseMode.PLAIN, "<b>Hi</b> **all**", ""),
        (LINKED_4096, ParseMode.HTML, "x" * 4096, "BOLD TEXT_LINK"),
    ],
    ids=["html", "markdown", "plain", "4096-visible-characters-in-markup"],
)
async def test_text_markup_is_rendered(
    sim: TelegramSimulator, text: str, mode: ParseMode, received: str, entities: str
) -> None:
    receipt = await (await prepare(sim, TextContent(text, mode))).send(ALICE)
    (message_id,) = receipt.message_ids

    [got] = sim.inbox(ALICE)
    assert (got.message_id, got.text, got.media) == (message_id, received, None)
    stored = one(await sim.get_messages(ALICE, message_id))
    assert " ".join(e.type.name for e in stored.entities or []) == entities


async def test_text_buttons_and_flags_arrive(sim: TelegramSimulator) -> None:
    rows = ((SITE, UrlButton("Chat", "tg://resolve?domain=shop")), (SITE,))
    content = TextContent("Hi", options=Delivery(buttons=rows, silent=True, protect=True))

    await (await prepare(sim, content)).send(ALICE)

    [got] = sim.inbox(ALICE)
    site = ("Site", "https://example.org")
    assert got.buttons == ((site, ("Chat", "tg://resolve?domain=shop")), (site,))
    assert (got.silent, got.protected, got.forwarded) == (True, True, False)


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        (LINKED_4096.replace("x", "xx", 1), ParseMode.HTML, "after formatting, got 4097"),
        ("<b></b>", ParseMode.HTML, "got 0"),
        ("****", ParseMode.MARKDOWN, "got 0"),
        ('<emoji id="smile">x</emoji>', ParseMode.HTML, "html markup is invalid"),
    ],
)
async def test_bad_text_is_refused_before_any_send(
    sim: TelegramSimulator, text: str, mode: ParseMode, error: str
) -> None:
    with pytest.raises(ContentError, match=error):
        await prepare(sim, TextContent(text, mode))
    assert sends(sim) == 0


async def test_photo_copy_fetches_the_source_once(sim: TelegramSimulator) -> None:
    source = await sim.seed_message(ADMIN, media="photo", caption="Sale today")

    prepared = await prepare(sim, CopyContent(ADMIN, (source,)))
    for user in (ALICE, BOB, CAROL):
        await prepared.send(user)

    for user in (ALICE, BOB, CAROL):
        assert [(m.media, m.text, m.buttons) for m in sim.inbox(user)] == [
            ("photo", "Sale today", ())
        ]
    assert sim.request_counts["messages.GetMessages"] == 1
    assert sim.request_counts["messages.SendMedia"] == 3


@pytest.mark.parametrize(
    ("options", "buttons"),
    [(Delivery(), ("Old", "https://old.example")), (Delivery(((SITE,),)), ("Site", SITE.url))],
    ids=["keeps-original", "replaces"],
)
async def test_copy_buttons_replace_or_keep_the_originals(
    sim: TelegramSimulator, options: Delivery, buttons: tuple[str, str]
) -> None:
    photo = one(await sim.get_messages(ADMIN, await sim.seed_message(ADMIN, media="photo")))
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Old", url="https://old.example")]])
    source = one(await photo.copy(ADMIN, reply_markup=keyboard))

    await (await prepare(sim, CopyContent(ADMIN, (source.id,), options=options))).send(ALICE)

    [got] = sim.inbox(ALICE)
    assert (got.media, got.buttons) == ("photo", ((buttons,),))


async def seed_uncopyable(sim: TelegramSimulator, kind: str) -> int:
    if kind == "long-caption":
        return await sim.seed_message(ADMIN, media="photo", caption="c" * 1025)
    if kind in ("deleted", "missing"):
        source = await sim.seed_message(ADMIN, "gone")
        await sim.delete_messages(ADMIN, source)
        return source if kind == "deleted" else 404
    # The simulator has no seeder for service messages: store one as Telegram would.
    action = (
        raw.types.MessageActionChatEditTitle(title="T")
        if kind == "service"
        else raw.types.MessageActionHistoryClear()  # hydrogram leaves .service None for this
    )
    peer, world = raw.types.PeerUser(user_id=ADMIN), sim.world
    message_id = world.store.next_id(ADMIN)
    message = raw.types.MessageService(
        id=message_id, peer_id=peer, from_id=peer, date=world.date(), action=action
    )
    world.store.put(ADMIN, message)  # type: ignore[arg-type]  # any TL message is stored
    return message_id


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("long-caption", "captions are limited to 1024 characters, got 1025"),
        ("deleted", rf"message \[1\] in chat {ADMIN} no longer exists"),
        ("missing", rf"message \[404\] in chat {ADMIN} no longer exists"),
        ("service", "this kind of message cannot be broadcast"),
        ("unmapped-service", "this kind of message cannot be broadcast"),
    ],
)
async def test_uncopyable_source_is_refused_before_any_send(
    sim: TelegramSimulator, kind: str, error: str
) -> None:
    source = await seed_uncopyable(sim, kind)

    with pytest.raises(ContentError, match=error):
        await prepare(sim, CopyContent(ADMIN, (source,)))
    assert sends(sim) == 0


@pytest.mark.parametrize("which", ["all-ids", "one-id"])
async def test_album_copy_arrives_whole_and_is_fetched_once(
    sim: TelegramSimulator, which: str
) -> None:
    ids = await sim.seed_album(ADMIN, ["photo", ("video", "the clip"), "document"])

    prepared = await prepare(
        sim, CopyContent(ADMIN, tuple(ids) if which == "all-ids" else (ids[1],))
    )
    fetches = sim.request_counts["messages.GetMessages"]
    for user in (ALICE, BOB, CAROL):
        await prepared.send(user)

    expected = [("photo", None), ("video", "the clip"), ("document", None)]
    for user in (ALICE, BOB, CAROL):
        received = sim.inbox(user)
        assert [(m.media, m.text) for m in received] == expected
        assert len({m.grouped_id for m in received}) == 1
        assert received[0].grouped_id is not None
    assert sim.request_counts["messages.GetMessages"] == fetches <= 2
    assert sim.request_counts["messages.SendMultiMedia"] == 3


async def test_forward_arrives_forwarded_and_refuses_buttons(sim: TelegramSimulator) -> None:
    source = await sim.seed_message(ADMIN, "Read this")

    with pytest.raises(ContentError, match="cannot get buttons"):
        await prepare(sim, CopyContent(ADMIN, (source,), True, Delivery(((SITE,),))))
    await (await prepare(sim, CopyContent(ADMIN, (source,), forward=True))).send(ALICE)

    [got] = sim.inbox(ALICE)
    assert (got.text, got.forwarded) == ("Read this", True)


@pytest.mark.parametrize(
    ("fault", "category", "code"),
    [
        (UserState.BLOCKED, ErrorCategory.BLOCKED, "USER_IS_BLOCKED"),
        (UserState.DEACTIVATED, ErrorCategory.DEACTIVATED, "INPUT_USER_DEACTIVATED"),
        (UserState.NEVER_STARTED, ErrorCategory.INVALID, "PEER_ID_INVALID"),
        (("CHAT_WRITE_FORBIDDEN", 403), ErrorCategory.FORBIDDEN, "CHAT_WRITE_FORBIDDEN"),
        (("MESSAGE_TOO_LONG", 400), ErrorCategory.CONTENT, "MESSAGE_TOO_LONG"),
        (("RPC_CALL_FAIL", 500), ErrorCategory.TRANSIENT, "RPC_CALL_FAIL"),
        (TimeoutError("timed out"), ErrorCategory.TRANSIENT, "TimeoutError: timed out"),
        (AttributeError("choked"), ErrorCategory.UNKNOWN, "AttributeError: choked"),
        *(
            pytest.param((e, 403), ErrorCategory.FORBIDDEN, e, id=e)
            for e in ("CHAT_SEND_DOCS_FORBIDDEN", "CHAT_SEND_ROUNDVIDEOS_FORBIDDEN")
        ),
    ],
)
async def test_send_errors_are_categorised(
    sim: TelegramSimulator, fault: Fault, category: ErrorCategory, code: str
) -> None:
    prepared = await prepare_kind(sim, "text")
    if isinstance(fault, UserState):
        sim.set_state(ALICE, fault)
    elif isinstance(fault, BaseException):
        sim.fail_next(ALICE, exception=fault)
    else:
        sim.fail_next(ALICE, error_message=fault[0], error_code=fault[1])

    with pytest.raises(SendError) as caught:
        await prepared.send(ALICE)

    assert (caught.value.category, caught.value.code) == (category, code)
    assert sim.inbox(ALICE) == []


@pytest.mark.parametrize("kind", ["text", "copy", "album", "forward"])
async def test_every_kind_maps_errors_and_flood_waits(kind: str) -> None:
    sim = await started(telegram_limit=1)
    try:
        prepared = await prepare_kind(sim, kind)
        sim.set_state(ALICE, UserState.BLOCKED)
        with pytest.raises(SendError) as blocked:
            await prepared.send(ALICE)
        with pytest.raises(FloodWaitError) as flood:
            await prepared.send(BOB)
    finally:
        await sim.stop()

    assert blocked.value.category is ErrorCategory.BLOCKED
    assert flood.value.seconds >= 1
    assert (sim.flood_waits, sim.sent_total) == (1, 0)


@pytest.mark.parametrize(
    ("error_id", "code", "category"),
    [
        ("USER_IS_BLOCKED", 403, ErrorCategory.BLOCKED),
        ("user_deactivated_ban", 400, ErrorCategory.DEACTIVATED),
        ("PEER_ID_INVALID", 400, ErrorCategory.INVALID),
        ("CHAT_WRITE_FORBIDDEN", 403, ErrorCategory.FORBIDDEN),
        ("ENTITY_BOUNDS_INVALID", 400, ErrorCategory.CONTENT),
        ("RPC_CALL_FAIL", 500, ErrorCategory.TRANSIENT),
        ("SOMETHING_NEW", 502, ErrorCategory.TRANSIENT),
        ("SOMETHING_NEW", -503, ErrorCategory.TRANSIENT),
        ("SOMETHING_NEW", 400, ErrorCategory.UNKNOWN),
        ("CHAT_SEND_ROUNDVIDEOS_FORBIDDEN", 403, ErrorCategory.FORBIDDEN),
        ("CHAT_SEND_POLL_FORBIDDEN", 400, ErrorCategory.FORBIDDEN),
    ],
)
def test_classify_rpc_error(error_id: str, code: int, category: ErrorCategory) -> None:
    assert classify_rpc_error(error_id, code) is category


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (StorageUnavailableError("AutoReconnect: db-2.internal:27017 closed"), "the database was"),
        (FloodWaitError(300), "Telegram asked to wait"),
        (
            SendError(ErrorCategory.TRANSIENT, "TimeoutError: at 10.0.0.7"),
            "Telegram kept failing",
        ),
        (KeyError("secret_field"), "an unexpected error"),
    ],
)
def test_failure_kind_names_the_category_never_the_text(error: Exception, kind: str) -> None:
    text = failure_kind(error)
    assert text.startswith(kind)
    assert not any(secret in text for secret in ("27017", "10.0.0.7", "secret_field", "300"))


@pytest.mark.parametrize(
    "content",
    [
        TextContent("**Hi**", ParseMode.MARKDOWN, Delivery(((SITE, SITE), (SITE,)), silent=True)),
        CopyContent(-1001234567890, (3, 4, 5), options=Delivery(protect=True)),
        CopyContent(ADMIN, (7,), forward=True),
    ],
)
def test_content_document_round_trip(content: Content) -> None:
    assert content_from_document(content_to_document(content)) == content


@pytest.mark.parametrize(
    ("build", "error"),
    [
        (lambda: UrlButton(" ", "https://e.org"), "button text"),
        (lambda: UrlButton("x" * 65, "https://e.org"), "button text"),
        (lambda: UrlButton("Go", "javascript:alert(1)"), "button URL"),
        (lambda: UrlButton("Go", "https://"), "button URL"),
        (lambda: Delivery(buttons=((),)), "rows of 1-8"),
        (lambda: Delivery(buttons=((SITE,),) * 9), "at most 8 rows"),
        (lambda: CopyContent(ADMIN, ()), "at least one"),
        (lambda: CopyContent(ADMIN, (0,)), "at least one"),
        (lambda: CopyContent(ADMIN, tuple(range(1, 12))), "2-10 items, got 11"),
        (lambda: CopyContent(ADMIN, (1, 2), options=Delivery(((SITE,),))), "buttons on an album"),
        (lambda: TextContent(" \n"), "empty"),
        (lambda: content_from_document({"type": "poll"}), "unknown content type 'poll'"),
    ],
)
def test_invalid_content_is_refused(build: Callable[[], object], error: str) -> None:
    with pytest.raises(ContentError, match=error):
        build()


def test_malformed_button_url_is_a_content_error() -> None:
    with pytest.raises(ContentError, match="malformed"):
        UrlButton("Open", "https://[x")


def test_every_send_failure_category_has_words_for_an_admin() -> None:
    assert set(SEND_FAILURES) == set(ErrorCategory)
