"""Send MIB mebibytes of zeros to HOST:PORT over TCP and print the rate in MB/s.

Why a script rather than `dd | nc`: the clock stops only when the peer has closed after our
half-close, so a userland proxy cannot hide buffered bytes, and a connection refused or reset
(the sink between two of its `nc -l` loops) is retried instead of being timed.
"""

import socket
import sys
import time


def send(host: str, port: int, mib: int) -> float:
    buf = bytes(1 << 20)
    with socket.create_connection((host, port), timeout=60) as s:
        t = time.monotonic()
        for _ in range(mib):
            s.sendall(buf)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
        return mib * 1048576 / (time.monotonic() - t) / 1e6


def main() -> None:
    host, port, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for attempt in range(10):
        try:
            print(f"{send(host, port, mib):.1f}")
            return
        except OSError as exc:
            print(f"attempt {attempt}: {exc}", file=sys.stderr)
            time.sleep(0.3)
    sys.exit(1)


if __name__ == "__main__":
    main()
