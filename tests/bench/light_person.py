"""A person whose browser is not on this machine: Streamlit's own protocol over ``/_stcore/stream``, no rendering.

    people = LightPeople()                                  # one event loop in a thread, for all of them
    who = people.open(url, cookies, "Generate")             # cookies of a real login in a browser context
    who.type(GEN_PROMPT, "a kite"); who.click(GEN_BUTTON)   # what a browser sends on blur and on a click
    who.shown_ms()                                          # when the picture the click brought was fetched

It sends what Streamlit's page sends (``BackMsg.rerun_script`` with the page, the widget states and the
fragment a widget belongs to) and keeps a part live as the page does: every ``auto_rerun`` message starts a
timer that asks for that fragment's rerun until ``stop_auto_rerun``. Widget ids and fragments are read from
the deltas it receives (an id ends with ``-<key>``). A new picture is an ``st.image`` URL it had not received
before the click; it counts as shown once its bytes have been fetched. ``transcript()`` is every message the
server sent it, as text (a protobuf keeps strings as UTF-8), for the leak checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect

__all__ = ["LightPeople", "LightPerson"]

TIMEOUT = 120.0


class LightPerson:
    def __init__(self, people: LightPeople, url: str, cookies: dict[str, str], page: str) -> None:
        self.people = people
        self.url = url
        self.cookies = cookies
        self.page = page
        self.page_hash = ""
        self.ws: ClientConnection | None = None
        self.widgets: dict[str, tuple[str, str]] = {}   # key -> (widget id, fragment id)
        self.values: dict[str, str] = {}                 # widget id -> text typed
        self.timers: dict[str, tuple[float, asyncio.Task[None]]] = {}
        self.finished = 0
        self.changed = asyncio.Event()
        self.images: set[str] = set()
        self.before: set[str] | None = None
        self.clicked_ms: float | None = None
        self.shown: float | None = None
        self.received: list[bytes] = []
        self.reader: asyncio.Task[None] | None = None
        self.http = httpx.AsyncClient(cookies=cookies, timeout=TIMEOUT)

    # --- sending -------------------------------------------------------------------------------------

    async def _rerun(self, fragment: str = "", trigger: str = "", auto: bool = False) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        if self.page_hash:
            state.page_script_hash = self.page_hash
        else:
            state.page_name = self.page
        state.fragment_id = fragment
        state.is_auto_rerun = auto
        for widget, text in self.values.items():
            one = state.widget_states.widgets.add()
            one.id, one.string_value = widget, text
        if trigger:
            one = state.widget_states.widgets.add()
            one.id, one.trigger_value = trigger, True
        assert self.ws is not None
        await self.ws.send(msg.SerializeToString())

    async def _timer(self, fragment: str, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            await self._rerun(fragment, auto=True)

    # --- receiving -----------------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self.ws is not None
        async for data in self.ws:
            raw = data if isinstance(data, bytes) else data.encode()
            self.received.append(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "navigation" and msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash  # the page being shown, as the page keeps it
            elif kind == "delta":
                self._look(msg)
            elif kind == "auto_rerun":
                fragment, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                if fragment and self.timers.get(fragment, (None,))[0] != every:
                    self._stop(fragment)
                    self.timers[fragment] = (every, asyncio.create_task(self._timer(fragment, every)))
            elif kind == "stop_auto_rerun":
                for fragment in msg.stop_auto_rerun.fragment_ids:
                    self._stop(fragment)
            elif kind == "script_finished":
                self.finished += 1
            self.changed.set()

    def _stop(self, fragment: str) -> None:
        if fragment in self.timers:
            self.timers.pop(fragment)[1].cancel()

    def _look(self, msg: ForwardMsg) -> None:
        delta = msg.delta
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "imgs":
            for img in element.imgs.imgs:
                address = urljoin(self.url + "/", img.url)
                path = urlsplit(address).path  # a picture signed again keeps its path
                if self.before is not None and path not in self.before and self.shown is None \
                        and path not in self.images:
                    asyncio.get_running_loop().create_task(self._fetch(address))
                self.images.add(path)
        elif kind is not None:
            widget = getattr(element, kind)
            widget_id = getattr(widget, "id", "")
            if isinstance(widget_id, str) and "-" in widget_id:
                self.widgets[widget_id.rsplit("-", 1)[1]] = (widget_id, delta.fragment_id)

    async def _fetch(self, address: str) -> None:
        answer = await self.http.get(address)
        if answer.status_code == 200 and answer.content and self.shown is None:
            self.shown = time.time() * 1000
            self.changed.set()

    async def _until(self, done: Any, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not done():
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.url}: {what} did not come in {TIMEOUT:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def _run_and_wait(self, fragment: str = "", trigger: str = "") -> None:
        before = self.finished
        await self._rerun(fragment, trigger)
        await self._until(lambda: self.finished > before, "the end of a script run")

    # --- what the benchmark does ---------------------------------------------------------------------

    async def _open(self) -> None:
        ws_url = "ws" + self.url.removeprefix("http") + "/_stcore/stream"
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        # the page offers its XSRF token beside the protocol's name; Streamlit reads the login only with it
        offered = ["streamlit", *([self.cookies["_streamlit_xsrf"]] if "_streamlit_xsrf" in self.cookies else [])]
        self.ws = await connect(ws_url, origin=self.url, additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
                                subprotocols=offered,  # type: ignore[arg-type]
                                max_size=None, open_timeout=TIMEOUT)
        self.reader = asyncio.get_running_loop().create_task(self._read())
        await self._run_and_wait()
        await self._run_and_wait()  # the brief first view's page asks for the rest at once; so does this

    async def _type(self, key: str, text: str) -> None:
        await self._until(lambda: key in self.widgets, f"the widget {key}")
        widget, fragment = self.widgets[key]
        self.values[widget] = text
        await self._run_and_wait(fragment)

    async def _click(self, key: str) -> float:
        widget, fragment = self.widgets[key]
        self.before = set(self.images)
        self.shown = None
        self.clicked_ms = time.time() * 1000
        await self._rerun(fragment, trigger=widget)
        return self.clicked_ms

    async def _shown(self) -> float:
        await self._until(lambda: self.shown is not None, "a new picture")
        assert self.shown is not None
        return self.shown

    async def _close(self) -> None:
        for fragment in list(self.timers):
            self._stop(fragment)
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.http.aclose()

    def transcript(self) -> str:
        return b"\n".join(self.received).decode(errors="replace")

    def type(self, key: str, text: str) -> None:
        self.people.call(self._type(key, text))

    def click(self, key: str) -> float:
        return self.people.call(self._click(key))

    def shown_ms(self) -> float:
        return self.people.call(self._shown())

    def close(self) -> None:
        self.people.call(self._close())


class LightPeople:
    """The event loop every light person runs on, in a thread of its own (Playwright's sync API holds the main
    thread's)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="light-people")
        self.thread.start()

    def call(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(TIMEOUT + 10)

    def open(self, url: str, cookies: dict[str, str], page: str) -> LightPerson:
        async def made() -> LightPerson:
            who = LightPerson(self, url, cookies, page)
            await who._open()
            return who

        return self.call(made())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
