"""Keep-alive HTTP/1.1 connections to one service, as lean as the proxy can use them.

A request goes out in one write (its body too when the proxy has it whole) and its answer
is parsed by httptools as it arrives. aiohttp did this before: its bookkeeping per request
(a URL object, multidict headers, a cookie jar, tracing, timers, a stream reader) was about
40% of the gateway's CPU per proxied read (bench/gateway at c=1 on 2 loaded cores: about
1,500 us of gateway CPU a request through aiohttp, about 870 us here).

Each connection carries one request at a time. Idle ones are reused newest first and
dropped once idle for `keepalive_seconds`, before the service's own keep-alive closes them.
"""

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httptools

# Unread answer bytes held per connection before reading from the service pauses.
READ_BUFFER_BYTES = 256 * 1024
NO_BODY_STATUSES = frozenset({204, 304})


class Refused(Exception):
    """No connection could be opened: the request never left."""


class Broken(Exception):
    """The connection failed after the request may have been sent."""


class ServicePool:
    def __init__(self, url: str, *, limit: int, connect_seconds: float, keepalive_seconds: float):
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.host_header = b"host: " + parts.netloc.encode("idna") + b"\r\n"
        self._connect_seconds = connect_seconds
        self._keepalive_seconds = keepalive_seconds
        self._slots = asyncio.Semaphore(limit)  # requests in flight, so connections in use
        self._idle: list[Connection] = []
        self._all: set[Connection] = set()

    async def acquire(self) -> "Connection":
        """Waits for a slot; the caller must `release` the connection it gets."""
        await self._slots.acquire()
        try:
            return self._reused() or await self._opened()
        except BaseException:
            self._slots.release()
            raise

    def release(self, connection: "Connection") -> None:
        self._slots.release()
        if connection.reusable():
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            connection.close()

    def forget(self, connection: "Connection") -> None:
        """A connection that closed: never handed out again."""
        self._all.discard(connection)
        if connection in self._idle:
            self._idle.remove(connection)

    def close(self) -> None:
        for connection in list(self._all):
            connection.close()
        self._idle.clear()

    def _reused(self) -> "Connection | None":
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < self._keepalive_seconds and connection.reusable():
                return connection
            connection.close()
        return None

    async def _opened(self) -> "Connection":
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_seconds):
                _, connection = await loop.create_connection(
                    lambda: Connection(self), self.host, self.port
                )
        except TimeoutError:
            raise  # an OSError too, but a service that did not answer, not one that refused
        except OSError as error:
            raise Refused(str(error)) from error
        self._all.add(connection)
        return connection


class Connection(asyncio.Protocol):
    """One connection and the answer to the request it carries."""

    def __init__(self, pool: ServicePool) -> None:
        self._pool = pool
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._writable = True
        self._drained: asyncio.Future | None = None
        self._sent = False  # the whole request, body and all, went out
        self.idle_since = 0.0
        self._begin(head_only=False)

    def _begin(self, *, head_only: bool) -> None:
        self._head_only = head_only  # an answer to HEAD: no body, whatever its length says
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self._framed = False  # the answer says where it ends (a length or chunks)
        self._headers_done = False
        self._complete = False
        self._keep_alive = False
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._failure: BaseException | None = None
        self._waiter: asyncio.Future | None = None

    # The request.

    async def send(self, method: str, head: bytes, body: bytes | AsyncIterator[bytes] | None):
        """Writes the request, then waits for the answer's status and headers. A body
        streamed in (`body` an iterator) goes on while the answer may already come."""
        self._begin(head_only=method == "HEAD")
        transport = self._transport
        if transport is None or transport.is_closing():
            raise Broken("the connection closed")
        if body is None or isinstance(body, bytes):
            transport.write(head + body if body else head)
            self._sent = True
            await self._wait(lambda: self._headers_done)
            return
        self._sent = False
        transport.write(head)
        writer = asyncio.ensure_future(self._write_chunked(body))
        writer.add_done_callback(self._body_written)
        try:
            await self._wait(lambda: self._headers_done)
        finally:
            if not writer.done():
                writer.cancel()

    async def _write_chunked(self, body: AsyncIterator[bytes]) -> None:
        async for chunk in body:
            self._write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            if not self._writable:
                self._drained = self._loop.create_future()
                await self._drained
        self._write(b"0\r\n\r\n")
        self._sent = True

    def _write(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            raise Broken("the connection closed")
        self._transport.write(data)

    def _body_written(self, writer: asyncio.Future) -> None:
        if writer.cancelled():
            if not self._headers_done:  # the client went away mid-body
                self._fail(asyncio.CancelledError("client went away"))
        elif writer.exception() is not None:
            self._fail(writer.exception())

    # The answer.

    async def read(self) -> bytes:
        """The next part of the body; b"" once it has all come."""
        await self._wait(lambda: self._chunks or self._complete)
        if not self._chunks:
            return b""
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        if self._buffered > READ_BUFFER_BYTES and self._transport is not None:
            self._transport.resume_reading()
        self._buffered = 0
        return data

    @property
    def complete(self) -> bool:
        return self._complete

    def reusable(self) -> bool:
        return (
            self._complete
            and self._sent
            and self._keep_alive
            and self._transport is not None
            and not self._transport.is_closing()
        )

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def _wait(self, ready) -> None:
        while not ready():
            if self._failure is not None:
                raise self._failure
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, failure: BaseException) -> None:
        if self._failure is None and not self._complete:
            self._failure = failure
            self._wake()
        self.close()

    # asyncio.Protocol

    def connection_made(self, transport) -> None:
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(Broken(f"malformed answer: {error}"))

    def connection_lost(self, error: Exception | None) -> None:
        self._pool.forget(self)
        if self._headers_done and not self._framed and not self._complete:
            self.on_message_complete()  # the body was the rest of the connection
        self._fail(Broken("the service closed the connection"))
        self._transport = None
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length" or name == b"transfer-encoding":
            self._framed = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        if 100 <= self.status < 200:
            return  # informational (100 Continue): the answer follows
        self._headers_done = True
        if self.status in NO_BODY_STATUSES:
            self._framed = True
        if self._head_only:
            self._framed = True
            self._keep_alive = False  # the parser would wait for the body HEAD never gets
            self._complete = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self._head_only:
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > READ_BUFFER_BYTES and self._transport is not None:
            self._transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if not self._headers_done:  # the end of an informational answer
            self.headers = []
            return
        if not self._head_only:
            self._keep_alive = self._parser.should_keep_alive()
        self._complete = True
        self._wake()
