"""The web app: the questionnaire as server-rendered pages, and a small JSON API.

Stateless and private: the answers travel with the form (see :mod:`triage.web.state`), nothing
is stored, no cookie is set, every asset is served from here, and every response carries
strict security headers. The pages work without JavaScript.

Run it with ``dystonia-triage serve``; build it with :func:`create_app` (an ASGI app).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import traceback
from pathlib import Path
from urllib.parse import urlsplit
from typing import Optional

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from triage import __version__, clinics, knowledge
from triage.assessment import assess, to_json
from triage.inputs import (MAX_DEPTH, MAX_DIGITS, MAX_INPUT_BYTES, InputProblem, NotJson, items_of, load_json,
                           parse_document)
from triage.models import Assessment, Case
from triage.explanation import asked as why_mod
from triage.questionnaire.answers import AnswerError
from triage.questionnaire.session import Questionnaire, Session
from triage.web import fhir_api, state, work

HERE = Path(__file__).resolve().parent
MAX_FORM_FIELDS = 200  # a page posts a few dozen fields at most
MAX_BATCH = 1_000  # cases in one API request: a bigger batch is refused (413), so no request hogs a worker
# The rules engine is CPU-bound: it runs in a pool of threads sized to the machine, off the event
# loop, so /healthz and the static files answer at once while the pool is busy.
WORK_THREADS = max(1, min(8, (os.cpu_count() or 2) - 1))
_limiter: Optional[anyio.CapacityLimiter] = None


async def run_in_pool(fn, *args):
    """``fn(*args)`` in the engine's thread pool (one limiter per process, made in its loop)."""
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(WORK_THREADS)
    return await anyio.to_thread.run_sync(fn, *args, limiter=_limiter)
# What the result page offers: (name in /download/NAME, button label). The first opens the
# printable appointment report in a new tab; the others are files to keep or pass on.
DOWNLOADS = [
    ("report.html", "Download the report (HTML, to print or bring)"),
    ("case.json", "Download the answers (JSON)"),
    ("response.fhir.json", "Download the answers for a clinic system (FHIR)"),
]
# and for a clinician, the chart summary (Session.shows_chart)
CHART_DOWNLOAD = ("summary.txt", "Download the chart summary (text)")

# No script or style from anywhere but here, no framing, no plugins, forms post only here.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# The downloadable report is one self-contained page: its styles are inline, and nothing
# else may load.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" with the
    # page's own forms, and the cross-site check could not tell them from another site's. No
    # address of this site holds an answer, and nothing is sent to any other site.
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


log = logging.getLogger("triage.web")
PAGE_CACHE = b"private, no-cache"  # see Guard
BODY_TIMEOUT = 30.0  # seconds a request body may take to arrive (a slow sender is cut off: 408)


