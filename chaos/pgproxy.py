"""A TCP proxy the chaos suite puts between a service and PostgreSQL, to make the database
refuse connections on demand.

    python -m chaos.pgproxy LISTEN_PORT TARGET_HOST TARGET_PORT

It forwards every connection to the target. ``SIGUSR1``: stop listening and cut every open
connection (a client then gets "connection refused", as from a database that is down);
``SIGUSR2``: listen again. It prints ``accepting`` / ``refusing`` on stdout after each change.
Plain asyncio in its own process, so the suite's own load never slows the service's queries.
"""
import asyncio
import signal
import sys


class Proxy:
    def __init__(self, port, target_host, target_port):
        self.port = port
        self.target = (target_host, target_port)
        self.server = None
        self.transports = set()

    async def accept(self):
        if self.server is None:
            self.server = await asyncio.start_server(self.handle, "127.0.0.1", self.port,
                                                     reuse_address=True)
        print("accepting", flush=True)

    def refuse(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for transport in list(self.transports):
            transport.abort()
        self.transports.clear()
        print("refusing", flush=True)

    async def handle(self, reader, writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, upstream_writer.transport}
        self.transports |= pair
        try:
            await asyncio.gather(self.pipe(reader, upstream_writer),
                                 self.pipe(upstream_reader, writer))
        finally:
            self.transports -= pair

    @staticmethod
    async def pipe(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except Exception:
                pass


async def main(port, target_host, target_port):
    proxy = Proxy(port, target_host, target_port)
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, proxy.refuse)
    loop.add_signal_handler(signal.SIGUSR2, lambda: loop.create_task(proxy.accept()))
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    await proxy.accept()
    await stopped.wait()
    proxy.refuse()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
