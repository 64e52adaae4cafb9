"""The demo's simulated audience: who exists, in which state, and their user documents."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.app import utc_now
from bot.demo.simulator import TelegramSimulator, UserState
from bot.storage.mongo import Database

ADMIN_ID = 1_000_001
#: The simulated audience's languages, in turn by user id.
LANGUAGES = ("en", "en", "de", "ru", "es", "pt-br")
FIRST_USER_ID = 2_000_000


@dataclass(frozen=True, slots=True)
class SimulatedAudience:
    """The simulated users of each state the demo seeds."""

    active: list[int]
    blocked: list[int]
    deactivated: list[int]


def auto_concurrency(rate: float, latency_ms: float) -> int:
    """Enough workers that latency does not eat the rate: twice the sends in flight."""
    return max(8, min(256, math.ceil(2 * rate * latency_ms / 1000) + 4))


def split_audience(users: int, blocked: float, deactivated: float, seed: int) -> SimulatedAudience:
    """Assign each simulated user a state, exactly ``round(fraction * users)`` of each."""
    ids = list(range(FIRST_USER_ID, FIRST_USER_ID + users))
    shuffled = ids[:]
    random.Random(seed).shuffle(shuffled)
    n_blocked, n_gone = round(blocked * users), round(deactivated * users)
    return SimulatedAudience(
        active=sorted(shuffled[n_blocked + n_gone :]),
        blocked=sorted(shuffled[:n_blocked]),
        deactivated=sorted(shuffled[n_blocked : n_blocked + n_gone]),
    )


async def seed_users(db: Database, sim: TelegramSimulator, audience: SimulatedAudience) -> None:
    """Put the audience into the simulator and into the users collection."""
    sim.add_user(ADMIN_ID, first_name="Admin")
    sim.add_users(audience.active)
    sim.add_users(audience.blocked, UserState.BLOCKED)
    sim.add_users(audience.deactivated, UserState.DEACTIVATED)
    now = utc_now()
    ids = sorted(audience.active + audience.blocked + audience.deactivated)
    for start in range(0, len(ids), 5000):
        await db["users"].insert_many(
            [user_document(uid, now) for uid in ids[start : start + 5000]]
        )


def user_document(uid: int, now: datetime) -> dict[str, Any]:
    """A simulated user with a language, a premium flag and activity spread out by id."""
    return {
        "user_id": uid,
        "first_name": f"User {uid}",
        "language_code": LANGUAGES[uid % len(LANGUAGES)],
        "is_premium": uid % 7 == 0,
        "terms_accepted": True,
        "created_at": now - timedelta(days=uid % 365),
        "last_seen": now - timedelta(days=uid % 30, hours=uid % 24),
    }
