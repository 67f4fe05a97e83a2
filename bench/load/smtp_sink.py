"""The load test's mail server: a real SMTP server (aiosmtpd) on loopback, in a process of
its own, that writes the Message-ID of every message it accepts to a file, one a line,
flushed at once (so the count survives whatever happens to the other processes).

    .venv/bin/python bench/load/smtp_sink.py PORT FILE
"""

import asyncio
import logging
import signal
import sys
from email.parser import BytesHeaderParser


class Sink:
    def __init__(self, path: str) -> None:
        self.out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 — lives with the process
        self.parser = BytesHeaderParser()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        headers = self.parser.parsebytes(envelope.original_content or envelope.content)
        self.out.write(f"{(headers['Message-ID'] or '').strip()}\n")
        return "250 OK"


def main() -> None:
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(path), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"SMTP sink listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
