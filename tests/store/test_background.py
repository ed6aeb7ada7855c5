import threading
import time

import pytest

from musicinterp.store.background import BackgroundWriter


def test_items_are_written_in_order_with_bounded_items_alive():
    alive, peak, written = [0], [0], []
    lock = threading.Lock()

    def write(item):
        time.sleep(0.01)
        written.append(item)
        with lock:
            alive[0] -= 1

    with BackgroundWriter(write, in_flight=2) as bg:
        for i in range(8):
            bg.reserve()
            with lock:
                alive[0] += 1
                peak[0] = max(peak[0], alive[0])
            bg.submit(i)
    assert written == list(range(8)) and peak[0] <= 2 and alive[0] == 0


def test_writer_errors_reach_the_producer():
    def write(item):
        if item == 1:
            raise OSError("no space left")

    bg = BackgroundWriter(write, in_flight=1)
    with pytest.raises(OSError, match="no space left"):
        for i in range(5):
            bg.reserve()
            bg.submit(i)
        bg.close()


def test_producer_error_still_finishes_queued_items():
    written = []
    with pytest.raises(KeyError), BackgroundWriter(written.append, in_flight=3) as bg:
        for i in range(2):
            bg.reserve()
            bg.submit(i)
        raise KeyError("producer failed")
    assert written == [0, 1]
    with pytest.raises(ValueError, match="in_flight must be >= 1"):
        BackgroundWriter(print, in_flight=0)


def test_trimmer_hands_pages_back_only_past_its_allowance(monkeypatch):
    import musicinterp.store.background as B

    calls = []
    monkeypatch.setattr(B, "release_freed_memory", lambda: calls.append(1) or True)
    rss = iter([1000, 1500, 3000])  # at creation, then at each call
    monkeypatch.setattr(B, "resident_bytes", lambda: next(rss))
    trim = B.Trimmer(allowance=1000)
    assert trim() is False and calls == []  # grew 500 bytes: kept pages are reused by the next chunk
    assert trim() is True and calls == [1] and trim.trims == 1  # grew 2000: handed back
    monkeypatch.setattr(B, "resident_bytes", lambda: None)
    assert B.Trimmer(allowance=1e12)() is True  # resident memory unknown: always hand back


def test_the_writer_thread_runs_its_release_after_each_item():
    released = []
    with BackgroundWriter(lambda item: None, in_flight=1, release=lambda: released.append(1)) as bw:
        for i in range(3):
            bw.reserve()
            bw.submit(i)
    assert released == [1, 1, 1]


def test_resident_bytes_reads_this_process():
    from musicinterp.store.background import resident_bytes

    rss = resident_bytes()
    assert rss is None or rss > 10 * 2**20  # a Python process with torch loaded holds more than 10 MB
