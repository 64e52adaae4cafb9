"""Loading segments files: what is accepted, and every refusal named with its segment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segments import (
    ALLOWED_OPERATORS,
    CustomSegment,
    FieldMap,
    SegmentCatalog,
    SegmentError,
    SegmentFileError,
    load_catalog,
)
from segments.validation import anchoring_problem, filter_problems

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)

GOOD = """
[fields]
last_seen = "last_active"

[segments.vip]
description = "Paying users active this month"
filter = { plan = { "$in" = ["pro", "team"] }, last_seen = { "$gte" = "now-30d" } }

[segments.de_fans.filter]
"$or" = [{ country = "de" }, { tags = { "$all" = ["de"] } }]
joined = { "$lt" = 2024-06-01T00:00:00Z }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "segments.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> SegmentFileError:
    path = write(tmp_path, text)
    with pytest.raises(SegmentFileError) as caught:
        SegmentCatalog.from_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value


def one_segment(query: str) -> str:
    return f"[segments.vip]\nfilter = {query}\n"


def test_a_good_file_loads(tmp_path: Path) -> None:
    catalog = SegmentCatalog.from_file(write(tmp_path, GOOD), admin_ids=[7], require_terms=True)
    assert catalog.fields == FieldMap(last_seen="last_active")
    assert catalog.admin_ids == frozenset({7})
    assert catalog.require_terms
    assert list(catalog.custom) == ["vip", "de_fans"]
    assert catalog.custom["de_fans"] == CustomSegment(
        "de_fans",
        "",
        {
            "$or": [{"country": "de"}, {"tags": {"$all": ["de"]}}],
            "joined": {"$lt": datetime(2024, 6, 1, tzinfo=UTC)},
        },
    )
    assert catalog.compile(["vip"], [], NOW)["$and"][-1] == {
        "plan": {"$in": ["pro", "team"]},
        "last_active": {"$gte": NOW - timedelta(days=30)},
    }
    assert catalog.listing()[-2:] == [
        ("vip", "Paying users active this month"),
        ("de_fans", "(no description)"),
    ]


def test_the_example_file_loads() -> None:
    catalog = load_catalog(ROOT / "segments.example.toml")
    assert set(catalog.custom) == {"vip", "trial_ending", "beta_testers"}
    # copied as the README says, the built-ins keep the names the standalone bot records
    assert (catalog.fields.last_seen, catalog.fields.created_at) == ("last_seen", "created_at")
    compiled = catalog.compile(list(catalog.custom), [], NOW)
    assert len(compiled["$and"]) == 3 + 3


def test_the_example_field_table_maps_a_host_bots_names_once_uncommented(tmp_path: Path) -> None:
    text = (ROOT / "segments.example.toml").read_text(encoding="utf-8")
    for line in ("[fields]", 'last_seen = "last_active"', 'created_at = "joined_at"'):
        assert f"# {line}\n" in text
        text = text.replace(f"# {line}\n", f"{line}\n")
    path = tmp_path / "segments.toml"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(path)
    assert (catalog.fields.last_seen, catalog.fields.created_at) == ("last_active", "joined_at")


def test_no_path_is_the_builtins_only() -> None:
    catalog = load_catalog(None, admin_ids={1}, require_terms=True)
    assert catalog == SegmentCatalog(admin_ids=frozenset({1}), require_terms=True)
    assert not catalog.custom


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(SegmentFileError, match="file not found") as caught:
        load_catalog(path)
    assert str(caught.value) == f"{path}: file not found"
    assert isinstance(caught.value, ValueError)


def test_malformed_toml_reports_line_and_column(tmp_path: Path) -> None:
    error = problems_of(tmp_path, '[segments.vip]\nfilter = { plan = "pro" \n')
    assert "not valid TOML" in str(error)
    assert "line 2" in str(error)


