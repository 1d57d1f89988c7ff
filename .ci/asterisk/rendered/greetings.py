"""Writes the bench customers' greetings (issue 18) as 8 kHz 16-bit mono WAV
files, for Asterisk's AMD() to judge: a person says a short hello (0.5 s of
voice) and then is silent (the silence must be audio frames: AMD() gives up
with NOTSURE when no frames come); a machine plays a long greeting (4 s of
word-like bursts). Usage: python3 greetings.py DIR"""

import math
import sys
import wave

RATE = 8000


def tone(seconds, freq=440.0, amp=9000):
    n = int(seconds * RATE)
    return [int(amp * math.sin(2 * math.pi * freq * i / RATE)) for i in range(n)]


def silence(seconds):
    return [0] * int(seconds * RATE)


def write(path, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))


def main(folder):
    # A person: "hello" (0.5 s), then 9 s of silence while the call waits.
    write(f"{folder}/oml-bench-person.wav", tone(0.5) + silence(9.0))
    # A machine: ten 0.35 s words with 0.05 s between them (no pause long
    # enough to end the greeting), then 2 s of silence.
    words = []
    for i in range(10):
        words += tone(0.35, 300.0 + 40 * i) + silence(0.05)
    write(f"{folder}/oml-bench-machine.wav", words + silence(2.0))


if __name__ == "__main__":
    main(sys.argv[1])
