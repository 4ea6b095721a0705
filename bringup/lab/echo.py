"""A TCP echo of the peer: answers each connection with the address it sees, then closes.

Run in the lab's uplink namespace: `python -m bringup.lab.echo ADDRESS PORT`.
"""

from __future__ import annotations

import asyncio
import sys


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    writer.write(f"{peer[0]}\n".encode())
    try:
        await writer.drain()
    finally:
        writer.close()


async def serve(host: str, port: int) -> None:
    server = await asyncio.start_server(_answer, host, port, reuse_address=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    try:
        asyncio.run(serve(host, port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
