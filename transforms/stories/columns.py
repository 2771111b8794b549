"""Column storage of the story index: growable numpy columns, and strings laid out as Arrow lays them out,
so that a stored article costs bytes rather than Python objects."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .arrays import ranges


class Column:
    """A numpy array grown by a quarter (at least 1024 rows) when full: appends cost amortized O(1), no
    Python object per row, and at most a fifth of it is slack. ``data[:size]`` holds the rows.

    >>> column = Column(np.int32)
    >>> column.extend(np.array([1, 2])); column.append(3)
    >>> column.view.tolist(), len(column.data) >= 1024
    ([1, 2, 3], True)
    """

    def __init__(self, dtype: type, width: int = 0, values: np.ndarray | None = None) -> None:
        if values is None:
            self.data = np.empty((0, width) if width else (0,), dtype=dtype)
        else:  # adopted as is when it can be written in place, else copied (a view of a read-only buffer)
            self.data = np.asarray(values, dtype=dtype)
            if not (self.data.flags.writeable and self.data.flags.c_contiguous):
                self.data = self.data.copy()
        self.size = len(self.data)

    def reserve(self, extra: int) -> None:
        needed = self.size + extra
        if needed > len(self.data):
            grown = np.empty((max(needed, len(self.data) + len(self.data) // 4 + 1024),) + self.data.shape[1:],
                             dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown

    def extend(self, values: np.ndarray) -> None:
        self.reserve(len(values))
        self.data[self.size: self.size + len(values)] = values
        self.size += len(values)

    def append(self, value: object) -> None:
        self.reserve(1)
        self.data[self.size] = value
        self.size += 1

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


@dataclass(frozen=True)
class TextColumn:
    """Strings (or bytes) laid out as Arrow does: row i is ``data[offsets[i]:offsets[i + 1]]`` (UTF-8),
    null where ``valid`` is False (None: no nulls). A list of str objects costs about 50 bytes more per row.

    >>> column = TextColumn.of(["ab", None, "é"])
    >>> column.offsets.tolist(), column.data, column.tolist()
    ([0, 2, 2, 4], b'ab\\xc3\\xa9', ['ab', None, 'é'])
    """

    offsets: np.ndarray  # int64, rows + 1
    data: bytes
    valid: np.ndarray | None = None  # bool per row

    @classmethod
    def of(cls, values: Sequence[str | bytes | None]) -> "TextColumn":
        encoded = [b"" if v is None else v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        return cls(offsets, b"".join(encoded), None if valid.all() else valid)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def tolist(self) -> list[str | None]:
        return decode(self.data, self.offsets, self.valid)


def decode(data: bytes | bytearray, offsets: np.ndarray, valid: np.ndarray | None) -> list[str | None]:
    """The strings of a :class:`TextColumn` layout.

    >>> decode(b"abcd", np.array([0, 1, 4]), np.array([True, False]))
    ['a', None]
    """
    bounds = offsets.tolist()
    if isinstance(data, memoryview):
        data = data.tobytes()
    if data.isascii():  # one decode; byte offsets are character offsets
        text = data.decode("ascii")
        values = [text[s:e] for s, e in zip(bounds[:-1], bounds[1:])]
    else:
        view = memoryview(data)
        values = [str(view[s:e], "utf-8") for s, e in zip(bounds[:-1], bounds[1:])]
    if valid is not None:
        values = [v if ok else None for v, ok in zip(values, valid.tolist())]
    return values


@dataclass(frozen=True)
class CodedColumn:
    """Strings with few distinct values (stories, sites) as numbers into ``names``; -1 for null.

    >>> column = CodedColumn.of(["x", None, "y", "x"])
    >>> column.codes.tolist(), column.names, column.tolist()
    ([0, -1, 1, 0], ['x', 'y'], ['x', None, 'y', 'x'])
    """

    codes: np.ndarray  # int32
    names: list[str]

    @classmethod
    def of(cls, values: Sequence[str | None]) -> "CodedColumn":
        numbers: dict[str, int] = {}
        codes = np.fromiter((-1 if v is None else numbers.setdefault(v, len(numbers)) for v in values),
                            dtype=np.int32, count=len(values))
        return cls(codes, list(numbers))

    def tolist(self) -> list[str | None]:
        names = self.names + [None]  # code -1 picks the last
        return [names[c] for c in self.codes.tolist()]


class Strings:
    """An append-only :class:`TextColumn`: one byte buffer, offsets and validity that grow in place.

    >>> strings = Strings(TextColumn.of(["a"]))
    >>> strings.append("é"); strings.extend([None, "b"])
    >>> len(strings), strings[1], strings[2], strings.tolist()
    (4, 'é', None, ['a', 'é', None, 'b'])
    """

    def __init__(self, column: TextColumn | None = None) -> None:
        column = column or TextColumn(np.zeros(1, dtype=np.int64), b"")
        self.data = bytearray(column.data[int(column.offsets[0]): int(column.offsets[-1])])
        self.offsets = Column(np.int64, values=column.offsets - column.offsets[0])
        self.valid = Column(bool, values=np.ones(len(column), dtype=bool) if column.valid is None else column.valid)

    def __len__(self) -> int:
        return self.valid.size

    def append(self, value: str) -> None:
        encoded = value.encode("utf-8")
        self.data += encoded
        self.offsets.append(self.offsets.data[self.offsets.size - 1] + len(encoded))
        self.valid.append(True)

    def __getitem__(self, row: int) -> str | None:
        if not self.valid.data[row]:
            return None
        return self.data[self.offsets.data[row]: self.offsets.data[row + 1]].decode("utf-8")

    def extend(self, values: Sequence[str | None]) -> None:
        column = TextColumn.of(values)
        self.offsets.extend(column.offsets[1:] + self.offsets.data[self.offsets.size - 1])
        self.data += column.data
        self.valid.extend(np.ones(len(values), dtype=bool) if column.valid is None else column.valid)

    def column(self) -> TextColumn:
        valid = self.valid.view
        return TextColumn(self.offsets.view.copy(), bytes(self.data), None if valid.all() else valid.copy())

    def tolist(self) -> list[str | None]:
        valid = self.valid.view
        return decode(self.data, self.offsets.view, None if valid.all() else valid)


def hex_keys(keys: TextColumn, has: np.ndarray) -> np.ndarray:
    """64-bit keys from their 16-hex-digit spelling (0 where ``has`` is False).

    >>> hex_keys(TextColumn.of(["00000000000000ff", None]), np.array([True, False])).tolist()
    [255, 0]
    """
    out = np.zeros(len(keys), dtype=np.uint64)
    if not has.any():
        return out
    offsets = keys.offsets
    if (np.diff(offsets)[has] == 16).all():
        where = ranges(offsets[:-1][has], np.full(int(has.sum()), 16))
        digits = np.frombuffer(keys.data, dtype=np.uint8)[where].tobytes()
        out[has] = np.frombuffer(bytes.fromhex(digits.decode("ascii")), dtype=">u8")
        return out
    values = keys.tolist()
    out[has] = [int(values[i], 16) for i in np.flatnonzero(has).tolist()]
    return out


def held_bytes(owner: object) -> int:
    """Bytes held by an object's columns, arrays, strings and containers: the rows in use (the growth slack
    at a column's end is never written, so it takes address space, not memory). Dict keys are not counted:
    they are the names the lists hold."""
    total = 0
    for value in vars(owner).values():
        if isinstance(value, Column):
            total += value.view.nbytes
        elif isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, Strings):
            total += len(value.data) + value.offsets.view.nbytes + value.valid.view.nbytes
        elif isinstance(value, (list, dict, set)):
            total += sys.getsizeof(value) + sum(map(sys.getsizeof, value if isinstance(value, list) else ()))
    return total
