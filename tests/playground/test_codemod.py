"""Rewriting the default of a playground(...) call: every other byte stays, the new
value reads back equal, and what cannot be rewritten faithfully is refused."""

import ast
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from playground.codemod import rewrite_defaults
from playground.rewrites import Change, RewriteRefused

STEP = '''"""Support replies."""

from hatchet.sdk import Context

TONE = "warm"  # the house tone


class Support:
    def draft(self, context: Context) -> dict:
        # The prompt the product team tunes.
        system = context.playground("system_prompt", {literal})  # keep me
        return {{"system": system}}
'''


def step(literal: str) -> str:
    return STEP.format(literal=literal)


def rewritten(literal: str, value: Any, *, line: int = 11) -> str:
    return rewrite_defaults(step(literal), [Change("system_prompt", "draft", line, value)])


@pytest.mark.parametrize(
    ("old", "value", "new"),
    [
        ('"You are kind."', "Be brief.", '"Be brief."'),
        ("'You are kind.'", "Be brief.", "'Be brief.'"),
        ("'You are kind.'", "Don't", "'Don\\'t'"),
        ('"You are kind."', 'Say "hi"', '"Say \\"hi\\""'),
        ('"""You are kind."""', "Be brief.", '"""Be brief."""'),
        ("'''You are kind.'''", "Be\nbrief.", "'''Be\nbrief.'''"),
        ('"You are kind."', "Line one.\nLine two.", '"""Line one.\nLine two."""'),
        ("'You are kind.'", "One.\nTwo.", "'''One.\nTwo.'''"),
        ('"""You are kind."""', 'Ends with a quote"', '"""Ends with a quote\\""""'),
        ('"""You are kind."""', 'Three """ quotes', '"""Three \\"\\"" quotes"""'),
        ('"""\\\nYou are kind.\n"""', "One.\nTwo.\n", '"""\\\nOne.\nTwo.\n"""'),
        ('r"\\d+ kind"', "\\w+ brief", 'r"\\w+ brief"'),
        ('r"\\d+ kind"', 'a "quote"', '"a \\"quote\\""'),
        ('r"\\d+ kind"', "ends in \\", '"ends in \\\\"'),
        ('u"kind"', "brief", 'u"brief"'),
        ('"kind"', "tab\there, nul\x00, bell\x07", '"tab\\there, nul\\x00, bell\\x07"'),
        ('"kind"', "back\\slash", '"back\\\\slash"'),
        ('"kind"', "Réponds en français ☃ 🎉", '"Réponds en français ☃ 🎉"'),
        ('"kind"', "zero\u200bwidth", '"zero\\u200bwidth"'),
        ('"kind"', "cr\rlf", '"cr\\rlf"'),
        ('"kind"', "", '""'),
        # Implicit concatenation: the whole expression becomes one string.
        ('"You are " "kind."', "Be brief.", '"Be brief."'),
        (
            "(\n            'You are '\n            'kind.'\n        )",
            "Brief.",
            "(\n            'Brief.'\n        )",
        ),
        # Numbers, booleans, lists and dicts.
        ("0.3", 0.7, "0.7"),
        ("0.3", 1, "1.0"),
        ("80", 120, "120"),
        ("80", -5, "-5"),
        ("-0.5", 0.25, "0.25"),
        ("False", True, "True"),
        ("None", "now set", '"now set"'),
        ('["billing", "bug"]', ["refund"], '["refund"]'),
        ("['billing']", ["a", "b's"], "['a', 'b\\'s']"),
        (
            '{"tone": "warm", "max": 3}',
            {"tone": "cold", "n": [1, 2.5, None]},
            '{"tone": "cold", "n": [1, 2.5, None]}',
        ),
        ('("a", "b")', ["c"], '["c"]'),
        ("[]", [], "[]"),
    ],
)
def test_the_literal_is_replaced_and_nothing_else(old: str, value: Any, new: str) -> None:
    assert rewritten(old, value) == step(new)


def test_a_list_spread_over_lines_stays_spread_with_the_same_indentation() -> None:
    old = '[\n            "billing",  # money\n            "bug",\n        ]'
    new = '[\n            "refund",\n            "outage",\n        ]'
    assert rewritten(old, ["refund", "outage"]) == step(new)