@pytest.mark.parametrize(
    ("query", "operator"),
    [
        ('{ "$where" = "this.plan == 1" }', "$where"),
        ('{ "$function" = { body = "x" } }', "$function"),
        ('{ "$expr" = { "$gt" = ["$a", 1] } }', "$expr"),
        ('{ total = { "$accumulator" = {} } }', "$accumulator"),
        ('{ "$text" = { "$search" = "x" } }', "$text"),
        ('{ "$jsonSchema" = {} }', "$jsonSchema"),
        ('{ "$comment" = "hi" }', "$comment"),
        ('{ n = { "$mod" = [2, 0] } }', "$mod"),
        ('{ n = { "$type" = "int" } }', "$type"),
        ('{ loc = { "$near" = [1, 2] } }', "$near"),
        ('{ n = { "$gtee" = 1 } }', "$gtee"),
        ('{ n = { "$foo" = 1 } }', "$foo"),
        ('{ "$or" = [{ n = { "$not" = { "$where" = "1" } } }] }', "$where"),
        ('{ tags = { "$elemMatch" = { "$expr" = 1 } } }', "$expr"),
        ('{ name = { "$regex" = "abc" } }', "$regex"),
        ('{ name = { "$regex" = "^a(" } }', "$regex"),
        ('{ name = { "$regex" = "^a", "$options" = "g" } }', "$options"),
        ('{ name = { "$options" = "i" } }', "$options"),
    ],
)
def test_forbidden_operators_are_refused(tmp_path: Path, query: str, operator: str) -> None:
    error = problems_of(tmp_path, one_segment(query))
    assert len(error.problems) == 1
    assert error.problems[0].startswith('segment "vip": ')
    assert operator in error.problems[0]


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("^a|b", "has | outside parentheses"),
        ("^ab|^cd", "has | outside parentheses"),
        ("^.*x", "starts with a wildcard"),
        ("^.+x", "starts with a wildcard"),
        ("^(.*x)", "starts with a wildcard"),
        ("\\\\A.*x", "starts with a wildcard"),
    ],
)
def test_a_regex_that_forces_a_full_scan_is_refused(tmp_path: Path, pattern: str, why: str) -> None:
    error = problems_of(tmp_path, one_segment(f'{{ name = {{ "$regex" = "{pattern}" }} }}'))
    assert len(error.problems) == 1
    assert why in error.problems[0]


@pytest.mark.parametrize("pattern", ["^ab", "^(a|b)", "^[|]x", "^a\\\\|b", "\\\\Aab", "^de.*"])
def test_anchored_prefix_regexes_are_accepted(pattern: str) -> None:
    assert anchoring_problem(pattern.replace("\\\\", "\\")) is None


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('{ "$and" = [] }', "non-empty list of tables"),
        ('{ "$or" = { a = 1 } }', "non-empty list of tables"),
        ('{ "$nor" = [1] }', "non-empty list of tables"),
        ('{ n = { "$in" = 1 } }', "needs a list"),
        ('{ n = { "$exists" = 1 } }', "true or false"),
        ('{ n = { "$size" = -1 } }', "0 or more"),
        ('{ n = { "$size" = true } }', "0 or more"),
        ('{ n = { "$not" = "x" } }', "table of operators"),
        ('{ n = { "$not" = { a = 1 } } }', "not field names"),
        ('{ n = { "$gt" = 1, a = 1 } }', "mix operators and field names"),
        ('{ "$gt" = 1 }', "must apply to a field"),
        ('{ n = { "$or" = [{ a = 1 }] } }', "cannot apply to a field"),
        ('{ "" = 1 }', "cannot be empty"),
        ('{ seen = { "$gte" = "now-30 days" } }', "not a relative date"),
        ('{ seen = { "$gte" = "NOW-1d" } }', "not a relative date"),
        ('{ seen = { "$gte" = "now-99999999w" } }', "too far"),
        ('{ seen = { "$gte" = 2024-01-01 } }', "not a full date and time"),
        ('{ seen = { "$gte" = 2024-01-01T00:00:00 } }', "no timezone"),
        ("{}", "filter is empty"),
        ('"plan = 1"', "filter must be a table"),
        ("{ a = " + "{ b = " * 11 + "1" + " }" * 12, "nested deeper than 10"),
    ],
)
def test_structural_mistakes_are_refused(tmp_path: Path, query: str, words: str) -> None:
    error = problems_of(tmp_path, one_segment(query))
    assert error.problems[0].startswith('segment "vip": ')
    assert words in str(error)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = """
[fields]
last_sen = "last_active"
role = 3

[segments.vip]
filter = { "$where" = "1", n = { "$gtee" = 1 } }
filters = {}

[segments.Gold]
filter = { a = 1 }

[segments.premium]
filter = { a = 1 }

[segments.active_7d]
filter = { a = 1 }

[segments.empty]
description = "nothing"

[extra]
x = 1
"""
    path = write(tmp_path, text)
    error = problems_of(tmp_path, text)
    allowed = " ".join(ALLOWED_OPERATORS)
    builtin = "is the name of a built-in segment"
    assert error.problems == (
        'unknown table "extra"; a segments file has [fields] and [segments.<name>]',
        '[fields]: unknown field "last_sen"; did you mean "last_seen"? Known fields: '
        + ", ".join(FieldMap.logical_names()),
        "[fields]: role must be a field name in quotes, got 3",
        'segment "vip": unknown key "filters" (a segment has description and filter)',
        f'segment "vip": operator "$where" is not allowed (allowed: {allowed})',
        f'segment "vip": n: operator "$gtee" is not allowed (allowed: {allowed})',
        'segment "Gold": a name is a lowercase letter, then up to 31 lowercase letters,'
        " digits or _",
        f'segment "premium": "premium" {builtin}',
        f'segment "active_7d": "active_7d" {builtin}',
        'segment "empty": has no filter',
    )
    assert str(error).splitlines() == [f"{path}: {problem}" for problem in error.problems]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            '[fields]\nlast_seen = ""\n',
            '[fields]: field last_seen = "": a field name cannot be empty',
        ),
        ('[fields]\nrole = "$r"\n', "cannot start with $"),
        ('[fields]\nrole = "seen"\nlast_seen = "seen"\n', "already used for last_seen"),
        ('[fields]\nlast_seen = ["a"]\n', "must be a field name in quotes"),
        ('fields = "x"\n', "[fields] must be a table"),
        ("segments = 1\n", "segments must be tables"),
        ("[segments]\nvip = 1\n", 'segment "vip": must be a table'),
        (
            '[fields]\nlast_seen = "last_active"\n'
            "[segments.vip]\nfilter = { last_seen = 1, last_active = 2 }\n",
            '"last_seen" and "last_active" are both "last_active"',
        ),
    ],
)
def test_bad_field_mappings_and_tables(tmp_path: Path, text: str, words: str) -> None:
    assert words in str(problems_of(tmp_path, text))