# CDS Hooks services "SHOULD support cross-origin resource sharing" (the spec): an EHR may call
# them from a page. They keep no state and take only JSON (a content type a form cannot send
# without the browser asking first), so another site's page may call them; nothing else.
CORS_PATHS = ("/cds-services",)
CORS_HEADERS = [(b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                (b"access-control-allow-headers", b"authorization, content-type"),
                (b"access-control-max-age", b"600")]


class Guard:
    """ASGI middleware, outermost but for the framework's last-resort handler: security headers
    on every response (errors included), a cap on request bodies, a timeout on reading them,
    cross-site POSTs refused, and every failure turned into a page (or JSON under /api) with
    the emergency advice. Nothing about a request's answers is ever logged: a failure is
    logged with its type and where it happened, not its message or values.

    Caching: answers are private, so nothing may be stored by a shared cache, and errors,
    the API and the downloads are ``no-store``. The questionnaire's own pages are
    ``private, no-cache``: the browser keeps its copy of a page it was shown, so Back and
    Forward show it again without the "Confirm Form Resubmission" warning (README: the privacy
    trade-off), and a normal visit always asks the server again.
    """

    def __init__(self, app, max_body: int = MAX_INPUT_BYTES, errors=None) -> None:
        self.app = app
        self.max_body = max_body
        self.errors = errors  # (status, path, detail) -> Response; set by create_app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")
        cors = scope["path"].startswith(CORS_PATHS)
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"server"]
                names = {k for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if cors:
                    headers += CORS_HEADERS
                if not static and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        async def fail(status: int, detail: str) -> None:
            if started:
                return
            response = self._error(status, scope["path"], detail)
            await response(scope, receive, send_with_headers)

        if cors and scope["method"] == "OPTIONS":  # the browser's preflight
            return await Response(status_code=204)(scope, receive, send_with_headers)
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not cors and cross_site(scope):
            return await fail(403, "request: sent from another site; the questionnaire only accepts its own pages")
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return await fail(413, f"request body too large (more than {self.max_body:,} bytes)")
        seen = 0

        async def limited_receive():
            nonlocal seen
            with anyio.fail_after(BODY_TIMEOUT):
                message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            await fail(413, f"request body too large (more than {self.max_body:,} bytes)")
        except TimeoutError:
            await fail(408, "request: the body took too long to arrive")
        except Exception as exc:
            if type(exc).__name__ in ("ClientDisconnect", "ClientDisconnected"):
                return  # the person closed the page or lost the network: routine, not an error
            # the type and where, never the message: it may quote an answer
            where = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)[-5:]))
            log.error("%s %s failed: %s (message not logged: it may hold answers)\n%s",
                      scope["method"], scope["path"], type(exc).__name__, where.rstrip())
            await fail(500, "the server failed; nothing was stored")

    def _error(self, status: int, path: str, detail: str) -> Response:
        if self.errors is not None:
            try:
                return self.errors(status, path, detail)
            except Exception:  # the error page itself failed: plain words, still with the advice
                log.error("the error page failed: %s", traceback.format_exc(limit=0).strip())
        return JSONResponse({"detail": detail, "emergency": EMERGENCY_FALLBACK}, status_code=status)


EMERGENCY_FALLBACK = "If you cannot breathe or swallow, call emergency services now."


class _TooLarge(Exception):
    pass


def cross_site(scope) -> bool:
    """Whether a request comes from another site's page: the browser says so in
    ``Sec-Fetch-Site`` (anything but same-origin, or none for a typed address), or an
    ``Origin`` that is not this server's host. Programs that send neither (curl, a clinic
    system calling the API) are not browsers and are let through."""
    headers = {k: v for k, v in scope["headers"] if k in (b"sec-fetch-site", b"origin", b"host")}
    site = headers.get(b"sec-fetch-site")
    if site is not None and site.lower() not in (b"same-origin", b"none"):
        return True
    origin = headers.get(b"origin")
    if origin is None:
        return False
    if origin == b"null":
        return True
    netloc = urlsplit(origin.decode("latin-1")).netloc.lower()
    return netloc != headers.get(b"host", b"").decode("latin-1").lower()


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(version=__version__, kb=knowledge.default())
    return env


@contextlib.asynccontextmanager
async def _lifespan(app):
    yield
    work.shutdown()  # the worker processes of large batches, if any were started