def test_the_default_given_by_keyword_is_rewritten() -> None:
    source = 'def draft(context):\n    return context.playground(name="p", default="old")\n'
    changed = rewrite_defaults(source, [Change("p", "draft", 2, "new")])
    assert (
        changed == 'def draft(context):\n    return context.playground(name="p", default="new")\n'
    )


def test_a_module_level_constant_is_rewritten_and_the_call_kept() -> None:
    assert rewritten("TONE", "cold") == step("TONE").replace('TONE = "warm"', 'TONE = "cold"')


def test_an_annotated_constant_is_rewritten() -> None:
    source = 'PROMPT: str = (\n    "a "\n    "b"\n)\n\n\ndef f(c):\n    c.playground("p", PROMPT)\n'
    changed = rewrite_defaults(source, [Change("p", "f", 8, "c")])
    assert changed == 'PROMPT: str = (\n    "c"\n)\n\n\ndef f(c):\n    c.playground("p", PROMPT)\n'


def test_a_call_that_moved_is_found_by_name_in_its_function() -> None:
    source = step('"You are kind."').replace("# The prompt", "# Three new lines\n\n\n# The")
    changed = rewrite_defaults(source, [Change("system_prompt", "draft", 11, "Be brief.")])
    assert changed == source.replace('"You are kind."', '"Be brief."')


def test_a_multi_line_call_is_found_by_any_of_its_lines() -> None:
    source = (
        "def draft(context):\n"
        "    return context.playground(\n"
        '        "p",\n'
        '        "old",  # comment\n'
        "    )\n"
    )
    for line in (2, 3, 4, 5):
        changed = rewrite_defaults(source, [Change("p", "draft", line, "new")])
        assert changed == source.replace('"old"', '"new"')


def test_several_changes_in_one_file() -> None:
    source = (
        "import os\n\n\n"
        "def classify(ctx):\n"
        '    labels = ctx.playground("labels", ["a"])\n'
        '    strict = ctx.playground("strict", False)\n\n\n'
        "def draft(ctx):\n"
        '    return ctx.playground("labels", ["b"])  # the same name elsewhere\n'
    )
    changed = rewrite_defaults(
        source,
        [
            Change("labels", "classify", 5, ["x"]),
            Change("strict", "classify", 6, True),
            Change("labels", "draft", 10, ["y"]),
        ],
    )
    assert changed == (
        source.replace('["a"]', '["x"]').replace("False", "True").replace('["b"]', '["y"]')
    )


def test_a_call_at_module_level_and_a_bare_function_call() -> None:
    source = 'from x import playground\nLIMIT = playground("limit", 3)\n'
    changed = rewrite_defaults(source, [Change("limit", "<module>", 2, 10)])
    assert changed == source.replace("3)", "10)")


def test_windows_line_endings_stay_windows_line_endings() -> None:
    source = 'def f(c):\r\n    c.playground("p", "x")\r\n'
    changed = rewrite_defaults(source, [Change("p", "f", 2, "a\nb")])
    assert changed == 'def f(c):\r\n    c.playground("p", """a\r\nb""")\r\n'


def test_two_variables_sharing_a_constant_may_get_the_same_value_only() -> None:
    source = 'P = "x"\n\n\ndef f(c):\n    c.playground("a", P)\n    c.playground("b", P)\n'
    same = [Change("a", "f", 5, "y"), Change("b", "f", 6, "y")]
    assert rewrite_defaults(source, same) == source.replace('P = "x"', 'P = "y"')
    with pytest.raises(RewriteRefused, match="'b': its default is shared with 'a'"):
        rewrite_defaults(source, [Change("a", "f", 5, "y"), Change("b", "f", 6, "z")])


