"""Jinja2 with the GOV.UK Frontend macros, and templates found beside each domain package."""

from __future__ import annotations

import functools
import html
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    PrefixLoader,
    nodes,
    select_autoescape,
)
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup, escape

from registry import REGULATOR_NAME, SERVICE_NAME
from registry.core.domain import Domain, navigation

REGISTRY_PACKAGE = Path(__file__).resolve().parent.parent


def template_directories() -> list[Path]:
    """``templates/`` of the web package first, then of every domain package that has one."""
    shared = REGISTRY_PACKAGE / "web" / "templates"
    domains = sorted(p for p in REGISTRY_PACKAGE.glob("*/templates") if p != shared)
    return [shared, *domains]


def create_environment(domains: Sequence[Domain] = (), *, auto_reload: bool = True) -> Environment:
    environment = Environment(
        # Off in production: checking every template file's time on every page costs ~10% of
        # a page, and the files do not change while the service runs.
        auto_reload=auto_reload,
        loader=ChoiceLoader(
            [
                FileSystemLoader([str(path) for path in template_directories()]),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        enable_async=False,
    )
    environment.filters["display"] = display_value
    environment.filters["multiline"] = multiline
    environment.globals.update(
        service_name=SERVICE_NAME,
        regulator_name=REGULATOR_NAME,
        main_navigation=functools.partial(main_navigation, domains),
    )
    return environment


def display_value(value: Any) -> str:
    """A stored value as a person reads it: lists joined, nothing shown as a dash."""
    if value is None or value == "" or value == []:
        return "\N{EN DASH}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(display_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {display_value(item)}" for key, item in value.items())
    return str(value)


def multiline(text: str | None) -> Markup:
    """Text as it was typed, escaped, its line breaks kept: an answer, a declaration's details,
    a registrar's question or reason. HTML folds newlines into spaces, so each becomes <br>."""
    return Markup("<br>").join(escape(line) for line in (text or "").splitlines())


def main_navigation(domains: Sequence[Domain], user: Any, path: str) -> list[dict[str, Any]]:
    """The service navigation: what this visitor can reach, with the current section marked."""
    return [
        {"href": item.href, "text": item.text, "active": path.startswith(item.href)}
        for item in navigation(domains, user)
    ]


def template_config(
    domains: Sequence[Domain], *, auto_reload: bool = True
) -> TemplateConfig[JinjaTemplateEngine]:
    environment = create_environment(domains, auto_reload=auto_reload)
    return TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment))


# --- pages whose frame is the same for every signed-out visitor -----------------------------

# Stand-ins rendered in place of what differs between two visitors' copies of a page's frame.
_NONCE_STAND_IN = "registry-csp-nonce-stand-in"
_CSRF_STAND_IN = "registry-csrf-token-stand-in"
_BLOCK_STAND_IN = "registry-block-stand-in:{}:"