def create_app() -> FastAPI:
    """The ASGI app (a factory, so that each worker process builds its own)."""
    app = FastAPI(
        title="dystonia-triage",
        version=__version__,
        description=("A rule-based triage assistant for dystonia. It never diagnoses: only a "
                     "neurologist can. The API speaks the project's case and assessment contract."),
        docs_url=None, redoc_url=None,  # the interactive docs would load third-party assets
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    app.include_router(fhir_api.router())  # FHIR (SDC, $assess) and CDS Hooks
    env = _environment()
    kb = knowledge.default()
    pages = Pages(env, Questionnaire(kb), kb)
    app.add_middleware(Guard, errors=pages.error)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return pages.error(exc.status_code, request.url.path, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # the framework's own message quotes the input: say only where the problem is
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5])
        return pages.error(422, request.url.path, f"request: not valid at {where or 'the body'}")

    async def form_of(request: Request):
        return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_INPUT_BYTES)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def welcome() -> HTMLResponse:
        return pages.render("welcome.html", title="Start", cache=False)

    @app.get("/step", include_in_schema=False)
    def step_get() -> RedirectResponse:
        # Answers only ever travel in a POST body, never in an address.
        return RedirectResponse("/", status_code=303)

    @app.post("/step", response_class=HTMLResponse, include_in_schema=False)
    async def step(request: Request) -> HTMLResponse:
        return await run_in_pool(pages.step, await form_of(request))

    @app.post("/download/{name}", include_in_schema=False)
    async def download(name: str, request: Request) -> Response:
        return await run_in_pool(pages.download, name, await form_of(request))

    @app.post("/report", response_class=HTMLResponse, include_in_schema=False)
    async def printable(request: Request) -> Response:
        return await run_in_pool(pages.report, await form_of(request))

    @app.get(
        "/api/questionnaire",
        summary="The FHIR R4 Questionnaire of every question",
        description=("Generated from the question data: linkIds are the question ids, answer "
                     "options carry the contract ids, enableWhen comes from each question's condition."),
        responses={200: {"content": {"application/fhir+json": {}}}},
    )
    def api_questionnaire() -> Response:
        from triage import fhir

        return JSONResponse(fhir.questionnaire(), media_type="application/fhir+json")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        # on the event loop, never behind the engine's pool: it answers while the server is busy
        return {"status": "ok"}

    @app.post(
        "/api/assess",
        summary="Assess a case (or a JSON array of cases)",
        description=("Send a case in the contract's shape; get the assessment. A JSON array of "
                     f"cases (at most {MAX_BATCH:,}) gives an array of assessments, in order. "
                     "Malformed JSON gives 400; a larger batch gives 413; a case that breaks the "
                     "contract, a key given twice in one object, JSON nested more than "
                     f"{MAX_DEPTH} deep or a number of more than {MAX_DIGITS} digits gives 422 "
                     "with one line per problem, naming the field and the allowed values. With "
                     "`Accept: application/fhir+json` the results come as FHIR: a Bundle with the "
                     "QuestionnaireResponse, RiskAssessment, ServiceRequests, Flags and Provenance "
                     "(a Bundle of Bundles for an array), and errors as OperationOutcomes."),
        response_model=Assessment,
        responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object", "description":
                                                                          "a FHIR R4 Bundle"}}}},
                   400: {"description": "not valid JSON"},
                   413: {"description": f"more than {MAX_BATCH:,} cases, or a body over {MAX_INPUT_BYTES:,} bytes"},
                   422: {"description": "the case breaks the contract; `errors` names each field"}},
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"oneOf": [{"$ref": "#/components/schemas/Case"},
                                 {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}]}}}}},
    )
    async def api_assess(request: Request) -> Response:
        raw = await request.body()
        if wants_fhir(request):
            return await run_in_pool(api_fhir_work, raw)
        result = await run_in_pool(api_work, raw)
        if isinstance(result, list):  # a large batch, validated: assessed in a worker process
            body = await asyncio.wrap_future(work.pool().submit(work.assess_json, result))
            return Response(body, media_type="application/json")
        return result

    def wants_fhir(request: Request) -> bool:
        """``Accept: application/fhir+json`` asks for the results as FHIR, as ``/fhir/$assess``
        and ``assess --format fhir-bundle`` give them."""
        accept = [part.split(";")[0].strip().lower() for part in request.headers.get("accept", "").split(",")]
        return "application/fhir+json" in accept

    def api_fhir_work(raw: bytes) -> Response:
        """The results Bundle (a Bundle of Bundles for a batch); errors as OperationOutcomes."""
        from triage import fhir_results
        from triage.web.fhir_api import FHIR_JSON, outcome

        def refuse(status: int, message: str) -> Response:
            return JSONResponse(outcome(message, "too-long" if status == 413 else "invalid"), status_code=status,
                                media_type=FHIR_JSON)

        try:
            doc = load_json(raw.decode("utf-8"), "body")
            items, _ = items_of(doc)
            if len(items) > MAX_BATCH:
                return refuse(413, f"body: a batch of {len(items):,} cases; at most {MAX_BATCH:,} cases "
                                   "in one request (send several requests)")
            inputs, batch = parse_document(doc, "body")
        except UnicodeDecodeError as exc:
            return refuse(400, f"body: not valid JSON (not UTF-8 text at byte {exc.start})")
        except InputProblem as exc:
            return refuse(400 if isinstance(exc, NotJson) else 422, str(exc))
        cases = [c for c, _asked in inputs]
        body = fhir_results.render([assess(c) for c in cases], cases, batch, asked=[k for _c, k in inputs])
        return Response(body, media_type=FHIR_JSON)

    def api_work(raw: bytes):
        """The response, or (for a large valid batch) the cases to assess in a worker process."""
        try:
            doc = load_json(raw.decode("utf-8"), "body")
        except UnicodeDecodeError as exc:
            return pages.api_error(400, f"body: not valid JSON (not UTF-8 text at byte {exc.start})")
        except InputProblem as exc:
            return pages.api_error(400 if isinstance(exc, NotJson) else 422, str(exc))
        items, _ = items_of(doc)
        if len(items) > MAX_BATCH:
            return pages.api_error(413, f"body: a batch of {len(items):,} cases; at most {MAX_BATCH:,} cases "
                                        "in one request (send several requests)")
        try:
            inputs, batch = parse_document(doc, "body")
        except InputProblem as exc:
            lines = str(exc).splitlines()
            return pages.api_error(422, lines[0], [ln.strip() for ln in lines[1:]])
        if batch and len(inputs) > work.PROCESS_BATCH:
            return [c.model_dump(mode="json", exclude_none=True) for c, _asked in inputs]
        # one assessment at a time, serialised on its own: a batch never holds the interpreter
        # lock for long in one call (json.dumps of a whole batch would, and /healthz would wait)
        parts = [to_json(assess(c)) for c, _asked in inputs]
        body = b"[" + b",".join(parts) + b"]" if batch else parts[0]
        return Response(body, media_type="application/json")

    def openapi() -> dict:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Case"] = Case.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class Pages:
    """The HTML pages of the questionnaire. Every page is a function of the form alone; the
    questionnaire session decides what comes next, what an answer means and when an
    emergency shows."""

    def __init__(self, env: Environment, iv: Questionnaire, kb: knowledge.KnowledgeBase) -> None:
        self.env = env
        self.iv = iv
        self.kb = kb
        # the clinic directory of TRIAGE_CLINICS (serve --clinics sets it), else the example
        self.directory = clinics.current(None, kb)
        t = iv.text
        # the numbers to call, as links a phone dials (settings in knowledge/questions.yaml)
        self.calls = [{"href": f"tel:{t.emergency_phone}", "label": t.call_emergency.format(number=t.emergency_phone)}]
        if t.clinic_phone:
            self.calls.append({"href": f"tel:{t.clinic_phone}", "label": t.call_clinic.format(number=t.clinic_phone)})

    # -- rendering ------------------------------------------------------------------------
    def render(self, template: str, status: int = 200, session: Optional[Session] = None, *, cache: bool = True,
               **ctx) -> HTMLResponse:
        """A page. ``cache``: the browser may keep it for Back and Forward (see :class:`Guard`);
        error pages are not kept."""
        ctx.setdefault("error", None)
        ctx.setdefault("hide_banner", False)
        session = session or self.iv.session()
        ctx.update(answers_json=state.dump(session.answers), banner=self.banner(session), words=self.iv.text,
                   calls=self.calls, who=session.who())
        headers = {"cache-control": PAGE_CACHE.decode()} if cache else None
        return HTMLResponse(self.env.get_template(template).render(**ctx), status_code=status, headers=headers)

    ERROR_TITLES = {403: "Refused: this page was sent from another site", 404: "Not found",
                    405: "This address does not take that request", 408: "The request took too long",
                    413: "Too much was sent", 422: "The request could not be read",
                    500: "Sorry, something went wrong"}

    # FHIR's IssueType for each refusal the guard makes before a FHIR endpoint sees the request
    ISSUE_TYPES = {403: "security", 404: "not-found", 405: "not-supported", 408: "timeout", 413: "too-long",
                   422: "invalid", 500: "exception"}

    def error(self, status: int, path: str, detail: str) -> Response:
        """Any error: an OperationOutcome under /fhir and /cds-services, JSON under /api, else
        a page; all with the emergency advice."""
        if path.startswith(("/fhir/", "/cds-services")):
            from triage.web.fhir_api import FHIR_JSON, outcome

            return JSONResponse(outcome(detail, self.ISSUE_TYPES.get(status, "processing")), status_code=status,
                                media_type=FHIR_JSON)
        if path.startswith("/api/"):
            return self.api_error(status, detail)
        return self.render("bad.html", status=status, cache=False, title=self.ERROR_TITLES.get(status, "Error"),
                           message=self.ERROR_TITLES.get(status, "Error") + ".", detail=detail)

    def api_error(self, status: int, detail: str, errors: Optional[list[str]] = None) -> JSONResponse:
        # every error has its lines in ``errors``, so a program reads all of them one way
        doc: dict = {"detail": detail, "errors": errors if errors is not None else [detail]}
        doc["emergency"] = " ".join(self.iv.text.worded("emergency_now", None).split())
        doc["call"] = [c["href"] for c in self.calls]
        return JSONResponse(doc, status_code=status)

    def banner(self, session: Session) -> Optional[dict]:
        """The emergency the answers so far reach, whatever made it one: on every page."""
        if not session.answers:
            return None
        e = session.emergency()
        if e is None:
            return None
        return {"label": e.label, "action": e.action, "flags": e.reasons, "because": e.because()}

    def question(self, q, session: Session, *, submitted: Optional[list] = None,
                 error: Optional[str] = None, then: str = "", status: int = 200) -> HTMLResponse:
        answers = session.answers
        order = session.given()
        number = order.index(q.id) + 1 if q.id in order else len(order) + 1
        value = answers.get(q.id) if submitted is None else submitted
        if isinstance(value, list):
            chosen = [str(v) for v in value]
            if not value and submitted is None:
                chosen = ["none"]  # answered "none of these"
        else:
            chosen = [] if value is None else [str(value)]
        if q.kind == "number" and submitted is None and q.id in answers and value is None:
            chosen = []  # answered "I don't know"
        if q.kind == "yes_no":
            choices = [{"id": code, "label": self.iv.text.yes_no_label(code), "description": None}
                       for code in q.answer_ids()]
        else:
            choices = [{"id": c.id, "label": c.label or c.id, "description": c.description}
                       for c in session.offered(q)]
        wording = session.wording(q)
        return self.render("question.html", status=status, session=session,
                           title=("Error: " if error else "") + wording,
                           q=q, wording=wording, hint=session.help(q), section=self.iv.sections.get(q.section, ""),
                           chosen=chosen, number_value=chosen[0] if chosen and q.kind == "number" else "",
                           choices=choices, error=error, number=number, then=then,
                           why=[{"text": line.strip(), "sub": line.startswith(" ")}
                                for line in why_mod.why(session, q) if line != session.help(q)],
                           # an unanswered question is the questionnaire's next one, so more
                           # is left to ask; only a question asked again needs the check
                           can_review=q.id in answers and session.complete())

    def review(self, session: Session) -> HTMLResponse:
        rows = [{"id": q.id, "question": session.wording(q), "answer": label} for q, label in session.review()]
        return self.render("review.html", session=session, title=self.iv.text.review_title, rows=rows)

    def result(self, session: Session, near: Optional[str] = None) -> HTMLResponse:
        """The result; ``near``: the place typed in its find-a-specialist step (not on an
        emergency result), used to sort the clinics and never kept or logged."""
        from triage import treatments
        from triage.assessment import to_case

        case = to_case(session.case())
        a = session.assessment()
        specialist = self.specialist(a, near) if clinics.offered(self.kb, a) else None
        status = 422 if specialist and specialist["error"] else 200
        rules = {t.rule: t for t in a.trace}
        behind = {c.type: why_mod.how(session, a, c.because)["answers"] for c in a.candidates}
        emergency = self.iv.is_emergency(a.care_level)
        from triage.report import regions_taken, step_text

        steps = [step_text(s, emergency, session.who(), a) for s in a.next_steps]
        steps_heading = self.kb.report.after_emergency_heading if emergency else self.kb.report.next_steps_heading
        chart = session.chart(a) if session.shows_chart() else None
        downloads = DOWNLOADS + [CHART_DOWNLOAD] if chart is not None else DOWNLOADS
        return self.render("result.html", session=session, title=self.iv.text.result_title, a=a, chart=chart,
                           steps=steps, steps_heading=steps_heading, regions_taken=regions_taken(a),
                           case=case, rules=rules, behind=behind, emergency=emergency, hide_banner=emergency,
                           # rule ids and source keys for those who read them; a patient reads the words
                           expert=session.shows_rule_ids(),
                           unfinished=not session.complete(), downloads=downloads, status=status,
                           treatments=treatments.for_result(self.kb, a, session.who()), specialist=specialist,
                           # a page showing clinics near a place is not kept for Back and Forward
                           cache=near is None)

    def specialist(self, a: Assessment, near: Optional[str]) -> dict:
        """The find-a-specialist step: the place as typed, the clinics found, or why none."""
        out: dict = {"near": "", "found": None, "place": None, "error": None}
        if near is None:
            return out
        out["near"] = " ".join(str(near).split())[:80]
        try:
            place = clinics.find_place(out["near"])
        except clinics.PlaceNotFound as exc:
            out["error"] = clinics.not_found_message(self.kb, exc)
            return out
        out["place"] = place.name
        out["found"] = clinics.suggest(self.kb, a, place, self.directory)
        return out

    def chosen_clinics(self, a: Assessment, form):
        """The clinics of the find-a-specialist step, for the report (``near`` in the form)."""
        near = form.get("near")
        if not near or not clinics.offered(self.kb, a):
            return None
        try:
            place = clinics.find_place(str(near)[:80])
        except clinics.PlaceNotFound:
            return None
        return clinics.suggest(self.kb, a, place, self.directory)

    def bad(self, message: str) -> HTMLResponse:
        return self.render("bad.html", status=400, cache=False, title="Error: the answers could not be read",
                           message=self.iv.text.bad_answers, detail=message)

    # -- the flow -------------------------------------------------------------------------
    def step(self, form) -> HTMLResponse:
        """One step of the questionnaire: read the answers, apply the button pressed, show the
        next page."""
        try:
            session = state.load(self.iv, form.get("answers"))
        except state.BadAnswers as exc:
            return self.bad(str(exc))
        go = str(form.get("go") or "start")
        qid = str(form.get("q") or "")
        then = "review" if form.get("then") == "review" else ""
        if go == "start":  # from the start page; after "Back" to it, the answers are kept
            first = self.iv.session().next_question()
            return self.question(first, session)
        if go == "review":
            nxt = session.next_question()
            return self.review(session) if nxt is None else self.question(nxt, session)
        if go == "result":
            return self.result(session)
        if go == "clinics":  # the find-a-specialist step of the result
            return self.result(session, near=str(form.get("near") or ""))
        if go.startswith("change:"):
            target = go.split(":", 1)[1]
            if target not in session.active:
                return self.bad(f"change: {target!r} is not an answer given")
            return self.question(self.iv.by_id[target], session, then="review")
        q = self.iv.by_id.get(qid)
        if q is None:
            return self.bad(f"q: {qid!r} is not a question of this questionnaire")
        if go == "back":
            prev = session.before(q.id)
            if prev is None:
                return self.render("welcome.html", session=session, title="Start")
            return self.question(prev, session)
        if go == "continue":  # on from the emergency page
            return self.next_page(q, session, then)
        if go != "next":
            return self.bad(f"go: {go!r} is not a known button")
        submitted = form.getlist("answer")
        try:
            session.answer(q.id, session.parse(q, submitted))
        except AnswerError as exc:
            return self.question(q, session, submitted=submitted, error=str(exc), then=then, status=422)
        session.mark_asked(q.id)
        emergency = session.emergency_to_show()
        if emergency is not None:
            return self.render("emergency.html", session=session, title=emergency.label, e=emergency, q=q,
                               then=then, hide_banner=True, who=session.who())
        return self.next_page(q, session, then)

    def next_page(self, q, session: Session, then: str) -> HTMLResponse:
        """The page after ``q`` was answered: the next question, else the review (and straight
        back to the review when the person came from it, unless a new question now applies)."""
        if then == "review":
            nxt = session.next_question()
            return self.review(session) if nxt is None else self.question(nxt, session, then=then)
        nxt = session.after(q.id)
        return self.review(session) if nxt is None else self.question(nxt, session)

    # -- the report and the downloads --------------------------------------------------------
    def _final(self, form):
        """The session of a form, the case it makes, its assessment and what was asked."""
        from triage.assessment import to_case

        session = state.load(self.iv, form.get("answers"))
        case = to_case(session.case())
        return session, case, assess(case), session.record()

    def report(self, form) -> Response:
        """The appointment report (the reports' own HTML page), to print."""
        from triage import report

        try:
            _, case, a, asked = self._final(form)
        except state.BadAnswers as exc:
            return self.bad(str(exc))
        return HTMLResponse(report.html_report(a, case, asked=asked, clinics=self.chosen_clinics(a, form)),
                            headers={"content-security-policy": REPORT_CSP})

    def download(self, name: str, form) -> Response:
        from triage import fhir, report

        try:
            session, case, a, asked = self._final(form)
        except state.BadAnswers as exc:
            return self.bad(str(exc))
        if name == "report.html":
            return _attachment(report.html_report(a, case, asked=asked, clinics=self.chosen_clinics(a, form)),
                               "text/html; charset=utf-8",
                               "dystonia-triage-report.html", csp=REPORT_CSP)
        if name == "case.json":
            body = json.dumps(session.case(), indent=2, ensure_ascii=False) + "\n"  # as the terminal saves it
            return _attachment(body, "application/json", "dystonia-triage-case.json")
        if name == CHART_DOWNLOAD[0]:
            return _attachment(session.chart(a), "text/plain; charset=utf-8", "dystonia-triage-summary.txt")
        if name == "response.fhir.json":
            status = "completed" if session.complete() else "in-progress"
            doc = fhir.response_from_answers(session.active, status=status)
            return _attachment(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "application/fhir+json",
                               "dystonia-triage-answers.fhir.json")
        return self.render("bad.html", status=404, cache=False, title="Not found", message="There is no such download.",
                           detail=name)


def _attachment(body: str, media_type: str, filename: str, csp: Optional[str] = None) -> Response:
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    if csp:
        headers["content-security-policy"] = csp
    return Response(body, media_type=media_type, headers=headers)
