"""The Fletcher-64 sum: the same for any split of the bytes, changed by any flipped bit or moved line."""

import hashlib
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from musicinterp.store.checksum import Fletcher64, damaged, hasher, verify_bytes


def _digest(*parts) -> str:
    h = Fletcher64()
    for part in parts:
        h.update(part)
    return h.hexdigest()


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=5))
def test_any_split_of_the_bytes_gives_the_same_sum(data, cuts):
    points = sorted({min(c, len(data)) for c in cuts})
    parts = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    assert _digest(*parts) == _digest(data) and len(_digest(data)) == 32


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=1, max_size=5000), at=st.integers(0, 10**6), bit=st.integers(0, 7))
def test_every_flipped_bit_changes_it(data, at, bit):
    damaged_data = bytearray(data)
    damaged_data[at % len(data)] ^= 1 << bit
    assert _digest(bytes(damaged_data)) != _digest(data)


def test_moved_lines_cut_tails_and_cancelling_flips_in_two_lines_change_it():
    data = bytearray(np.random.default_rng(0).bytes(4096))
    swapped = data[512:1024] + data[:512] + data[1024:]
    assert _digest(bytes(swapped)) != _digest(bytes(data))
    assert _digest(bytes(data[:-1])) != _digest(bytes(data)) != _digest(bytes(data) + b"\0")
    a, b = bytearray(data), 0
    a[8] |= 0x10  # the same bit set in one line and cleared in another: the plain sum cancels, the weighted one not
    b = 1024 + next(i for i in range(0, 512, 8) if a[1024 + i] & 0x10)
    a[b] &= ~0x10 & 0xFF
    if a[8] != data[8]:
        assert _digest(bytes(a)) != _digest(bytes(data))


def test_it_runs_many_times_faster_than_sha256():
    data = np.random.default_rng(1).bytes(32 << 20)
    times = {}
    for name in ("fletcher64", "sha256"):
        best = 1e9
        for _ in range(3):
            h, t0 = hasher(name), time.perf_counter()
            h.update(data)
            h.hexdigest()
            best = min(best, time.perf_counter() - t0)
        times[name] = best
    assert times["fletcher64"] * 4 < times["sha256"]


def test_verify_bytes_names_the_file():
    data = b"abc" * 1000
    verify_bytes("f.bin", data, ("sha256", hashlib.sha256(data).hexdigest()), ValueError)
    verify_bytes("f.bin", data, None, ValueError)
    with pytest.raises(ValueError, match="f.bin: fails its Fletcher-64 checksum"):
        verify_bytes("f.bin", data, ("fletcher64", "0" * 32), ValueError)
    assert "CRC-32" in damaged("x", "crc32")
