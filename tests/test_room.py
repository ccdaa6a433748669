"""The room's wall: bounded, rate-limited, anonymous, its summary against plain loops."""

import math
import threading

import numpy as np
import pytest

from core.figures.room import room_wall
from core.presenter import KeyGuard, is_presenter, token, token_valid
from core.room import Room


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


BLANK = np.zeros((28, 28), np.float32)


def test_one_share_per_visitor_every_few_seconds_and_others_unaffected():
    clock = Clock()
    room = Room(every=5.0, clock=clock)
    room.share("a", BLANK, meant=1, read=1, confidence=0.9)
    with pytest.raises(ValueError, match="wait 5 s more"):
        room.share("a", BLANK, meant=2, read=2, confidence=0.9)
    room.share("b", BLANK, meant=2, read=2, confidence=0.9)  # another visitor is not held up
    clock.now = 4.2
    with pytest.raises(ValueError, match="wait 1 s more"):
        room.share("a", BLANK, meant=3, read=3, confidence=0.9)
    clock.now = 5.0
    assert room.share("a", BLANK, meant=3, read=3, confidence=0.9).number == 3
    assert [share.meant for share in room.latest()] == [3, 2, 1]  # newest first


def test_the_wall_is_bounded_and_keeps_the_newest():
    clock = Clock()
    room = Room(capacity=10, every=1.0, author_rate=math.inf, clock=clock)
    for number in range(25):
        clock.now = number
        room.share("a", BLANK, meant=number % 10, read=number % 10, confidence=1.0)
    assert [share.number for share in room.latest()] == list(range(25, 15, -1))
    assert room.summary().count == 10


def test_a_visitor_takes_back_only_their_own_and_the_presenter_hides_or_clears_any():
    room = Room(every=0.0)
    mine = room.share("me", BLANK, meant=4, read=9, confidence=0.6)
    theirs = room.share("them", BLANK, meant=4, read=4, confidence=0.9)
    version = room.version
    assert not room.take_back("me", theirs.number) and room.version == version
    assert room.take_back("me", mine.number) and room.version > version
    assert [share.number for share in room.latest()] == [theirs.number] and room.mine("me") == []
    assert room.hide(theirs.number) and not room.hide(theirs.number)
    room.share("them", BLANK, meant=1, read=1, confidence=0.9)
    room.clear()
    assert room.latest() == []


def test_shares_keep_only_the_28x28_picture_and_valid_digits():
    room = Room(every=0.0)
    share = room.share("a", np.full((28, 28), 0.5, np.float32), meant=7, read=1, confidence=0.55)
    assert share.image.dtype == np.uint8 and share.image.max() == 128 and not share.right
    with pytest.raises(ValueError, match="28x28"):
        room.share("b", np.zeros((280, 280)), meant=1, read=1, confidence=1.0)
    with pytest.raises(ValueError, match="0 to 9"):
        room.share("c", BLANK, meant=10, read=1, confidence=1.0)


def test_the_summary_matches_plain_loops():
    rng = np.random.default_rng(0)
    room = Room(every=0.0, rate=math.inf, burst=1_000, author_burst=1_000)
    pairs = [(int(m), int(r)) for m, r in zip(rng.integers(0, 10, 300), rng.integers(0, 10, 300), strict=True)]
    pairs = [(m, m) if rng.random() < 0.7 else (m, r) for m, r in pairs]
    for meant, read in pairs:
        room.share("a", BLANK, meant=meant, read=read, confidence=1.0)
    summary = room.summary()
    assert summary.accuracy == pytest.approx(sum(m == r for m, r in pairs) / len(pairs))
    for meant in range(10):
        for read in range(10):
            assert summary.confusion[meant, read] == sum(1 for p in pairs if p == (meant, read))
    by_digit = {d: [r == d for m, r in pairs if m == d] for d in range(10)}
    worst = min(by_digit, key=lambda d: np.mean(by_digit[d]))
    assert summary.hardest[0][0] == worst and summary.hardest[0][2] == len(by_digit[worst])
    assert [h[1] for h in summary.hardest] == sorted(h[1] for h in summary.hardest)


