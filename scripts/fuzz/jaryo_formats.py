"""Schemathesis hooks for jaryo's API fuzzing (scripts/fuzz-api loads them).

jaryo's OpenAPI document gives tags the string format `tag`: one tag as `#tag` in a text reads
(letters, digits, `_`, `-`, `/` in any script; not only digits; at most 64 characters). The
grammar reads text as Markdown, which no JSON Schema pattern can state, so the fuzzer is told
here how to write one. Generated tags are Korean or Latin letters and digits, with `_`, `-`
and `/` inside, with or without a leading `#`.
"""

from hypothesis import strategies as st

import schemathesis

_LETTER = "[A-Za-z가-힣]"
_INNER = "[A-Za-z0-9가-힣_/-]"
_LAST = "[A-Za-z0-9가-힣_]"

tags = st.from_regex(
    rf"\A#?{_LETTER}({_INNER}{{0,40}}{_LAST})?\Z",
    fullmatch=True,
)

schemathesis.openapi.format("tag", tags)
