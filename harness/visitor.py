"""A visitor without a browser: Streamlit's WebSocket protocol, spoken with the protobufs the streamlit package ships.

A headless Chromium costs a visitor ~4 CPU-seconds to load the page and more to draw, so ten of them fill
this machine; the server cannot be measured at a hundred visitors with browsers on its own cores. A
`Visitor` does what the browser's Streamlit client does on the wire and nothing else:

- fetches the page through the same address (so a reverse proxy's sticky cookie is set and sent back),
- opens `/_stcore/stream` with the subprotocols the browser sends (`streamlit`, and on a reconnect the
  session it had),
- asks for a script run (`BackMsg.rerun_script`) with the page, query string and widget states,
- and reads every `ForwardMsg` the server sends: the new session, the page, the deltas, the end of the run.

Drawing sends what streamlit-drawable-canvas 0.13 sends on pen-up (captured from Chromium): the canvas
widget's JSON value `{"drawing": {"raw": <fabric.js JSON>, "data": <PNG data URL of the canvas>}}`, as a
rerun of the Draw page's fragment only. The PNG is drawn here with Pillow from the same strokes the
browser tests draw. Unlike a browser it keeps no cache of large messages (it lists none it holds), so
the server sends each message whole.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.browser import DIGIT_STROKES

CANVAS_SIZE, PEN_WIDTH = 280, 24  # app_pages/draw.py's canvas on a laptop
SERVER_HEADER = "X-Digitlab-Server"  # which server answered, when the proxy says (deploy/Caddyfile)


@cache
def canvas_value(digit: str | None) -> str:
    """The canvas's value after drawing `digit` (None: an empty canvas), as the component sends it."""
    picture = Image.new("RGBA", (CANVAS_SIZE, CANVAS_SIZE), "black")
    pen = ImageDraw.Draw(picture)
    paths = []
    for stroke in DIGIT_STROKES[digit] if digit else []:  # placed as bench/load.py's browsers draw them
        points = [((0.25 + 0.55 * u) * CANVAS_SIZE, (0.15 + 0.7 * v) * CANVAS_SIZE) for u, v in stroke]
        pen.line(points, fill="white", width=PEN_WIDTH, joint="curve")
        for x, y in points[:: len(points) - 1]:
            pen.ellipse((x - PEN_WIDTH / 2, y - PEN_WIDTH / 2, x + PEN_WIDTH / 2, y + PEN_WIDTH / 2), fill="white")
        path = [["M", *points[0]]] + [["L", x, y] for x, y in points[1:]]
        paths.append(
            {
                "type": "Path",
                "version": "7.4.0",
                "originX": "center",
                "originY": "center",
                "fill": None,
                "stroke": "#ffffff",
                "strokeWidth": PEN_WIDTH,
                "strokeLineCap": "round",
                "strokeLineJoin": "round",
                "path": path,
            }
        )
    png = io.BytesIO()
    picture.save(png, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    return json.dumps(
        {"drawing": {"raw": {"version": "7.4.0", "objects": paths, "background": "#000000"}, "data": data}}
    )


@dataclass
class Run:
    """What one script run sent back: its deltas' texts, and when the things a visitor waits for arrived."""

    sent: float
    texts: list[str] = field(default_factory=list)  # every markdown, alert, toast, heading and caption body
    metrics: dict[str, str] = field(default_factory=dict)  # label -> value
    metric_at: dict[str, float] = field(default_factory=dict)  # label -> arrival (perf_counter)
    errors: list[str] = field(default_factory=list)  # exceptions and error alerts shown
    finished: float | None = None
    whole: bool = False  # a run of the whole page began (not a fragment's, nor stray messages)


class Visitor:
    """One visitor's tab: a session on the server, driven over its WebSocket. Use as `async with`."""

    def __init__(self, url: str, *, path: str = "", query: str = "", address: str | None = None) -> None:
        """`address`: the client address this visitor plays, sent as a local proxy would (X-Forwarded-For)."""
        self.url, self.path, self.query, self.address = url.rstrip("/"), path, query, address
        self.cookies: dict[str, str] = {}
        self.session_id: str | None = None
        self.servers: list[str] = []  # the proxy's X-Digitlab-Server on each request, in order
        self.page_hash = ""
        self.canvas: tuple[str, str] | None = None  # the canvas widget's id and its fragment's id
        self.buttons: dict[str, str] = {}  # label -> widget id, on the page last run
        self.inputs: dict[str, str] = {}  # label -> widget id of each number or text input drawn so far
        self.uploaders: dict[str, str] = {}  # label -> widget id of each file uploader drawn so far
        self.file_urls: dict = {}  # request id -> the FileURLs the server gave for an upload
        self.ticking: dict[str, float] = {}  # fragments that rerun on a timer (st.fragment(run_every=...)): id -> s
        self.pages: list[tuple[float, str]] = []  # (arrival, url path) of each page the server ran for this tab
        self.finished: list[tuple[float, str]] = []  # (arrival, url path) of the end of each whole run of a page
        self.reconnects = 0
        self._socket = None
        self._messages: asyncio.Queue = asyncio.Queue()
        self._arrived = asyncio.Event()  # set at each message's arrival
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> Visitor:
        await self.open()
        return self

    async def __aexit__(self, *_) -> None:
        await self.close()

    # -- connection ---------------------------------------------------------------------------------

    def _get(self, path: str) -> bytes:
        """An HTTP GET through the same address, keeping the cookies the way a browser does."""
        request = urllib.request.Request(f"{self.url}{path}")
        if self.address:
            request.add_header("X-Forwarded-For", self.address)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(request, timeout=30) as response:
            self._remember(response.headers)
            return response.read()

    def _remember(self, headers) -> None:
        for cookie in headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if server := headers.get(SERVER_HEADER):
            self.servers.append(server)

    async def open(self) -> Run:
        """Load the page as a browser does: its HTML, the health check (which sets the XSRF cookie), the WebSocket."""
        await asyncio.to_thread(self._get, f"/{self.path}")
        await asyncio.to_thread(self._get, "/_stcore/health")
        await self._connect()
        return await self.rerun(query=self.query, page_name=self.path)

    async def _connect(self) -> None:
        address = urlsplit(self.url)
        protocols = ["streamlit", self.cookies.get("_streamlit_xsrf", "")]
        if self.session_id:  # a reconnecting browser names the session it had
            protocols.append(self.session_id)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if self.address:
            headers["X-Forwarded-For"] = self.address
        self._socket = await connect(
            f"ws://{address.netloc}/_stcore/stream",
            subprotocols=protocols,
            additional_headers=headers,
            max_size=None,
            open_timeout=30,
        )
        self._remember(self._socket.response.headers)
        self._reader = asyncio.create_task(self._read(self._socket))

    async def _read(self, socket) -> None:
        try:
            async for data in socket:
                message = ForwardMsg()
                message.ParseFromString(data)
                await self._messages.put((time.perf_counter(), message))
                self._arrived.set()
        except ConnectionClosed:
            pass
        await self._messages.put((time.perf_counter(), None))  # the connection ended
        self._arrived.set()

    async def reconnect(self, *, timeout: float = 60.0) -> Run:
        """What the browser does when its connection drops: wait for the health check, reconnect, rerun."""
        self.reconnects += 1
        deadline = time.monotonic() + timeout
        while True:
            try:
                if await asyncio.to_thread(self._get, "/_stcore/health") == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.5)
        self._messages = asyncio.Queue()
        await self._connect()
        return await self.rerun(page_name=self.path)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await self._reader

    # -- script runs --------------------------------------------------------------------------------

    async def rerun(
        self,
        *,
        widgets: list | None = None,
        fragment: str = "",
        query: str = "",
        page_name: str = "",
        timer: bool = False,
        timeout: float = 120.0,
    ) -> Run:
        """Ask for a run and read until it ends. Raises ConnectionClosed if the server goes away meanwhile."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string, state.page_script_hash, state.page_name = query, self.page_hash, page_name
        state.fragment_id, state.is_auto_rerun = fragment, timer
        state.widget_states.widgets.extend(widgets or [])
        state.context_info.timezone, state.context_info.locale = "UTC", "en-US"
        state.context_info.url = f"{self.url}/{self.path}"
        run = Run(sent=time.perf_counter())
        if not fragment:
            self.buttons, self.ticking = {}, {}
        await self._socket.send(message.SerializeToString())
        while run.finished is None:
            arrived, forward = await asyncio.wait_for(self._messages.get(), timeout)
            if forward is None:
                raise ConnectionClosed(None, None)
            self._take(forward, arrived, run)
        return run

    def _take(self, forward: ForwardMsg, arrived: float, run: Run) -> None:
        kind = forward.WhichOneof("type")
        if kind == "new_session":
            self.session_id = forward.new_session.initialize.session_id or self.session_id
            run.whole = True
        elif kind == "navigation":  # a whole run of the page (perhaps asked for by a fragment's st.rerun)
            self.page_hash = forward.navigation.page_script_hash
            page = next((p for p in forward.navigation.app_pages if p.page_script_hash == self.page_hash), None)
            self.pages.append((arrived, page.url_pathname if page else ""))
            self.buttons, self.ticking = {}, {}  # as the browser does: the run registers its own again
        elif kind == "auto_rerun":
            self.ticking[forward.auto_rerun.fragment_id] = forward.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fragment in forward.stop_auto_rerun.fragment_ids:
                self.ticking.pop(fragment, None)
        elif kind == "script_finished":  # a run cut short for another (its st.rerun, say) is followed by that one
            if forward.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                run.finished = arrived
            if forward.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:  # a whole run, not a fragment's
                self.finished.append((arrived, self.pages[-1][1] if self.pages else ""))
        elif kind == "file_urls_response":  # where to send a file (see upload), whenever it arrives
            self.file_urls[forward.file_urls_response.response_id] = forward.file_urls_response.file_urls[0]
        elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
            element = forward.delta.new_element
            what = element.WhichOneof("type")
            if what == "bidi_component" and "drawable_canvas" in element.bidi_component.component_name:
                self.canvas = (element.bidi_component.id, forward.delta.fragment_id)
            elif what == "button":
                self.buttons[element.button.label] = element.button.id
            elif what in ("number_input", "text_input", "selectbox", "checkbox"):  # a toggle is a checkbox
                self.inputs[getattr(element, what).label] = getattr(element, what).id
            elif what == "progress":
                run.texts.append(element.progress.text)
            elif what == "file_uploader":
                self.uploaders[element.file_uploader.label] = element.file_uploader.id
            elif what == "metric":
                run.metrics[element.metric.label] = element.metric.body
                run.metric_at[element.metric.label] = arrived
            elif what == "exception":
                run.errors.append(f"{element.exception.type}: {element.exception.message}")
            elif what in ("markdown", "alert", "toast", "heading", "html"):
                body = getattr(element, what).body
                run.texts.append(body)
                if what == "alert" and element.alert.format == element.alert.ERROR:
                    run.errors.append(body)

    async def draw(self, digit: str | None) -> Run:
        """Lift the pen after drawing `digit` (None: clear the canvas): the canvas's fragment reruns."""
        widget_id, fragment = self.canvas
        value = WidgetState(id=widget_id, json_value=canvas_value(digit))
        return await self.rerun(widgets=[value], fragment=fragment)

    async def press(self, label: str, *, inputs: dict | None = None) -> Run:
        """Click the button labelled `label` on the page last run, with `inputs` (label -> value, as `type` takes
        them) set as the browser would still hold them."""
        widgets = [self._state(name, value) for name, value in (inputs or {}).items()]
        widgets.append(WidgetState(id=self.buttons[label], trigger_value=True))
        return await self.rerun(widgets=widgets, page_name=self.path, query=self.query)  # the URL keeps its query

    async def type(self, label: str, value, *, fragment: str = "") -> Run:
        """Enter `value` in the input labelled `label`: a number or text input, a select box (the option as shown)
        or a toggle (a bool). Anything a scripted client may send: NaN in a number box, a choice not offered."""
        return await self.rerun(widgets=[self._state(label, value)], page_name=self.path, fragment=fragment)

    def _state(self, label: str, value) -> WidgetState:
        state = WidgetState(id=self.inputs[label])
        if isinstance(value, bool):
            state.bool_value = value
        elif isinstance(value, str):
            state.string_value = value
        elif isinstance(value, float):
            state.double_value = value
        else:
            state.int_value = value
        return state

    async def visit(self, path: str) -> Run:
        """Follow a link to another page of the app (its path, e.g. "attack"), in the same session."""
        self.path, self.page_hash = path, ""
        return await self.rerun(page_name=path)

    async def upload(self, label: str, name: str, data: bytes) -> Run:
        """Choose a file in the uploader labelled `label` (its start suffices) as the browser does: ask the
        server where to send it, PUT it there, then rerun with the uploader's new state."""
        widget = next(id_ for text, id_ in self.uploaders.items() if text.startswith(label))
        message = BackMsg()
        message.file_urls_request.request_id, message.file_urls_request.session_id = "upload", self.session_id
        message.file_urls_request.file_names.append(name)
        elsewhere = Run(sent=time.perf_counter())  # what else arrives meanwhile: the end of an earlier run
        for _ in range(4):  # asked again if no answer comes
            await self._socket.send(message.SerializeToString())
            asked = time.perf_counter()
            while "upload" not in self.file_urls and time.perf_counter() - asked < 15:
                try:
                    arrived, forward = await asyncio.wait_for(self._messages.get(), 1)
                except TimeoutError:
                    continue
                if forward is None:
                    raise ConnectionClosed(None, None)
                self._take(forward, arrived, elsewhere)
            if "upload" in self.file_urls:
                break
        else:
            raise TimeoutError("the server gave no address to upload to")
        urls = self.file_urls.pop("upload")
        await asyncio.to_thread(self._put, urls.upload_url, name, data)
        state = WidgetState(id=widget)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.name, info.size, info.file_id = name, len(data), urls.file_id
        info.file_urls.CopyFrom(urls)
        return await self.rerun(widgets=[state], page_name=self.path)

    def _put(self, path: str, name: str, data: bytes) -> None:
        boundary = "digitlab-visitor-boundary"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        url = path if path.startswith("http") else f"{self.url}{path}"
        request = urllib.request.Request(url, data=body, method="PUT")
        request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        request.add_header("X-Xsrftoken", self.cookies.get("_streamlit_xsrf", ""))
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    def _drain(self) -> Run | None:
        """What has arrived outside a run this visitor asked for (a run the server began on its own), if anything."""
        if self._messages.empty():
            return None
        elsewhere = Run(sent=time.perf_counter())
        while not self._messages.empty():
            arrived, forward = self._messages.get_nowait()
            if forward is None:
                raise ConnectionClosed(None, None)
            self._take(forward, arrived, elsewhere)
        return elsewhere

    async def _finish(self, run: Run, until: float) -> None:
        """Read into `run` until it ends, or until `until` (perf_counter time)."""
        while run.finished is None and (left := until - time.perf_counter()) > 0:
            try:
                arrived, forward = await asyncio.wait_for(self._messages.get(), left)
            except TimeoutError:
                return
            if forward is None:
                raise ConnectionClosed(None, None)
            self._take(forward, arrived, run)

    async def watch(self, seconds: float) -> list[Run]:
        """Keep the tab open for `seconds`, rerunning its timed fragments as the browser does (a training's
        progress, the room's wall), each on its own timer, and reading at once any run the server begins on its own
        (a fragment's st.rerun, a page switch, a rerun the server pushed)."""
        runs, until = [], time.perf_counter() + seconds
        due: dict[str, float] = {}  # fragment id -> when its timer fires (perf_counter)
        while (now := time.perf_counter()) < until:
            began = self._drain()
            if began is not None:
                runs.append(began)
                if began.whole:  # a browser sends no timer's rerun while the whole page runs; its timers are new
                    await self._finish(began, until)
                    due = {}
                continue
            due = {fragment: due.get(fragment, now + interval) for fragment, interval in self.ticking.items()}
            fired = [fragment for fragment, at in due.items() if at <= now]
            for fragment in fired:
                runs.append(await self.rerun(fragment=fragment, timer=True))
                if fragment in self.ticking:
                    due[fragment] = time.perf_counter() + self.ticking[fragment]
            if fired:
                continue
            self._arrived.clear()
            if self._messages.empty():
                try:
                    await asyncio.wait_for(self._arrived.wait(), min([*due.values(), until]) - now)
                except TimeoutError:
                    pass
        return runs