def test_concurrent_visitors_each_share_once():
    room = Room(every=60.0, burst=50, author_burst=50)
    threads = [
        threading.Thread(target=room.share, args=(f"v{i}", BLANK), kwargs={"meant": 1, "read": 1, "confidence": 1.0})
        for i in range(50)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(share.number for share in room.latest()) == list(range(1, 51))


def test_the_presenter_key_is_needed_and_never_empty():
    assert is_presenter("s3cret", "s3cret")
    assert not is_presenter("guess", "s3cret") and not is_presenter("", "") and not is_presenter("x", None)


def test_the_wall_names_no_one_and_marks_right_and_wrong():
    room = Room(every=0.0)
    room.share("visitor-token-123", BLANK, meant=3, read=3, confidence=1.0)
    room.share("visitor-token-456", BLANK, meant=5, read=6, confidence=0.6)
    html = room_wall(room.latest())
    assert "visitor-token" not in html and html.count("<img") == 2
    assert "drawing 2: read 6, meant 5" in html and "meant 5" in html and "✓" in html


def test_the_wall_takes_a_limited_rate_from_everyone_together():
    clock = Clock()
    room = Room(every=3.0, rate=2.0, burst=4, author_rate=math.inf, clock=clock)
    for visitor in range(4):  # a burst of new sessions: each may share once, the wall takes four at once
        room.share(f"new {visitor}", BLANK, meant=1, read=1, confidence=1.0)
    with pytest.raises(ValueError, match="many drawings right now"):
        room.share("new 4", BLANK, meant=1, read=1, confidence=1.0)
    clock.now = 10.0  # then two a second, whoever sends them
    taken = 0
    for step in range(40):
        clock.now = 10.0 + step * 0.25
        try:
            room.share(f"fresh {step}", BLANK, meant=1, read=1, confidence=1.0)
            taken += 1
        except ValueError:
            pass
    assert 4 + 18 <= taken <= 4 + 21  # the burst refilled, then 2 per second over 9.75 s


def test_a_guessing_session_waits_longer_after_each_wrong_key_and_nobody_else_waits(caplog):
    clock = Clock()
    guard = KeyGuard("s3cret", clock=clock)
    waits = []
    for guess in range(5):
        assert not guard.check("guesser", f"guess {guess}")
        with pytest.raises(ValueError, match="Wrong key. Wait") as refusal:
            guard.check("guesser", "s3cret")  # even the right key waits: no guessing while it must wait
        waits.append(int(str(refusal.value).split("Wait ")[1].split(" s")[0]))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8, 16]
    for session in range(200):  # a storm from many fresh sessions: each gets one try, the speaker is not held up
        assert not guard.check(f"fresh {session}", "guess")
    assert guard.check("speaker", "s3cret")
    assert "guessing storm" in caplog.text and caplog.text.count("guessing storm") == 1  # once a minute
    assert guard.check("guesser", "s3cret")  # it waited out its last wrong key


def test_a_presenter_token_proves_the_key_without_holding_it():
    given = token("s3cret", now=1_000.0)
    assert "s3cret" not in given and token_valid(given, "s3cret", now=1_000.0)
    assert not token_valid(given, "another key", now=1_000.0)  # a server with another key
    assert not token_valid(given, "s3cret", now=1_000.0 + 13 * 3600)  # expired
    expires, _, signature = given.partition(".")
    assert not token_valid(f"{int(expires) + 10**6}.{signature}", "s3cret", now=1_000.0)  # a longer life forged
    assert not token_valid("", "s3cret") and not token_valid("x" * 10_000, "s3cret") and not token_valid(given, "")


def test_one_address_shares_a_burst_then_one_a_second_however_many_sessions_it_opens():
    clock = Clock()
    room = Room(every=3.0, rate=math.inf, burst=10**6, author_rate=1.0, author_burst=20, clock=clock)
    taken = 0
    for step in range(400):  # 400 fresh sessions from one address over 40 s
        clock.now = step * 0.1
        try:
            room.share(f"session {step}", BLANK, meant=1, read=1, confidence=1.0, author="hall")
            taken += 1
        except ValueError as refusal:
            assert "Your network has shared many drawings lately" in str(refusal)
    assert 20 + 38 <= taken <= 20 + 41  # the burst, then one a second
    room.share("elsewhere", BLANK, meant=2, read=2, confidence=1.0, author="another address")  # not held up


def test_twenty_honest_sessions_behind_one_address_all_share_within_a_minute():
    clock = Clock()
    room = Room(clock=clock)
    for phone in range(20):
        clock.now = phone * 3.0  # within a minute
        room.share(f"phone {phone}", BLANK, meant=phone % 10, read=phone % 10, confidence=1.0, author="hall")
    assert room.authors() == {"hall": 20}


def test_the_presenter_pauses_sharing_and_clears_one_authors_drawings():
    room = Room(every=0.0)
    for number in range(3):
        room.share(f"attacker {number}", BLANK, meant=7, read=1, confidence=1.0, author="attacker")
    room.share("honest", BLANK, meant=3, read=3, confidence=1.0, author="honest")
    assert room.authors() == {"attacker": 3, "honest": 1}
    assert room.clear_author("attacker") == 3 and room.authors() == {"honest": 1}
    room.paused = True
    with pytest.raises(ValueError, match="paused"):
        room.share("honest", BLANK, meant=3, read=3, confidence=1.0, author="honest")
