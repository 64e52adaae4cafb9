"""Personal greetings on the wire: a text or caption filled in for each recipient.

The markup is parsed once, with the placeholders in place (by the sender's
``prepare``); :class:`Part` is one parsed text or caption with its raw entities.
A part without placeholders is filled once, and the request built once serves every
recipient, as before. With placeholders, :class:`Personalizer` loads the values of
a whole claimed batch in one look-up when the pipeline resolves the batch, and fills
each request after it is built: the text gets the recipient's values, literally
(whatever the parse mode), and the entities move with their characters
(:mod:`bot.delivery.placeholders`). A send to someone outside a resolved batch (a
preview, a retry long after) looks its one recipient up.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.delivery.errors import ContentError
from bot.delivery.placeholders import Template, Values
from bot.telegram.peers import MEMORY

log = logging.getLogger(__name__)

#: Loads recipients' values for a batch of ids, in one query: ``{user_id: {field: value}}``.
ProfileLookup = Callable[[Sequence[int]], Awaitable[Mapping[int, Values]]]
_NONE: Values = {}


@dataclass(frozen=True, slots=True)
class Part:
    """One parsed text or caption: its template, raw entities (offsets in the template),
    Telegram's limit for it (4096 for a text, 1024 for a caption) and what it is."""

    template: Template
    entities: tuple[Any, ...]
    limit: int
    what: str = "text"

    def filled(self, values: Values) -> tuple[str, list[Any] | None]:
        """The text and raw entities for a recipient with ``values`` (None: no entities)."""
        filled = self.template.fill(values)
        entities = []
        for entity in self.entities:
            offset, length = filled.span(entity.offset, entity.length)
            if length:
                entities.append(_moved(entity, offset, length))
        return filled.text, entities or None


def part(text: str, entities: Sequence[Any] | None, limit: int, what: str = "text") -> Part:
    """``text`` (parsed) and its raw entities as a :class:`Part`, checked.

    Raises:
        ContentError: An unknown placeholder; too long whatever the values; empty for
            a recipient without values (a placeholder alone, without a fallback).
    """
    template = Template(text)
    if template.personal:
        if template.shortest > limit:
            raise ContentError(
                f"{what} must be at most {limit} characters, got {template.shortest} before names"
            )
        if not template.fill(_NONE).text.strip():
            raise ContentError(
                f"the {what} is empty for a user without values:"
                " give a fallback, {first_name|there}"
            )
    return Part(template, tuple(entities or ()), limit, what)


def request_body(body: Part) -> tuple[dict[str, Any], list[Part] | None]:
    """A request's ``message`` and ``entities``, filled once; and the part to fill per
    recipient when it has placeholders (the request's own are then replaced)."""
    message, entities = body.filled(_NONE)
    return {"message": message, "entities": entities}, [body] if body.template.personal else None


async def no_profiles(user_ids: Sequence[int]) -> Mapping[int, Values]:
    """The :data:`ProfileLookup` of a sender without a users collection: nobody has values."""
    return {}


class Personalizer:
    """The recipients' values of one prepared broadcast, and how they go into a request.

    Args:
        parts: The request's texts in order: one for a message, one per album item.
        lookup: Loads values in batches (the users collection through its field map).
    """

    def __init__(self, parts: Sequence[Part], lookup: ProfileLookup) -> None:
        self.parts = tuple(parts)
        self.lookup = lookup
        self._values: OrderedDict[int, Values] = OrderedDict()

    async def load(self, user_ids: Sequence[int]) -> None:
        """Load a batch's values in one look-up; a failure is logged and left to the sends."""
        try:
            found = await self.lookup(user_ids)
        except Exception:  # each send looks its recipient up again
            log.warning("could not load the values of %d recipients", len(user_ids), exc_info=True)
            return
        for user_id in user_ids:
            self._values[user_id] = found.get(user_id, _NONE)
            self._values.move_to_end(user_id)
        while len(self._values) > MEMORY:
            self._values.popitem(last=False)

    async def values(self, user_id: int) -> Values:
        """A recipient's values: from a loaded batch, else looked up alone.

        Raises:
            StorageUnavailableError: The users collection cannot be read now (nothing was
                sent: the pipeline waits the outage out and sends again).
        """
        found = self._values.get(user_id)
        if found is not None:
            return found
        return (await self.lookup([user_id])).get(user_id, _NONE)

    def apply(self, request: Any, values: Values) -> None:
        """Put the recipient's texts into a request just built (its own, fresh object)."""
        targets = getattr(request, "multi_media", None) or [request]
        for target, one in zip(targets, self.parts, strict=True):
            target.message, target.entities = one.filled(values)


def personal_parts(prepared: object) -> tuple[Part, ...]:
    """The texts a prepared message fills per recipient; () when it is the same for all."""
    personal = getattr(prepared, "personal", None)
    return personal.parts if isinstance(personal, Personalizer) else ()


def _moved(entity: Any, offset: int, length: int) -> Any:
    """A copy of a raw entity at another place (raw objects name their fields in slots)."""
    fields = {name: getattr(entity, name) for name in entity.__slots__}
    return type(entity)(**(fields | {"offset": offset, "length": length}))
