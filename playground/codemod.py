"""Writes new defaults into `playground(name, default)` calls in Python source with
libcst, leaving every other byte of the file as it was: what a pull request commits.

A change names the variable and where the worker saw the call (line and function);
the default literal is replaced in place, or the module-level constant it names.
Anything that cannot be rewritten faithfully is refused, and then nothing is."""

import ast
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from typing_extensions import override

from playground.rewrites import Change, RewriteRefused

# The function name the SDK records for a call outside any function.
MODULE_LEVEL = "<module>"
SCALAR_NAMES = {"True", "False", "None"}


@dataclass(frozen=True)
class PlaygroundCall:
    name: str
    function: str
    start: int
    end: int
    default: cst.BaseExpression | None
    # The innermost function around the call, whose own names hide module constants.
    scope: cst.FunctionDef | None


@dataclass(frozen=True)
class Constant:
    """A module-level assignment `NAME = value`."""

    line: int
    value: cst.BaseExpression | None


class CallFinder(cst.CSTVisitor):
    """Every `playground(<literal name>, default)` call with its enclosing function,
    and every module-level assignment to a plain name."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        super().__init__()
        self.functions: list[str] = []
        self.scopes: list[cst.FunctionDef] = []
        self.depth = 0
        self.calls: list[PlaygroundCall] = []
        self.constants: dict[str, list[Constant]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node.name.value)
        self.scopes.append(node)
        self.depth += 1

    @override
    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.scopes.pop()
        self.depth -= 1

    @override
    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.functions.append("<lambda>")

    @override
    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.functions.pop()

    @override
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    @override
    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.depth -= 1

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        called = func.attr.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Name):
            called = func.value
        if called != "playground":
            return
        name_arg = argument(node, 0, "name")
        name = None if name_arg is None else string_value(name_arg)
        if name is None:
            return
        position = self.get_metadata(PositionProvider, node)
        self.calls.append(
            PlaygroundCall(
                name=name,
                function=self.functions[-1] if self.functions else MODULE_LEVEL,
                start=position.start.line,
                end=position.end.line,
                default=argument(node, 1, "default"),
                scope=self.scopes[-1] if self.scopes else None,
            )
        )

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.depth == 0:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.constant(target.target.value, node, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.depth == 0 and isinstance(node.target, cst.Name):
            self.constant(node.target.value, node, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self.depth == 0 and isinstance(node.target, cst.Name):
            self.constant(node.target.value, node, None)

    def constant(self, name: str, statement: cst.CSTNode, value: cst.BaseExpression | None) -> None:
        line = self.get_metadata(PositionProvider, statement).start.line
        # A value shared by several targets (`A = B = "x"`) is no single constant.
        self.constants.setdefault(name, []).append(Constant(line, value))


class LocalNames(cst.CSTVisitor):
    """The names a function binds itself: parameters and assignment targets."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Param(self, node: cst.Param) -> None:
        self.names.add(node.name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.names.update(names_in(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.names.update(names_in(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.names.update(names_in(node.target))

    def visit_For(self, node: cst.For) -> None:
        self.names.update(names_in(node.target))

    def visit_AsName(self, node: cst.AsName) -> None:
        self.names.update(names_in(node.name))

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.names.update(names_in(node.target))


def names_in(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple | cst.List):
        return {name for element in target.elements for name in names_in(element.value)}
    if isinstance(target, cst.StarredElement):
        return names_in(target.value)
    return set()


def binds(function: cst.FunctionDef, name: str) -> bool:
    local = LocalNames()
    function.visit(local)
    return name in local.names


def argument(call: cst.Call, index: int, keyword: str) -> cst.BaseExpression | None:
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if index < len(positional):
        return positional[index].value
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def string_value(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def is_formatted(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.FormattedString):
        return True
    if isinstance(node, cst.ConcatenatedString):
        return is_formatted(node.left) or is_formatted(node.right)
    return False


def is_literal(node: cst.BaseExpression) -> bool:
    """A value the rewrite can stand in for: strings, numbers, booleans, None, and
    lists, tuples and dicts of them."""
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        return string_value(node) is not None
    if isinstance(node, cst.Integer | cst.Float):
        return True
    if isinstance(node, cst.Name):
        return node.value in SCALAR_NAMES
    if isinstance(node, cst.UnaryOperation):
        return isinstance(node.operator, cst.Minus | cst.Plus) and isinstance(
            node.expression, cst.Integer | cst.Float
        )
    if isinstance(node, cst.List | cst.Tuple):
        return all(
            isinstance(element, cst.Element) and is_literal(element.value)
            for element in node.elements
        )
    if isinstance(node, cst.Dict):
        return all(
            isinstance(element, cst.DictElement)
            and is_literal(element.key)
            and is_literal(element.value)
            for element in node.elements
        )
    return False


def code_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def shown(node: cst.CSTNode) -> str:
    text = " ".join(code_of(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


def find_call(calls: Sequence[PlaygroundCall], change: Change) -> PlaygroundCall:
    """The call at the recorded line, else the only one of that name in the function."""
    named = [call for call in calls if call.name == change.name]
    in_function = [call for call in named if call.function == change.function]
    at_line = [call for call in in_function if call.start <= change.line <= call.end]
    if len(at_line) == 1:
        return at_line[0]
    if len(at_line) > 1:
        raise RewriteRefused(
            change.name, f"line {change.line} has {len(at_line)} playground calls of that name"
        )
    if len(in_function) == 1:
        return in_function[0]
    where = "at module level" if change.function == MODULE_LEVEL else f"in {change.function}()"
    if len(in_function) > 1:
        lines = ", ".join(str(call.start) for call in in_function)
        raise RewriteRefused(
            change.name,
            f"the call moved from line {change.line}, and {where} there are "
            f"{len(in_function)} calls of that name (lines {lines}): which one is meant "
            "is ambiguous",
        )
    raise RewriteRefused(
        change.name,
        f"no playground('{change.name}', ...) call at line {change.line} or anywhere "
        f"{where}; the file has changed since the worker ran it",
    )


def default_node(
    call: PlaygroundCall, name: str, constants: dict[str, list[Constant]]
) -> cst.BaseExpression:
    """The literal to replace: the call's default, or the constant it names."""
    default = call.default
    if default is None:
        raise RewriteRefused(name, f"the call at line {call.start} has no default argument")
    if is_literal(default):
        return default
    if is_formatted(default):
        raise RewriteRefused(
            name,
            f"its default {shown(default)} is an f-string, computed when the step runs; "
            "make it a plain string to edit it from the playground",
        )
    if isinstance(default, cst.Name):
        if call.scope is not None and binds(call.scope, default.value):
            raise RewriteRefused(
                name,
                f"its default is the name {default.value}, which {call.function}() binds "
                "itself, not a module-level constant",
            )
        assigned = constants.get(default.value, [])
        if not assigned:
            raise RewriteRefused(
                name,
                f"its default is the name {default.value}, which is not a constant "
                "assigned at the module's top level",
            )
        if len(assigned) > 1:
            lines = ", ".join(str(constant.line) for constant in assigned)
            raise RewriteRefused(
                name,
                f"its default is the constant {default.value}, which is assigned more than "
                f"once at module level (lines {lines})",
            )
        value = assigned[0].value
        if value is None or not is_literal(value):
            raise RewriteRefused(
                name,
                f"its default is the constant {default.value}, whose value "
                f"{'' if value is None else shown(value) + ' '}is computed, not a literal",
            )
        return value
    raise RewriteRefused(
        name, f"its default {shown(default)} is computed when the step runs, not a literal"
    )


@dataclass(frozen=True)
class StringStyle:
    prefix: str = ""
    quote: str = '"'
    # A triple-quoted string that opens with a backslash-newline keeps doing so.
    continues: bool = False


def style_of(node: cst.CSTNode) -> StringStyle:
    """The style of the first plain string in `node`, else double quotes."""
    if isinstance(node, cst.SimpleString):
        raw_value = node.raw_value
        continues = len(node.quote) == 3 and raw_value.startswith(("\\\n", "\\\r"))
        return StringStyle(node.prefix, node.quote, continues and "r" not in node.prefix.lower())
    if isinstance(node, cst.ConcatenatedString):
        return style_of(node.left)
    for child in node.children:
        if isinstance(child, cst.BaseExpression | cst.BaseElement | cst.BaseDictElement):
            found = style_of(child)
            if found != StringStyle():
                return found
    return StringStyle()


def escaped(text: str, quote: str, newline: str) -> str:
    """The body of a non-raw string literal in `quote` that reads back as `text`;
    printable unicode stays as it is."""
    triple = len(quote) == 3
    mark = quote[0]
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == mark:
            # In triple quotes only a quote that could close the string is escaped.
            closes = not triple or index == len(text) - 1 or text[index + 1] == mark
            out.append("\\" + char if closes else char)
        elif char == "\n":
            out.append(newline if triple else "\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return "".join(out)


def raw_body(text: str, quote: str, newline: str) -> str | None:
    """The body of a raw string in `quote` for `text`, if one can express it."""
    triple = len(quote) == 3
    fits = (
        quote[0] not in text
        and not text.endswith("\\")
        and all(char.isprintable() or (triple and char == "\n") for char in text)
    )
    return text.replace("\n", newline) if fits else None


def string_literal(text: str, style: StringStyle, newline: str, *, multiline: bool) -> str:
    """`text` as a literal in `style` where it can be; a multi-line text moves into
    triple quotes when `multiline` allows."""
    prefix, quote = style.prefix, style.quote
    if multiline and "\n" in text and len(quote) == 1:
        quote *= 3
    if not multiline and len(quote) == 3:
        quote = quote[0]
    if "r" in prefix.lower():
        body = raw_body(text, quote, newline)
        if body is not None:
            return prefix + quote + body + quote
        prefix = prefix.replace("r", "").replace("R", "")
    opening = "\\" + newline if style.continues and len(quote) == 3 and "\n" in text else ""
    return prefix + quote + opening + escaped(text, quote, newline) + quote


def python_literal(
    value: Any, style: StringStyle, newline: str, *, as_float: bool = False, indent: str = ""
) -> str:
    """Python source for a JSON value; `indent` (of the line the old value started
    on) spreads a list or dict over lines, one item a line."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        # A float default keeps its style, as long as the float holds the number exactly.
        return repr(float(value)) if as_float and abs(value) <= 2**53 else repr(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return string_literal(value, style, newline, multiline=False)
    if isinstance(value, list):
        items = [python_literal(item, style, newline) for item in value]
        return bracketed("[", "]", items, newline, indent)
    items = [
        f"{python_literal(key, style, newline)}: {python_literal(item, style, newline)}"
        for key, item in value.items()
    ]
    return bracketed("{", "}", items, newline, indent)


def bracketed(opening: str, closing: str, items: list[str], newline: str, indent: str) -> str:
    if not indent or not items:
        return opening + ", ".join(items) + closing
    inner = newline.join(f"{indent}    {item}," for item in items)
    return f"{opening}{newline}{inner}{newline}{indent}{closing}"


def check_value(name: str, value: Any) -> None:
    """Only JSON values: what a variable holds."""
    if isinstance(value, float) and not math.isfinite(value):
        raise RewriteRefused(name, f"{value} has no literal in Python source")
    if isinstance(value, list):
        for item in value:
            check_value(name, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise RewriteRefused(name, f"the key {key!r} is not a string")
            check_value(name, item)
    elif not (value is None or isinstance(value, str | int | float | bool)):
        raise RewriteRefused(name, f"a {type(value).__name__} is not a JSON value")


def replacement(
    name: str, value: Any, old: cst.BaseExpression, newline: str, line_indent: str
) -> cst.BaseExpression:
    check_value(name, value)
    style = style_of(old)
    spread = "\n" in code_of(old) and isinstance(value, list | dict)
    if isinstance(value, str):
        text = string_literal(value, style, newline, multiline=True)
    else:
        text = python_literal(
            value,
            style,
            newline,
            as_float=isinstance(old, cst.Float)
            or (isinstance(old, cst.UnaryOperation) and isinstance(old.expression, cst.Float)),
            indent=line_indent if spread else "",
        )
    if ast.literal_eval(text.replace(newline, "\n")) != value:
        raise RewriteRefused(name, "the new value cannot be written as a Python literal")
    new = cst.parse_expression(text).visit(Unindented())
    if not isinstance(new, cst.BaseExpression):
        raise TypeError(f"Unindented turned an expression into {type(new).__name__}")
    if isinstance(old, cst.Tuple):
        # A tuple's parentheses are its own; a list needs none.
        return new
    # Parentheses around the old value belong to the code around it.
    return new.with_changes(lpar=old.lpar, rpar=old.rpar)


class Unindented(cst.CSTTransformer):
    """The new value's line breaks carry their whole indentation, so libcst must not
    add the enclosing block's."""

    @override
    def leave_ParenthesizedWhitespace(
        self, original_node: cst.ParenthesizedWhitespace, updated_node: cst.ParenthesizedWhitespace
    ) -> cst.ParenthesizedWhitespace:
        return updated_node.with_changes(indent=False)


class Replacer(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, cst.BaseExpression]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        return self.replacements.get(original_node, updated_node)


def rewrite_defaults(source: str, changes: Sequence[Change]) -> str:
    """`source` with each change's default rewritten, and every other byte kept; all
    of them, or none (RewriteRefused)."""
    if not changes:
        return source
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        names = ", ".join(sorted({change.name for change in changes}))
        raise RewriteRefused(names, f"the file no longer parses ({error.message})") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    finder = CallFinder()
    wrapper.visit(finder)
    positions = wrapper.resolve(PositionProvider)
    lines = re.split("\r\n|\r|\n", source)
    replacements: dict[cst.CSTNode, cst.BaseExpression] = {}
    chosen: dict[cst.CSTNode, Change] = {}
    for change in changes:
        old = default_node(find_call(finder.calls, change), change.name, finder.constants)
        earlier = chosen.get(old)
        if earlier is not None:
            if earlier.value != change.value or type(earlier.value) is not type(change.value):
                raise RewriteRefused(
                    change.name,
                    f"its default is shared with '{earlier.name}', which would get "
                    f"another value ({json.dumps(earlier.value)[:40]})",
                )
            continue
        start = positions[old].start.line
        line = lines[start - 1] if start <= len(lines) else ""
        indent = line[: len(line) - len(line.lstrip())]
        replacements[old] = replacement(
            change.name, change.value, old, module.default_newline, indent
        )
        chosen[old] = change
    return module.visit(Replacer(replacements)).code