class VisitorPages:
    """Pages for signed-out visitors, whose frame is rendered once and their own blocks each time.

    Most of a page's cost is its frame (the GOV.UK header, navigation, banner and footer macros
    of ``layout.html``), which is the same for every signed-out visitor but for the script nonce
    and the form token. The frame is rendered once per template and navigation with stand-ins
    for those and for each block the page's own template defines; each request renders just those
    blocks, from the context it is given (read fresh by the caller), into a copy of the frame with
    its own nonce and token. Nothing the page shows is kept between requests. A signed-in
    person's page is rendered whole for them every time.
    """

    def __init__(self) -> None:
        self._frames: dict[tuple[str, str], list[str]] = {}
        self._imports: dict[str, dict[str, Any] | None] = {}
        # Each frame's text pieces split around the nonce and the form token, by frame.
        self._split: dict[int, list[tuple[bytes | int, ...]]] = {}

    def render(
        self, request: Request[Any, Any, Any], template: str, context: dict[str, Any]
    ) -> Response[str]:
        token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
        nonce = str(request.scope.get("state", {}).get("csp_nonce", ""))
        framed = self._framed(request, template)
        if framed is None:
            page = _environment(request).get_template(template)
            full = page.render(**context, request=request, csrf_input=_csrf_input(token))
            return Response(full, media_type=MediaType.HTML)
        page, imports, frame = framed
        variables = {**imports, **context, "request": request, "csrf_input": _csrf_input(token)}
        # One context for all the page's blocks, as Jinja renders a whole page (~10 µs each).
        rendering = page.new_context(variables)
        parts: list[str] = []
        for index, piece in enumerate(frame):
            if index % 2:
                block = page.blocks[piece]
                parts.append("".join(block(rendering)))
            else:
                parts.append(piece.replace(_NONCE_STAND_IN, nonce).replace(_CSRF_STAND_IN, token))
        return Response("".join(parts), media_type=MediaType.HTML)

    def pieces(
        self, request: Request[Any, Any, Any], template: str, context: dict[str, Any]
    ) -> KeptPage | None:
        """The page :meth:`render` gives a signed-out visitor, in pieces to keep: its text as
        UTF-8 with :data:`NONCE` and :data:`TOKEN` where the request's own script nonce and form
        token go (see :func:`fill`). The frame's pieces are shared by every page kept from it, so
        a kept page holds only what its own blocks show. None for a page rendered whole."""
        if request.scope.get("user") is not None:
            return None
        framed = self._framed(request, template)
        if framed is None:
            return None
        page, imports, frame = framed
        key = id(frame)
        split = self._split.get(key)
        if split is None:
            split = self._split[key] = [
                _holes(piece) if index % 2 == 0 else () for index, piece in enumerate(frame)
            ]
        variables = {
            **imports,
            **context,
            "request": request,
            "csrf_input": _csrf_input(_CSRF_STAND_IN),
        }
        state = request.scope.setdefault("state", {})
        nonce = state.get("csp_nonce")
        state["csp_nonce"] = _NONCE_STAND_IN
        try:
            rendering = page.new_context(variables)
            out: list[bytes | int] = []
            own = 0
            for index, piece in enumerate(frame):
                if index % 2:
                    block = page.blocks[piece]
                    holes = _holes("".join(block(rendering)))
                    own += sum(len(hole) for hole in holes if isinstance(hole, bytes))
                    out.extend(holes)
                else:
                    out.extend(split[index])
        finally:
            state["csp_nonce"] = nonce
        return KeptPage(tuple(out), own)

    def _framed(
        self, request: Request[Any, Any, Any], template: str
    ) -> tuple[Any, dict[str, Any], list[str]] | None:
        """The template, the macros its blocks import and its frame for a signed-out visitor
        on this page's navigation; None when the page is rendered whole (signed in, or a
        template whose top level does more than import)."""
        environment = _environment(request)
        page = environment.get_template(template)
        imports = self._imports.get(template, {})
        if template not in self._imports:
            imports = self._imports[template] = _top_level_imports(environment, template)
        if request.scope.get("user") is not None or imports is None:
            return None
        navigate: Callable[[Any, str], Any] = environment.globals["main_navigation"]  # type: ignore[assignment]
        navigation = navigate(None, request.scope["path"])
        key = (template, repr(navigation))
        frame = self._frames.get(key)
        if frame is None:
            frame = self._frames[key] = self._frame(request, environment, template, page)
        return page, imports, frame

    @staticmethod
    def _frame(
        request: Request[Any, Any, Any], environment: Environment, template: str, page: Any
    ) -> list[str]:
        """The page with each of its own blocks a stand-in, split around them: text, block
        name, text, block name, ..., text."""
        overrides = "".join(
            f"{{% block {name} %}}{_BLOCK_STAND_IN.format(name)}{{% endblock %}}"
            for name in _own_blocks(environment, template)
        )
        derived = environment.from_string(f'{{% extends "{template}" %}}{overrides}')
        state = request.scope.setdefault("state", {})
        nonce = state.get("csp_nonce")
        state["csp_nonce"] = _NONCE_STAND_IN
        try:
            text = derived.render(request=request, csrf_input=_csrf_input(_CSRF_STAND_IN))
        finally:
            state["csp_nonce"] = nonce
        pieces = [text]
        for name in _own_blocks(environment, template):
            marker = _BLOCK_STAND_IN.format(name)
            head, found, tail = pieces[-1].partition(marker)
            if not found:
                continue  # a block the frame does not show
            pieces[-1:] = [head, name, tail]
        return pieces


def _environment(request: Request[Any, Any, Any]) -> Environment:
    engine = request.app.template_engine
    if not isinstance(engine, JinjaTemplateEngine):
        raise TypeError("the application's templates are not Jinja's")
    return engine.engine


