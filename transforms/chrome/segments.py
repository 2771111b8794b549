"""Text that has lost its line breaks, cut into sentences so the line model has lines to judge.

Some renderers and exports write a whole page as one line (trafilatura's ``html2txt``, many CSV and JSON
exports). A line model that sees one line can only keep or drop all of it, so a text whose lines are very long
is cut after each sentence end first (any script: ``.!?…`` and the full-width ``。！？``).
"""
from __future__ import annotations

import re

# A text is treated as run together when it has a line at least this long: article paragraphs rarely pass
# 2,000 characters, a whole page on one line always does.
RUN_TOGETHER_CHARS = 2000
# A segment is cut after a sentence end (with closing quotes or brackets) followed by white space, or after a
# full-width sentence end (no space follows in Chinese or Japanese).
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+|(?<=[。！？])[」』”’）)]*\s*")


def needs_segmenting(text: str) -> bool:
    """Whether ``text`` has a line too long to be a paragraph.

    >>> needs_segmenting("A short line.\\nAnother one.")
    False
    >>> needs_segmenting("word " * 500)
    True
    """
    return any(len(line) >= RUN_TOGETHER_CHARS for line in text.splitlines())


def split_sentences(line: str) -> list[str]:
    """One long line as its sentences, in order, nothing dropped but the white space between them.

    >>> split_sentences("Home News Sport The bridge reopens. It was shut for a year! Why? “Funds,” he said.")
    ['Home News Sport The bridge reopens.', 'It was shut for a year!', 'Why?', '“Funds,” he said.']
    >>> split_sentences("東京で雨。明日は晴れ。")
    ['東京で雨。', '明日は晴れ。']
    """
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        piece = line[start:end].strip()
        if piece:
            parts.append(piece)
        start = end
    rest = line[start:].strip()
    if rest:
        parts.append(rest)
    return parts


def segment_text(text: str) -> str:
    """``text`` with every line longer than :data:`RUN_TOGETHER_CHARS` cut into sentences, one per line.

    Lines of ordinary length are kept as they are, so text with its line breaks comes back unchanged.

    >>> segment_text("Title\\n" + "One. " * 500).count("\\n")
    500
    >>> segment_text("Title\\n\\nOne. Two.")
    'Title\\n\\nOne. Two.'
    """
    if not needs_segmenting(text):
        return text
    return "\n".join("\n".join(split_sentences(line)) if len(line) >= RUN_TOGETHER_CHARS else line
                     for line in text.splitlines())
