"""The API's JSON parser: DRF's, refusing bodies nested deeper than any Cadence request needs.

Python's json module parses nested arrays and objects recursively, so a body of a thousand
``[`` raised RecursionError, a 500; one just under the interpreter's limit parsed, and then broke
whatever walked it next. The nesting is measured before parsing, on the text, with strings
skipped, and a body deeper than ``MAX_JSON_DEPTH`` is a 400 naming the limit.
"""

import codecs
import re

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json

#: The deepest request body Cadence reads. Its deepest requests (a strategy with its steps, a
#: suggestion rule's parameters) are 4 levels deep; this leaves room for any JSON field.
MAX_JSON_DEPTH = 32

# A JSON string (escapes included) or a bracket: what the depth count looks at, at C speed.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``; brackets inside strings do not
    count. Malformed text gives some number: the parser refuses it afterwards anyway."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, with a 400 for a body nested deeper than ``MAX_JSON_DEPTH``."""

    max_depth = MAX_JSON_DEPTH

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth(text) > self.max_depth:
            raise ParseError(
                f"JSON parse error - the body is nested more than {self.max_depth} levels deep."
            )
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
