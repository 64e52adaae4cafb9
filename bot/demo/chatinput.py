"""What the admin types in the interactive demo, read into an action (pure, no I/O).

The syntax (shown in the banner and by ``:help``):

- ``text`` or ``/command``: a message to the bot;
- ``N``: press button ``[N]``; ``N N``: press it twice at once (a double tap);
- ``>M line``: ``line`` (any of these) as a reply to message ``#M``;
- ``:photo [caption]`` (and ``:video``, ``:document``, ``:audio``, ``:voice``,
  ``:animation``, ``:sticker``, ``:video_note``): a sample file;
- ``:album photo,video[,...] [caption]``: an album of samples;
- ``:file PATH [caption]``: a file of this machine, sent as a document;
- ``:forward [M]``: forward message ``#M`` into the chat (without ``M``: a post of
  the sample channel);
- ``:comeback [N]``: N users (default 1) who had blocked the bot unblock it and
  write ``/start``, so a retry has someone to bring the broadcast to;
- ``:say text``: ``text`` as it is (a bare number is a button press otherwise);
- ``:help``: this list; ``/quit``: leave.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.simulator import MEDIA_KINDS
from bot.demo.simulator.media import ALBUM_KINDS

QUIT = "/quit"

SYNTAX = """\
In this demo:
  text or /command          a message to the bot
  N                         press button [N]; "N N" presses it twice at once (a double tap)
  >M text                   reply to message #M (">M /broadcast" broadcasts a copy of #M)
  :photo [caption]          a sample photo; also :video :document :audio :voice
                            :animation :sticker :video_note
  :album photo,video [cap]  an album of samples (2-10 of photo, video, document, audio)
  :file PATH [caption]      a file of this machine, sent as a document
  :forward [M]              forward message #M into the chat (alone: a channel post)
  :comeback [N]             N users who had blocked the bot come back (for a retry)
  :say text                 text as it is, e.g. ":say 42" sends 42 (not a press)
  :help                     this list;  /quit or Ctrl-D to leave
Any of these can follow ">M " to be a reply."""


@dataclass(frozen=True, slots=True)
class Say:
    """A text message (a command or not)."""

    text: str
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """Press button ``number``, ``times`` times at once."""

    number: int
    times: int = 1


@dataclass(frozen=True, slots=True)
class SendMedia:
    """A sample file of ``kind`` with a caption."""

    kind: str
    caption: str = ""
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class SendAlbum:
    """An album of sample files; the caption goes on the first."""

    kinds: tuple[str, ...]
    caption: str = ""
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class SendFile:
    """A local file, sent as a document."""

    path: str
    caption: str = ""
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class Forward:
    """Forward message ``message_id`` of the chat (None: the sample channel's post)."""

    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ComeBack:
    """``count`` users who had blocked the bot unblock it and write to it."""

    count: int = 1


@dataclass(frozen=True, slots=True)
class Help:
    """Show the syntax."""


@dataclass(frozen=True, slots=True)
class Quit:
    """Leave the demo."""


@dataclass(frozen=True, slots=True)
class Mistake:
    """A line that reads as none of the above; ``why`` says what was expected."""

    why: str


Action = Say | Press | SendMedia | SendAlbum | SendFile | Forward | ComeBack | Help | Quit | Mistake


def read_line(line: str) -> Action | None:
    """The action ``line`` asks for; None for an empty line."""
    line = line.strip()
    if not line:
        return None
    if line == QUIT:
        return Quit()
    if line.startswith(">"):
        return _reply(line[1:])
    words = line.split()
    if all(word.isdecimal() for word in words) and len(words) <= 2 and len(set(words)) == 1:
        return Press(int(words[0]), times=len(words))
    if line.startswith(":"):
        return _colon(line, None)
    return Say(line)


def _reply(rest: str) -> Action:
    number, _, line = rest.strip().partition(" ")
    if not number.isdecimal() or not line.strip():
        return Mistake('a reply is ">M text": the number of a message (#M), a space, then text')
    reply_to, line = int(number), line.strip()
    if line.startswith(":"):
        action = _colon(line, reply_to)
        if isinstance(action, Forward | ComeBack | Help):
            return Mistake(f"{line.split()[0]} cannot be a reply")
        return action
    return Say(line, reply_to)


def _colon(line: str, reply_to: int | None) -> Action:
    name, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    if name in MEDIA_KINDS:
        return SendMedia(name, rest, reply_to)
    if name == "album":
        return _album(rest, reply_to)
    if name == "file":
        return _file(rest, reply_to)
    if name == "forward":
        return _forward(rest)
    if name == "comeback":
        return _come_back(rest)
    if name == "help":
        return Help()
    if name == "say":
        return Say(rest, reply_to) if rest else Mistake(":say takes the text to send")
    return Mistake(f"unknown :{name}; :help lists what there is")


def _file(rest: str, reply_to: int | None) -> Action:
    path, _, caption = rest.partition(" ")
    if not path:
        return Mistake(":file takes a path, e.g. :file ./report.pdf")
    return SendFile(path, caption.strip(), reply_to)


def _forward(rest: str) -> Action:
    if not rest:
        return Forward()
    number = rest.removeprefix("#")
    if not number.isdecimal():
        return Mistake(":forward takes the number of a message, e.g. :forward 3")
    return Forward(int(number))


def _album(rest: str, reply_to: int | None) -> Action:
    listed, _, caption = rest.partition(" ")
    kinds = tuple(kind for kind in listed.split(",") if kind)
    if not 2 <= len(kinds) <= 10 or any(kind not in ALBUM_KINDS for kind in kinds):
        allowed = ", ".join(sorted(ALBUM_KINDS))
        return Mistake(f":album takes 2-10 of {allowed} separated by commas, e.g. photo,video")
    return SendAlbum(kinds, caption.strip(), reply_to)


def _come_back(rest: str) -> Action:
    if not rest:
        return ComeBack()
    if not rest.isdecimal() or not 1 <= int(rest) <= 1000:
        return Mistake(":comeback takes how many users come back (1-1000), e.g. :comeback 3")
    return ComeBack(int(rest))
