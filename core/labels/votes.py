"""The room's labels of one shared set of digits: each phone labels them, the room's label of a digit is its most
voted, and the presenter trains once on those instead of fifty runs in line.

In this server's memory, bounded: a visitor's latest label per digit counts, at most MAX_VOTERS visitors, and at
most ADDRESS_VOTERS sessions of one client address (a session costs a client nothing)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

from core.pictures.data import NUM_CLASSES

MAX_VOTERS = 1_000
ADDRESS_VOTERS = 20  # a row of phones behind one hall's router


class Votes:
    def __init__(self, digits: Sequence[int], *, max_voters: int = MAX_VOTERS, address_voters: int = ADDRESS_VOTERS):
        self.digits = tuple(int(digit) for digit in digits)
        self.max_voters, self.address_voters = max_voters, address_voters
        self._labels: dict[str, dict[int, int]] = {}  # voter -> digit -> label
        self._address: dict[str, str] = {}  # voter -> their client address
        self._lock = threading.Lock()

    def vote(self, voter: str, address: str, digit: int, label: int | None) -> bool:
        """The voter's label of `digit` (None takes it back); False if it does not count (not one of the room's
        digits, no such label, or too many voters here or from this address)."""
        if digit not in self.digits or (label is not None and not 0 <= label < NUM_CLASSES):
            return False
        with self._lock:
            if voter not in self._labels:
                from_address = sum(known == address for known in self._address.values())
                if len(self._labels) >= self.max_voters or from_address >= self.address_voters:
                    return False
                self._labels[voter], self._address[voter] = {}, address
            if label is None:
                self._labels[voter].pop(digit, None)
            else:
                self._labels[voter][digit] = int(label)
            return True

    def voters(self) -> int:
        with self._lock:
            return sum(bool(labels) for labels in self._labels.values())

    def tally(self) -> dict[int, tuple[int, int, int]]:
        """digit -> (its most voted label, that label's votes, all its votes), for the digits with a vote; a tie goes
        to the smaller label."""
        with self._lock:
            counts = {digit: Counter() for digit in self.digits}
            for labels in self._labels.values():
                for digit, label in labels.items():
                    counts[digit][label] += 1
        return {
            digit: (*min(count.items(), key=lambda item: (-item[1], item[0])), sum(count.values()))
            for digit, count in counts.items()
            if count
        }

    def clear(self) -> None:
        with self._lock:
            self._labels.clear()
            self._address.clear()