SECOND_CALL = "context.playground('system_prompt', 'y')\n        return"
REFUSED = [
    (step('f"You are {TONE}."'), 11, 'its default f"You are {TONE}." is an f-string'),
    (step('"You are " f"{TONE}."'), 11, "is an f-string"),
    (step('"You are " + TONE'), 11, 'its default "You are " + TONE is computed'),
    (step("build_prompt()"), 11, "its default build_prompt() is computed"),
    (step("[TONE]"), 11, "its default [TONE] is computed"),
    (step("b'bytes'"), 11, "its default b'bytes' is computed"),
    (step("local_name"), 11, "the name local_name, which is not a constant"),
    (step("TONE").replace("(self, ", "(self, TONE, "), 11, "TONE, which draft() binds itself"),
    (
        step("TONE").replace('TONE = "warm"', 'TONE = "warm".upper()'),
        11,
        'the constant TONE, whose value "warm".upper() is computed',
    ),
    (step("TONE") + 'TONE = "cold"\n', 11, "assigned more than once at module level (lines 5, 13)"),
    (
        step('"x"').replace("draft(self", "write(self"),
        11,
        "no playground('system_prompt', ...) call at line 11 or anywhere in draft()",
    ),
    (step('"x"').replace('"system_prompt"', '"prompt"'), 11, "or anywhere in draft()"),
    (step('"x"').replace("return", SECOND_CALL), 40, "which one is meant is ambiguous"),
    (step('"x"').replace("class Support:", "class Support"), 11, "the file no longer parses"),
    ('def draft(c):\n    c.playground("system_prompt")\n', 2, "has no default argument"),
]


@pytest.mark.parametrize(("source", "line", "reason"), REFUSED)
def test_what_cannot_be_rewritten_is_refused_with_the_variable_and_why(
    source: str, line: int, reason: str
) -> None:
    with pytest.raises(RewriteRefused) as refused:
        rewrite_defaults(source, [Change("system_prompt", "draft", line, "new")])
    assert refused.value.name == "system_prompt"
    assert str(refused.value).startswith("Cannot rewrite the default of 'system_prompt': ")
    assert reason in refused.value.reason


def test_two_calls_of_the_name_in_the_function_are_ambiguous_once_moved() -> None:
    source = 'def draft(c):\n    a = c.playground("p", "one")\n    b = c.playground("p", "two")\n'
    with pytest.raises(RewriteRefused, match="lines 2, 3\\): which one is meant is ambiguous"):
        rewrite_defaults(source, [Change("p", "draft", 9, "x")])
    # At a recorded line, the duplicate is no ambiguity.
    assert rewrite_defaults(source, [Change("p", "draft", 3, "x")]) == source.replace("two", "x")


def test_nothing_is_written_when_one_change_is_refused() -> None:
    source = step('"kind"').replace(
        "return", 'x = context.playground("x", f"{TONE}")\n        return'
    )
    with pytest.raises(RewriteRefused, match="'x': its default"):
        rewrite_defaults(
            source,
            [Change("system_prompt", "draft", 11, "new"), Change("x", "draft", 12, "y")],
        )


def test_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(RewriteRefused, match="has no literal"):
        rewritten("0.3", float("nan"))


def test_no_changes_return_the_source_as_it_is() -> None:
    assert rewrite_defaults("not python at all (", []) == "not python at all ("


# Property: whatever the text and whatever the old literal's shape, the rest of the
# file is byte-identical and the argument reads back equal.
SHAPES = [
    '"You are kind."',
    "'You are kind.'",
    '"""You are\nkind."""',
    "'''You are kind.'''",
    'r"\\d kind"',
    "R'''raw\ntext'''",
    '"You are " "kind."',
    "(\n            'a'\n            'b'\n        )",
    "0.3",
    "['a', 'b']",
]
PREFIX, SUFFIX = step("<<>>").split("<<>>")


def argument_of(source: str) -> Any:
    [call] = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "playground"
    ]
    return ast.literal_eval(call.args[1])


def check_round_trip(shape: str, value: Any) -> None:
    changed = rewritten(shape, value)
    assert changed.startswith(PREFIX)
    assert changed.endswith(SUFFIX)
    assert len(changed) >= len(PREFIX) + len(SUFFIX)
    assert argument_of(changed) == value
    middle = changed[len(PREFIX) : len(changed) - len(SUFFIX)]
    assert ast.literal_eval(middle) == value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), text=st.text())
def test_any_text_survives_a_rewrite_and_reads_back_equal(shape: str, text: str) -> None:
    check_round_trip(shape, text)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), value=JSON)
@example(shape="0.3", value=2**53 + 1)  # a whole number no float holds exactly
def test_any_json_value_survives_a_rewrite_and_reads_back_equal(shape: str, value: Any) -> None:
    check_round_trip(shape, value)