def test_field_map_refuses_bad_names() -> None:
    with pytest.raises(SegmentError, match="already used for created_at"):
        FieldMap(last_seen="seen", created_at="seen")
    with pytest.raises(SegmentError, match="cannot start with"):
        FieldMap(role="$role")


_FIELD = st.sampled_from(["a", "b.c", "tags", "a", "b.c", "tags", "$where", "$gt", "$foo", ""])
_SCALAR = st.one_of(st.integers(-2, 2), st.booleans(), st.sampled_from(["x", "now-1d", "now-1x"]))
_OPERANDS: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(("$eq", "$ne", "$gt", "$gte", "$lt", "$lte"), _SCALAR),
    **dict.fromkeys(("$in", "$nin", "$all"), st.lists(_SCALAR, max_size=3)),
    "$exists": st.one_of(st.booleans(), st.just(1)),
    "$size": st.integers(-1, 3),
    "$regex": st.sampled_from(["^a", "\\Aa", "abc", "^("]),
    "$options": st.sampled_from(["i", "ms", "g"]),
    **dict.fromkeys(("$where", "$mod", "$type", "$gtee", "$expr", "$text"), _SCALAR),
}
_OPERATORS = st.lists(
    st.sampled_from(sorted(_OPERANDS)), min_size=1, max_size=3, unique=True
).flatmap(lambda ops: st.fixed_dictionaries({op: _OPERANDS[op] for op in ops}))
_LEAVES = st.dictionaries(_FIELD, st.one_of(_SCALAR, _OPERATORS), min_size=1, max_size=3)


def _nested(queries: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    logical = st.sampled_from(["$and", "$or", "$nor", "$expr"])
    return st.one_of(
        st.builds(lambda op, items: {op: items}, logical, st.lists(queries, max_size=2)),
        st.builds(lambda field, inner: {field: {"$elemMatch": inner}}, _FIELD, queries),
        st.builds(lambda field, inner: {field: {"$not": inner}}, _FIELD, _OPERATORS),
    )


_FILTERS = st.recursive(_LEAVES, _nested, max_leaves=8)


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(key for item in value.values() for key in _keys(item))]
    if isinstance(value, list):
        return [key for item in value for key in _keys(item)]
    return []


@settings(max_examples=300, deadline=None)
@given(_FILTERS)
def test_accepted_filters_hold_only_allowed_operators(query: dict[str, Any]) -> None:
    if filter_problems(query):
        return
    operators = {key for key in _keys(query) if key.startswith("$")}
    assert operators <= set(ALLOWED_OPERATORS)
