"""Documents the bot uploads, through hydrogram's own ``send_document`` and ``save_file``:
the simulator answers the parts and the send, and the recipient holds the file."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hydrogram import Client, errors, raw
from hydrogram.methods.advanced import save_file as save_file_module
from hydrogram.session import Session

from bot.demo.simulator import SimRpcError, TelegramSimulator
from bot.demo.simulator.model import access_hash_for
from bot.demo.simulator.uploads import PART_MAX, UploadedParts

ALICE = 11


@pytest.fixture
async def sim() -> AsyncIterator[TelegramSimulator]:
    simulator = TelegramSimulator(telegram_limit=1000, chat_burst=1000)
    simulator.add_user(ALICE, first_name="Alice")
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_a_document_sent_by_path_arrives_with_its_name_type_and_bytes(
    sim: TelegramSimulator, tmp_path: Path
) -> None:
    data = os.urandom(PART_MAX * 2 + 1000)  # three parts
    path = tmp_path / "ledger.csv"
    path.write_bytes(data)

    message = await sim.send_document(ALICE, str(path), caption="The ledger")

    assert message is not None
    assert (message.document.file_name, message.document.mime_type) == ("ledger.csv", "text/csv")
    assert message.document.file_size == len(data)
    [received] = sim.inbox(ALICE)
    assert (received.media, received.text) == ("document", "The ledger")
    assert received.file is not None
    assert (received.file.name, received.file.mime_type) == ("ledger.csv", "text/csv")
    assert received.file.data == data
    assert sim.request_counts["upload.SaveFilePart"] == 3
    assert sim.request_counts["messages.SendMedia"] == 1


async def test_a_file_from_memory_and_a_big_file_arrive_whole(
    sim: TelegramSimulator,
) -> None:
    small = io.BytesIO(b"\x89PNG not really")
    small.name = "chart.png"
    big = io.BytesIO(os.urandom(10 * 1024 * 1024 + 1))  # past 10 MiB: SaveBigFilePart
    big.name = "big.bin"

    await sim.send_document(ALICE, small)
    await sim.send_document(ALICE, big, file_name="big.bin")

    first, second = (m.file for m in sim.inbox(ALICE))
    assert first is not None
    assert (first.name, first.mime_type, first.data) == ("chart.png", "image/png", small.getvalue())
    assert second is not None
    assert second.data == big.getvalue()
    assert sim.request_counts["upload.SaveBigFilePart"] == 21


async def test_a_send_naming_parts_never_uploaded_is_refused(sim: TelegramSimulator) -> None:
    parts = raw.types.InputFile(id=77, parts=1, name="x.csv", md5_checksum="")
    media = raw.types.InputMediaUploadedDocument(file=parts, mime_type="text/csv", attributes=[])
    send = raw.functions.messages.SendMedia(
        peer=raw.types.InputPeerUser(user_id=ALICE, access_hash=access_hash_for(ALICE)),
        media=media,
        message="",
        random_id=1,
    )

    with pytest.raises(errors.FilePartMissing) as refused:
        await sim.invoke(send)

    assert refused.value.value == 0
    assert sim.inbox(ALICE) == []


def test_parts_are_checked_as_telegram_checks_them() -> None:
    parts = UploadedParts()
    parts.save(5, 0, b"abc")
    parts.save(5, 2, b"ghi")
    with pytest.raises(SimRpcError, match="FILE_PART_1_MISSING"):
        parts.take(raw.types.InputFile(id=5, parts=3, name="f", md5_checksum=""))
    parts.save(5, 1, b"def")
    wrong = hashlib.md5(b"other").hexdigest()
    with pytest.raises(SimRpcError, match="MD5_CHECKSUM_INVALID"):
        parts.take(raw.types.InputFile(id=5, parts=3, name="f", md5_checksum=wrong))
    right = hashlib.md5(b"abcdefghi").hexdigest()
    assert parts.take(raw.types.InputFile(id=5, parts=3, name="f", md5_checksum=right)) == (
        b"abcdefghi"
    )
    with pytest.raises(SimRpcError, match="FILE_PART_TOO_BIG"):
        parts.save(6, 0, bytes(PART_MAX + 1))


async def test_other_clients_upload_through_hydrogram_s_own_session() -> None:
    real = Client("real", in_memory=True)

    module: Any = save_file_module
    session = module.Session(real, 2, bytes(256), False, is_media=True)

    assert type(session) is Session
