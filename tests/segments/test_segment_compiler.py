"""Segment names -> MongoDB filters, compared exactly, with a fixed ``now`` and no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from segments import (
    CustomSegment,
    FieldMap,
    SegmentCatalog,
    SegmentError,
    SegmentKind,
    SegmentParameterError,
    SegmentRef,
    UnknownSegmentError,
    index_fields,
)

NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
BASE: list[dict[str, Any]] = [
    {"role": {"$ne": "banned"}},
    {"bot_blocked_at": None},
    {"deactivated_at": None},
]
BASE_MERGED = {"role": {"$ne": "banned"}, "bot_blocked_at": None, "deactivated_at": None}


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def only(condition: dict[str, Any]) -> dict[str, Any]:
    """The filter of the base conditions and one more."""
    return {"$and": [*BASE, condition]}


VIP = CustomSegment(
    "vip",
    "Paying users active this month",
    {"plan": {"$in": ["pro", "team"]}, "last_seen": {"$gte": "now-30d"}},
)
CATALOG = SegmentCatalog(custom={"vip": VIP}, admin_ids=frozenset({30, 10, 20}))
ADMINS = {"$or": [{"role": "admin"}, {"user_id": {"$in": [10, 20, 30]}}]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("all", BASE_MERGED),
        ("ALL", BASE_MERGED),
        ("premium", only({"is_premium": True})),
        ("admins", only(ADMINS)),
        ("active_30d", only({"last_seen": {"$gte": days_ago(30)}})),
        ("Active_1d", only({"last_seen": {"$gte": days_ago(1)}})),
        ("active_3650d", only({"last_seen": {"$gte": days_ago(3650)}})),
        (
            "inactive_30d",
            only({"$or": [{"last_seen": {"$lt": days_ago(30)}}, {"last_seen": None}]}),
        ),
        ("new_7d", only({"created_at": {"$gte": days_ago(7)}})),
        ("lang:pt", only({"language_code": {"$regex": "^pt(-|$)"}})),
        ("LANG:PT-BR", only({"language_code": {"$regex": "^pt-br(-|$)"}})),
        ("lang:yue", only({"language_code": {"$regex": "^yue(-|$)"}})),
        (
            "vip",
            only({"plan": {"$in": ["pro", "team"]}, "last_seen": {"$gte": days_ago(30)}}),
        ),
        ("  VIP ", only({"plan": {"$in": ["pro", "team"]}, "last_seen": {"$gte": days_ago(30)}})),
    ],
)
def test_each_segment_compiles_to_its_filter(name: str, expected: dict[str, Any]) -> None:
    assert CATALOG.compile([name], [], NOW) == expected


def test_no_segment_is_the_base_filter() -> None:
    assert CATALOG.compile([], [], NOW) == BASE_MERGED == CATALOG.base_filter()


def test_required_terms_come_first_in_the_base() -> None:
    catalog = CATALOG.with_overrides(require_terms=True)
    assert catalog.base_filter() == {"terms_accepted": True, **BASE_MERGED}
    assert catalog.compile(["premium"], [], NOW) == {
        "$and": [{"terms_accepted": True}, *BASE, {"is_premium": True}]
    }


def test_admins_without_admin_ids_is_the_role() -> None:
    catalog = CATALOG.with_overrides(admin_ids=())
    assert catalog.compile(["admins"], [], NOW) == only({"role": "admin"})


@pytest.mark.parametrize(
    ("segments", "excludes", "expected"),
    [
        (
            ["lang:de", "premium"],
            ["admins", "inactive_90d"],
            {
                "$and": [
                    *BASE,
                    {"language_code": {"$regex": "^de(-|$)"}},
                    {"is_premium": True},
                    {
                        "$nor": [
                            ADMINS,
                            {"$or": [{"last_seen": {"$lt": days_ago(90)}}, {"last_seen": None}]},
                        ]
                    },
                ]
            },
        ),
        (["all", "premium"], [], only({"is_premium": True})),
        (["premium", "PREMIUM", "premium"], [], only({"is_premium": True})),
        ([], ["premium"], only({"$nor": [{"is_premium": True}]})),
        (["all"], ["new_7d"], only({"$nor": [{"created_at": {"$gte": days_ago(7)}}]})),
    ],
)
def test_segments_are_anded_and_excludes_nored(
    segments: list[str], excludes: list[str], expected: dict[str, Any]
) -> None:
    assert CATALOG.compile(segments, excludes, NOW) == expected


def test_field_mapping_renames_every_field() -> None:
    fields = FieldMap(
        user_id="uid",
        language_code="lang",
        is_premium="premium",
        created_at="joined_at",
        last_seen="last_active",
        role="status",
        terms_accepted="tos",
        bot_blocked_at="blocked",
        deactivated_at="gone",
    )
    catalog = SegmentCatalog(fields, {"vip": VIP}, admin_ids=frozenset({5}), require_terms=True)
    names = ["premium", "admins", "active_7d", "inactive_7d", "new_7d", "lang:de", "vip"]
    assert catalog.compile(names, [], NOW) == {
        "$and": [
            {"tos": True},
            {"status": {"$ne": "banned"}},
            {"blocked": None},
            {"gone": None},
            {"premium": True},
            {"$or": [{"status": "admin"}, {"uid": {"$in": [5]}}]},
            {"last_active": {"$gte": days_ago(7)}},
            {"$or": [{"last_active": {"$lt": days_ago(7)}}, {"last_active": None}]},
            {"joined_at": {"$gte": days_ago(7)}},
            {"lang": {"$regex": "^de(-|$)"}},
            {"plan": {"$in": ["pro", "team"]}, "last_active": {"$gte": days_ago(30)}},
        ]
    }
    assert index_fields(fields) == [
        "uid",
        "last_active",
        "joined_at",
        "lang",
        "premium",
        "status",
        "blocked",
        "gone",
        "tos",
    ]


def test_custom_filters_resolve_relative_dates_everywhere_but_in_regexes() -> None:
    segment = CustomSegment(
        "dates",
        "",
        {
            "$or": [
                {"trial_ends_at": {"$gte": "now", "$lt": "now+2h"}},
                {"seen": {"$in": ["now-1w", "now-90s", "now-15m"]}},
                {"note": {"$regex": "^now-1d", "$options": "i"}, "label": "nowhere"},
            ]
        },
    )
    catalog = SegmentCatalog(custom={"dates": segment})
    assert catalog.compile(["dates"], [], NOW) == only(
        {
            "$or": [
                {"trial_ends_at": {"$gte": NOW, "$lt": NOW + timedelta(hours=2)}},
                {
                    "seen": {
                        "$in": [
                            NOW - timedelta(weeks=1),
                            NOW - timedelta(seconds=90),
                            NOW - timedelta(minutes=15),
                        ]
                    }
                },
                {"note": {"$regex": "^now-1d", "$options": "i"}, "label": "nowhere"},
            ]
        }
    )
    # The catalog's own filter is left as written.
    assert segment.filter["$or"][0]["trial_ends_at"]["$gte"] == "now"


def test_now_is_made_utc_and_must_be_aware() -> None:
    berlin = NOW.astimezone(timezone(timedelta(hours=1)))
    assert CATALOG.compile(["active_1d"], [], berlin) == only({"last_seen": {"$gte": days_ago(1)}})
    with pytest.raises(ValueError, match="aware"):
        CATALOG.compile(["active_1d"], [], NOW.replace(tzinfo=None))


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("vpi", "vip"),
        ("premum", "premium"),
        ("activ_30d", "active_30d"),
        ("active_30", "active_30d"),
        ("admin", "admins"),
        ("zzzz", None),
    ],
)
def test_unknown_names_suggest_the_closest(name: str, suggestion: str | None) -> None:
    with pytest.raises(UnknownSegmentError) as caught:
        CATALOG.resolve(name)
    message = str(caught.value)
    assert f'Unknown segment "{name}".' in message
    assert caught.value.suggestion == suggestion
    if suggestion:
        assert f'Did you mean "{suggestion}"?' in message
    assert "active_<N>d" in message
    assert "lang:<code>" in message
    assert message.endswith("vip.")
    assert isinstance(caught.value, LookupError | ValueError)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("active_0d", "1-3650"),
        ("inactive_3651d", "1-3650"),
        ("new_5000d", "1-3650"),
        ("active_" + "9" * 5000 + "d", "1-3650"),
        ("active_07d", "like active_7d"),
        ("lang:ENGLISH!!", '"english!!" is not a language code'),
        ("lang:", "not a language code"),
        ("lang:e", "not a language code"),
        ("lang:pt_br", "not a language code"),
    ],
)
def test_bad_parameters_have_their_own_message(name: str, words: str) -> None:
    with pytest.raises(SegmentParameterError, match="^Segment ") as caught:
        CATALOG.resolve(name)
    assert words in str(caught.value)


def test_resolve_gives_canonical_refs() -> None:
    assert CATALOG.resolve("Active_30D") == SegmentRef("active_30d", SegmentKind.ACTIVE, days=30)
    assert CATALOG.resolve("lang:PT-br") == SegmentRef(
        "lang:pt-br", SegmentKind.LANG, language="pt-br"
    )
    assert CATALOG.resolve("VIP") == SegmentRef("vip", SegmentKind.CUSTOM)


def test_check_raises_the_first_problem_and_refuses_excluding_all() -> None:
    CATALOG.check(["vip", "lang:de"], ["admins"])
    with pytest.raises(UnknownSegmentError, match='"nope"'):
        CATALOG.check(["vip", "nope"], ["active_0d"])
    with pytest.raises(SegmentParameterError, match="active_0d"):
        CATALOG.check(["vip"], ["active_0d", "nope"])
    with pytest.raises(SegmentError, match='Excluding "all"'):
        CATALOG.check([], ["ALL"])


@pytest.mark.parametrize(
    ("segments", "excludes", "text"),
    [
        ([], [], "all users"),
        (["all"], [], "all users"),
        (["LANG:DE", "premium"], ["admins"], "lang:de and premium, excluding admins"),
        ([], ["admins", "vip"], "all users, excluding admins and vip"),
    ],
)
def test_describe(segments: list[str], excludes: list[str], text: str) -> None:
    assert CATALOG.describe(segments, excludes) == text


def test_listing_shows_builtins_then_custom() -> None:
    names = [name for name, _ in CATALOG.listing()]
    assert names == [
        "all",
        "premium",
        "admins",
        "active_30d",
        "inactive_30d",
        "new_7d",
        "lang:<code>",
        "vip",
    ]
    assert CATALOG.listing()[-1] == ("vip", "Paying users active this month")


def test_results_are_fresh_copies() -> None:
    first = CATALOG.compile(["vip"], [], NOW)
    first["$and"][-1]["plan"]["$in"].append("free")
    assert CATALOG.compile(["vip"], [], NOW) == only(
        {"plan": {"$in": ["pro", "team"]}, "last_seen": {"$gte": days_ago(30)}}
    )


@pytest.mark.parametrize("name", ["premium", "active_30d", "active_0d"])
def test_custom_segments_cannot_take_builtin_names(name: str) -> None:
    with pytest.raises(SegmentError, match=name):
        SegmentCatalog(custom={name: CustomSegment(name, "", {"a": 1})})
