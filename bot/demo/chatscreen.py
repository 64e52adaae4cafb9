"""What the admin sees of the interactive demo's chat: numbered messages, numbered buttons.

Every message of the chat shows its number (``#7``), the one ``>7 ...`` replies to;
every button shows the number that presses it (``[3]``). The bot's answers to
button presses (Telegram shows them as a toast) are printed right after the press.
On a terminal, text is styled with rich and an edited message that was the last
thing printed is redrawn in place; anywhere else, plain text and edits below. A file
the bot sends (a report's chart and CSV) is saved into a temporary folder, made when
the first one arrives, and its path is shown under the message.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
from pathlib import Path
from typing import TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from bot.demo.audience import ADMIN_ID
from bot.demo.simulator import ReceivedMessage, SentFile, TelegramSimulator

PROMPT = "you> "
#: Styles of the parts of a line on a terminal.
STYLES = {"bot": "bold cyan", "you": "bold green", "button": "magenta", "toast": "yellow"}
Segment = tuple[str, str]


class ChatScreen:
    """Draws the chat of ``chat_id`` from the simulator's record.

    Args:
        sim: The simulator the bot runs on.
        out: Where the chat is written.
        ansi: A terminal: styled text, edits redrawn in place, a prompt line kept;
            otherwise plain text, edits printed below and typed lines echoed.
        chat_id: The admin's chat.
        files: Where files the bot sends are saved (None: a temporary folder, made when
            the first one arrives).
    """

    def __init__(
        self,
        sim: TelegramSimulator,
        out: TextIO,
        *,
        ansi: bool = False,
        chat_id: int = ADMIN_ID,
        files: Path | None = None,
    ) -> None:
        self.sim, self.out, self.ansi, self.chat_id = sim, out, ansi, chat_id
        self.files = files
        self._saved: dict[int, Path] = {}
        self.console = Console(file=out, highlight=False, emoji=False) if ansi else None
        #: Held while a line of the admin is handled, so the bot's answers print after it.
        self.lock = asyncio.Lock()
        self._shown: dict[int, tuple[object, ...]] = {}
        # A button keeps its number while its message shows it, through every edit.
        self._numbers: dict[tuple[int, str], int] = {}
        self._pressable: dict[int, tuple[int, bytes]] = {}
        self._labels: dict[int, str] = {}
        self._gone: dict[int, tuple[int, bytes]] = {}
        self._next_number = 1
        self._answers_seen = 0
        self._last: tuple[int, int] | None = None  # (message id, lines) printed last
        self._prompting = False
        self._echo_rows = 0  # terminal: rows of the typed line the terminal echoed
        self._echo_line: str | None = None  # elsewhere: the typed line, not yet echoed

    def button(self, n: int) -> tuple[int, bytes] | None:
        """The ``(message_id, callback data)`` of button ``n``, if it is shown."""
        return self._pressable.get(n)

    def gone_button(self, n: int) -> tuple[int, bytes] | None:
        """Button ``n`` of a message that no longer shows it (a late double tap presses it)."""
        return self._gone.get(n)

    def shown_buttons(self) -> list[str]:
        """``[N] label`` of every button shown, in number order."""
        return [f"[{n}] {self._labels.get(n, '')}".rstrip() for n in sorted(self._pressable)]

    def label(self, n: int) -> str:
        """The text of button ``n``."""
        return self._labels.get(n, f"[{n}]")

    async def refresh(self) -> None:
        """Print the bot's answers to presses, then messages that are new or were edited."""
        self._toasts()
        for message in self.sim.inbox(self.chat_id):
            key = (message.text, message.media, message.buttons, message.deleted)
            if self._shown.get(message.message_id) == key:
                continue
            edited = message.message_id in self._shown
            self._shown[message.message_id] = key
            self._forget_buttons(message.message_id)
            if message.deleted:
                continue
            self._draw(message.message_id, self._render(message), in_place=edited)

    def prompt(self) -> None:
        """Show the prompt while waiting for the admin (terminal only)."""
        if self.ansi and not self._prompting:
            self.out.write(PROMPT)
            self.out.flush()
            self._prompting = True

    def typed(self, line: str) -> None:
        """A line the admin typed was read.

        :meth:`said` shows it as sent, with its number, in place of the echo; any other
        output first leaves the echo as it is (terminal) or prints it (elsewhere).
        """
        if self.ansi:
            self._prompting = False
            self._echo_rows = max(1, math.ceil(cell_len(PROMPT + line) / self._width()))
        else:
            self._echo_line = line or None
        self._last = None

    def said(self, what: str, number: int | None = None) -> None:
        """Show what the admin sent (``number``: its message number) or did."""
        if self._echo_rows:
            self.out.write(f"\x1b[{self._echo_rows}F\x1b[J")
        self._echo_rows, self._echo_line = 0, None
        who = f"you #{number}> " if number is not None else PROMPT
        self._emit([(who, "you"), (what, "")])

    def write(self, text: str) -> None:
        """Print ``text`` (and a newline) above the prompt."""
        self._emit([(text, "")])

    def _toasts(self) -> None:
        answers = self.sim.callback_answers
        for answer in answers[self._answers_seen :]:
            if answer.user_id == self.chat_id and answer.text:
                shown = "alert" if answer.alert else "toast"
                self._emit([(f"bot ({shown})> ", "toast"), (answer.text, "toast")])
        self._answers_seen = len(answers)

    def _render(self, message: ReceivedMessage) -> list[Segment]:
        body = message.text or ""
        tags = [message.media] if message.media else []
        if message.grouped_id is not None:
            tags.append("album")
        if message.forwarded:
            tags.append("forwarded")
        if message.file is not None:
            tags[0] = f"{message.media} {message.file.name}, {len(message.file.data):,} bytes"
        if tags:
            body = f"[{', '.join(t for t in tags if t)}] {body}".rstrip()
        segments: list[Segment] = [(f"bot #{message.message_id}> ", "bot"), (body, "")]
        if message.file is not None:
            segments.append((f"\n    saved to {self._save(message.message_id, message.file)}", ""))
        for row in message.buttons:
            segments.append(("\n    ", ""))
            for label, data in row:
                segments += self._button_cells(message.message_id, label, data)
        return segments

    def _save(self, message_id: int, file: SentFile) -> Path:
        """Where the file of message ``message_id`` is saved (once; a name taken by an
        earlier file gets the message's number)."""
        saved = self._saved.get(message_id)
        if saved is None:
            if self.files is None:
                self.files = Path(tempfile.mkdtemp(prefix="broadcast-manager-demo-"))
            saved = self.files / file.name
            if saved in self._saved.values():
                saved = saved.with_name(f"{saved.stem}-{message_id}{saved.suffix}")
            saved.write_bytes(file.data)
            self._saved[message_id] = saved
        return saved

    def _button_cells(self, message_id: int, label: str, data: str | None) -> list[Segment]:
        if data is None:
            return [(f" ({label})", "")]
        if data.startswith(("http://", "https://", "tg://")):
            return [(f" ({label}: {data})", "")]
        n = self._number(message_id, data, label)
        return [(f" [{n}]", "button"), (f" {label} ", "")]

    def _number(self, message_id: int, data: str, label: str) -> int:
        n = self._numbers.get((message_id, data))
        if n is None:
            n, self._next_number = self._next_number, self._next_number + 1
            self._numbers[(message_id, data)] = n
        self._pressable[n] = (message_id, data.encode())
        self._labels[n] = label
        self._gone.pop(n, None)
        return n

    def _forget_buttons(self, message_id: int) -> None:
        for n, (mid, data) in list(self._pressable.items()):
            if mid == message_id:
                self._gone[n] = (mid, data)
                del self._pressable[n]

    def _draw(self, message_id: int, segments: list[Segment], *, in_place: bool) -> None:
        text = self._styled(segments)
        self._clear_prompt()
        self._keep_echo()
        if in_place and self.ansi and self._last is not None and self._last[0] == message_id:
            self.out.write(f"\x1b[{self._last[1]}F\x1b[J")
        self.out.write(text)
        self._last = (message_id, text.count("\n"))
        self._restore_prompt()

    def _emit(self, segments: list[Segment]) -> None:
        self._clear_prompt()
        self._keep_echo()
        self.out.write(self._styled(segments))
        self._last = None
        self._restore_prompt()

    def _styled(self, segments: list[Segment]) -> str:
        """The text of ``segments`` ending in a newline: styled and wrapped on a terminal."""
        if self.console is None:
            joined = "".join(text for text, _ in segments)
            return "".join(line.rstrip() + "\n" for line in joined.split("\n"))
        line = Text.assemble(*((text, STYLES.get(style, "")) for text, style in segments))
        with self.console.capture() as captured:
            self.console.print(line, soft_wrap=False)
        return captured.get()

    def _width(self) -> int:
        return self.console.width if self.console is not None else 80

    def _keep_echo(self) -> None:
        if self._echo_line is not None:
            self.out.write(PROMPT + self._echo_line + "\n")
        self._echo_rows, self._echo_line = 0, None

    def _clear_prompt(self) -> None:
        if self._prompting:
            self.out.write("\r\x1b[K")

    def _restore_prompt(self) -> None:
        if self._prompting:
            self.out.write(PROMPT)
        self.out.flush()