# A page kept in pieces: its UTF-8 text, and where each request's own values go.
NONCE = 0
TOKEN = 1
Pieces = tuple[bytes | int, ...]
_PER_PAGE = 512  # what a kept page costs besides its text: its key, tuples, objects


@dataclass(frozen=True, slots=True)
class KeptPage:
    pieces: Pieces
    own_bytes: int  # the bytes of its own blocks' pieces: the frame's are shared


def _holes(text: str) -> tuple[bytes | int, ...]:
    """``text`` as UTF-8 pieces with NONCE and TOKEN in place of their stand-ins."""
    out: list[bytes | int] = []
    for n, by_nonce in enumerate(text.split(_NONCE_STAND_IN)):
        if n:
            out.append(NONCE)
        for t, part in enumerate(by_nonce.split(_CSRF_STAND_IN)):
            if t:
                out.append(TOKEN)
            if part:
                out.append(part.encode())
    return tuple(out)


def fill(pieces: Pieces, nonce: bytes, token: bytes) -> bytes:
    """A kept page with this request's nonce and form token in it."""
    return b"".join(
        nonce if piece is NONCE else token if piece is TOKEN else piece  # type: ignore[misc]
        for piece in pieces
    )


class KeptPages:
    """Pages kept for signed-out visitors, each with the document it was made from: a page is
    given again only for the very same document, read fresh by the caller on every request, so
    a change is shown on the next request. Bounded by the bytes its pages' own pieces hold
    (the frames' pieces are shared); the page used longest ago goes first."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self._pages: OrderedDict[str, tuple[str, Pieces, int]] = OrderedDict()

    def get(self, key: str, source: str) -> Pieces | None:
        kept = self._pages.get(key)
        if kept is None or kept[0] != source:
            return None
        self._pages.move_to_end(key)
        return kept[1]

    def put(self, key: str, source: str, page: KeptPage) -> None:
        pieces = page.pieces
        size = len(source) + page.own_bytes + _PER_PAGE
        old = self._pages.pop(key, None)
        if old is not None:
            self.held -= old[2]
        if size > self.max_bytes:
            return
        self._pages[key] = (source, pieces, size)
        self.held += size
        while self.held > self.max_bytes:
            _, (_, _, freed) = self._pages.popitem(last=False)
            self.held -= freed


def _top_level_imports(environment: Environment, template: str) -> dict[str, Any] | None:
    """What ``template``'s own blocks use from its top level: the macros it imports. None when
    its top level does anything else (sets a variable, defines a macro), which a block rendered
    on its own would miss: such a page is always rendered whole."""
    if environment.loader is None:
        return None
    source = environment.loader.get_source(environment, template)[0]
    names: dict[str, Any] = {}
    for node in environment.parse(source).body:
        if isinstance(node, nodes.FromImport) and isinstance(node.template, nodes.Const):
            module = environment.get_template(node.template.value).make_module()
            for item in node.names:
                name, alias = item if isinstance(item, tuple) else (item, item)
                names[alias] = getattr(module, name)
        elif isinstance(node, nodes.Import) and isinstance(node.template, nodes.Const):
            names[node.target] = environment.get_template(node.template.value).make_module()
        elif isinstance(node, nodes.Output) and all(
            isinstance(part, nodes.TemplateData) and not part.data.strip() for part in node.nodes
        ):
            continue
        elif not isinstance(node, nodes.Extends | nodes.Block):
            return None
    return names


@functools.cache
def _own_blocks(environment: Environment, template: str) -> tuple[str, ...]:
    """The blocks of ``template`` that show what its context holds: the rest (a block that
    only calls imported macros with fixed arguments) are part of the frame."""
    if environment.loader is None:
        return ()
    source = environment.loader.get_source(environment, template)[0]
    tree = environment.parse(source)
    imported = {
        (item[1] if isinstance(item, tuple) else item)
        for node in tree.find_all(nodes.FromImport)
        for item in node.names
    } | {node.target for node in tree.find_all(nodes.Import)}
    fixed = imported | set(environment.globals)
    return tuple(
        block.name
        for block in tree.find_all(nodes.Block)
        if any(name.name not in fixed for name in block.find_all(nodes.Name))
    )


def _csrf_input(token: str) -> str:
    return f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}" />'
