"""A shuffled order of range(size), chosen by a seed, that is never stored.

A chat's round goes through its images in such an order: the bag keeps only the seed and
how far along it is. Both ways are O(1) in the size: the index at a step, and the step of an
index (has the chat passed it yet?).

It is a small Feistel network over the next power of four up from size, with cycle walking
down to size: a permutation whatever the seed, and as good a shuffle as its round function.
Plain integer arithmetic, so every process, on any machine, finds the same order.
"""

from __future__ import annotations

MASK64 = (1 << 64) - 1
ROUNDS = 8


def mix(value: int) -> int:
    """Scramble a 64-bit value (splitmix64's finaliser): each bit in moves every bit out."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


class Shuffle:
    """The permutation of range(size) that seed and salt choose."""

    __slots__ = ("size", "_half", "_mask", "_keys")

    def __init__(self, seed: int, salt: int, size: int) -> None:
        if size < 1:
            raise ValueError(f"a shuffle needs at least one index, not {size}")
        self.size = size
        # Two halves of `half` bits each: at most four times size, so cycle walking is short.
        self._half = max(1, ((size - 1).bit_length() + 1) // 2)
        self._mask = (1 << self._half) - 1
        key = mix((seed & MASK64) ^ mix(salt & MASK64))
        keys = []
        for _ in range(ROUNDS):
            key = mix(key)
            keys.append(key)
        self._keys = tuple(keys)

    def at(self, step: int) -> int:
        """The index that comes at step (0 <= step < size)."""
        index = self._forward(step)
        while index >= self.size:  # outside range(size): walk on along its cycle
            index = self._forward(index)
        return index

    def step_of(self, index: int) -> int:
        """The step at which index comes (0 <= index < size): at's inverse."""
        step = self._backward(index)
        while step >= self.size:
            step = self._backward(step)
        return step

    def _forward(self, value: int) -> int:
        half, mask = self._half, self._mask
        left, right = value >> half, value & mask
        for key in self._keys:
            left, right = right, left ^ (mix(right ^ key) & mask)
        return (left << half) | right

    def _backward(self, value: int) -> int:
        half, mask = self._half, self._mask
        left, right = value >> half, value & mask
        for key in reversed(self._keys):
            left, right = right ^ (mix(left ^ key) & mask), left
        return (left << half) | right
