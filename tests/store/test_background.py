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
