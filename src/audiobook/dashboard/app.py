"""The dashboard's web application (Starlette, served by uvicorn): one page, its JSON, a few files.

Only these files are served, each found by name, never by a path from the URL:
the page's own static files, the report's plots (by their known names), a
book's log (``logs/<id>.log``), its audiobook (``<id>/<file>.m4b|.mp3``) and
its cover (the one phase 2 saved in ``<id>/work/``), where ``<id>`` must be a
book id and the resolved file must lie in the results folder.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..ids import ID_PATTERN
from ..report import PLOT_FILES
from ..export import saved_cover
from .state import AUDIO_SUFFIXES, BatchLook

STATIC = Path(__file__).parent / "static"
BOOK_ID = re.compile(ID_PATTERN)
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# The page runs no code but its own, loads nothing from elsewhere, and cannot be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def inside(results: Path, *parts: str) -> Path:
    """results/<parts>, only when it is an existing file that resolves inside the results folder."""
    root = results.resolve()
    path = (root.joinpath(*parts)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404)
    return path


def book_id_of(request: Request) -> str:
    book_id = request.path_params["book_id"]
    if not BOOK_ID.fullmatch(book_id):
        raise HTTPException(404)
    return book_id


def whole_number(request: Request, name: str) -> int | None:
    """A query parameter that must be a whole number; None when absent or not one."""
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else None


def make_app(results: Path, pipeline_json: Path, refresh_s: float = 2.0, batch_log: Path | None = None) -> Starlette:
    results = Path(results)
    look = BatchLook(results, Path(pipeline_json), batch_log)

    # A plain function: Starlette runs it in a worker thread, so reading files never stalls the server.
    # ?since=<version the page holds>&page=<n>: the page's books come only when one of them changed.
    def state(request: Request) -> JSONResponse:
        data = look.state(since=whole_number(request, "since"), page=whole_number(request, "page") or 1)
        data["refresh_s"] = refresh_s
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    # Plain too: the page asks for a cover per book it shows, and the file is looked for on disk.
    def cover(request: Request) -> FileResponse:
        book_id = book_id_of(request)
        found = saved_cover(results / book_id / "work")
        if found is None:
            raise HTTPException(404)
        path = inside(results, book_id, "work", found.name)
        kind = "image/png" if path.suffix == ".png" else "image/jpeg"
        return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-cache"})

    async def page(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def log(request: Request) -> FileResponse:
        path = inside(results, "logs", f"{book_id_of(request)}.log")
        return FileResponse(path, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"})

    async def audio(request: Request) -> FileResponse:
        book_id, name = book_id_of(request), request.path_params["name"]
        if not FILE_NAME.fullmatch(name) or Path(name).suffix not in AUDIO_SUFFIXES:
            raise HTTPException(404)
        kind = "audio/mp4" if name.endswith(".m4b") else "audio/mpeg"
        return FileResponse(inside(results, book_id, name), media_type=kind)

    async def plot(request: Request) -> FileResponse:
        name = request.path_params["name"]
        if name not in PLOT_FILES.values():
            raise HTTPException(404)
        return FileResponse(inside(results, "plots", name), media_type="image/png",
                            headers={"Cache-Control": "no-cache"})

    async def add_headers(request: Request, call_next) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    return Starlette(
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=add_headers)],
        routes=[
            Route("/", page),
            Route("/api/state", state),
            Route("/books/{book_id}/log", log),
            Route("/books/{book_id}/audio/{name}", audio),
            Route("/books/{book_id}/cover", cover),
            Route("/plots/{name}", plot),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
    )
