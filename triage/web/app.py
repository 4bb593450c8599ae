"""The web app: the questionnaire as server-rendered pages, and a small JSON API.

Stateless and private: the answers travel with the form (see :mod:`triage.web.state`), nothing
is stored, no cookie is set, every asset is served from here, and every response carries
strict security headers. The pages work without JavaScript.

Run it with ``dystonia-triage serve``; build it with :func:`create_app` (an ASGI app).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from triage import __version__, knowledge
from triage.assessment import assess
from triage.inputs import (MAX_DEPTH, MAX_DIGITS, MAX_INPUT_BYTES, InputProblem, NotJson, items_of, load_json,
                           parse_document)
from triage.models import Assessment, Case
from triage.explanation import asked as why_mod
from triage.questionnaire.answers import AnswerError
from triage.questionnaire.session import Questionnaire, Session
from triage.web import state

HERE = Path(__file__).resolve().parent
MAX_BATCH = 1_000  # cases in one API request: a bigger batch is refused (413), so no request hogs a worker
# The rules engine is CPU-bound: it runs in a pool of threads sized to the machine, off the event
# loop, so /healthz and the static files answer at once while the pool is busy.
WORK_THREADS = max(2, min(8, os.cpu_count() or 2))
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

# No script or style from anywhere but here, no framing, no plugins, forms post only here.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# The downloadable report is one self-contained page: its styles are inline, and nothing
# else may load.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class Guard:
    """ASGI middleware: security headers on every response, and a cap on request bodies.

    Answers are private, so nothing but the static files may be cached.
    """

    def __init__(self, app, max_body: int = MAX_INPUT_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/static/")
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                return await _too_large(send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge()
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"server"]
                names = {k for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [h for h in SECURITY_HEADERS if h[0] not in names]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send) -> None:
    body = b'{"detail": "request body too large"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"content-security-policy", CSP.encode()), *SECURITY_HEADERS, (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(version=__version__, kb=knowledge.default())
    return env


def create_app() -> FastAPI:
    """The ASGI app (a factory, so that each worker process builds its own)."""
    app = FastAPI(
        title="dystonia-triage",
        version=__version__,
        description=("A rule-based triage assistant for dystonia. It never diagnoses: only a "
                     "neurologist can. The API speaks the project's case and assessment contract."),
        docs_url=None, redoc_url=None,  # the interactive docs would load third-party assets
        openapi_url="/api/openapi.json",
    )
    app.add_middleware(Guard)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    env = _environment()
    kb = knowledge.default()
    pages = Pages(env, Questionnaire(kb), kb)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def welcome() -> HTMLResponse:
        return pages.render("welcome.html", title="Start")

    @app.get("/step", include_in_schema=False)
    def step_get() -> RedirectResponse:
        # Answers only ever travel in a POST body, never in an address.
        return RedirectResponse("/", status_code=303)

    @app.post("/step", response_class=HTMLResponse, include_in_schema=False)
    async def step(request: Request) -> HTMLResponse:
        form = await request.form()
        return pages.step(form)

    @app.post("/download/{name}", include_in_schema=False)
    async def download(name: str, request: Request) -> Response:
        form = await request.form()
        return pages.download(name, form)

    @app.post("/report", response_class=HTMLResponse, include_in_schema=False)
    async def printable(request: Request) -> Response:
        form = await request.form()
        return pages.report(form)

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
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post(
        "/api/assess",
        summary="Assess a case (or a JSON array of cases)",
        description=("Send a case in the contract's shape; get the assessment. A JSON array of "
                     f"cases (at most {MAX_BATCH:,}) gives an array of assessments, in order. "
                     "Malformed JSON gives 400; a larger batch gives 413; a case that breaks the "
                     "contract, a key given twice in one object, JSON nested more than "
                     f"{MAX_DEPTH} deep or a number of more than {MAX_DIGITS} digits gives 422 "
                     "with one line per problem, naming the field and the allowed values."),
        response_model=Assessment,
        responses={400: {"description": "not valid JSON"},
                   413: {"description": f"more than {MAX_BATCH:,} cases, or a body over {MAX_INPUT_BYTES:,} bytes"},
                   422: {"description": "the case breaks the contract; `errors` names each field"}},
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"oneOf": [{"$ref": "#/components/schemas/Case"},
                                 {"type": "array", "items": {"$ref": "#/components/schemas/Case"}}]}}}}},
    )
    async def api_assess(request: Request) -> Response:
        raw = await request.body()
        return await run_in_pool(api_work, raw)

    def api_work(raw: bytes) -> Response:
        try:
            doc = load_json(raw.decode("utf-8"), "body")
        except UnicodeDecodeError as exc:
            return JSONResponse({"detail": f"body: not valid JSON (not UTF-8 text at byte {exc.start})"},
                                status_code=400)
        except InputProblem as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400 if isinstance(exc, NotJson) else 422)
        items, _ = items_of(doc)
        if len(items) > MAX_BATCH:
            return JSONResponse({"detail": f"body: a batch of {len(items):,} cases; at most {MAX_BATCH:,} "
                                           "cases in one request (send several requests)"}, status_code=413)
        try:
            inputs, batch = parse_document(doc, "body")
        except InputProblem as exc:
            lines = str(exc).splitlines()
            return JSONResponse({"detail": lines[0], "errors": [ln.strip() for ln in lines[1:]]},
                                status_code=422)
        docs = [assess(c).model_dump(mode="json") for c, _asked in inputs]
        return JSONResponse(docs if batch else docs[0])

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

    # -- rendering ------------------------------------------------------------------------
    def render(self, template: str, status: int = 200, session: Optional[Session] = None, **ctx) -> HTMLResponse:
        ctx.setdefault("error", None)
        ctx.setdefault("hide_banner", False)
        session = session or self.iv.session()
        ctx.update(answers_json=state.dump(session.answers), banner=self.banner(session), words=self.iv.text)
        return HTMLResponse(self.env.get_template(template).render(**ctx), status_code=status)

    def banner(self, session: Session) -> Optional[dict]:
        """The emergency the answers so far reach, whatever made it one: on every page."""
        if not session.answers:
            return None
        e = session.emergency()
        if e is None:
            return None
        return {"label": e.label, "action": e.action, "flags": e.reasons}

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
                           q=q, wording=wording, section=self.iv.sections.get(q.section, ""),
                           chosen=chosen, number_value=chosen[0] if chosen and q.kind == "number" else "",
                           choices=choices, error=error, number=number, then=then,
                           why=[{"text": line.strip(), "sub": line.startswith(" ")}
                                for line in why_mod.why(session, q) if line != q.help],
                           # an unanswered question is the questionnaire's next one, so more
                           # is left to ask; only a question asked again needs the check
                           can_review=q.id in answers and session.complete())

    def review(self, session: Session) -> HTMLResponse:
        rows = [{"id": q.id, "question": session.wording(q), "answer": label} for q, label in session.review()]
        return self.render("review.html", session=session, title=self.iv.text.review_title, rows=rows)

    def result(self, session: Session) -> HTMLResponse:
        from triage.assessment import to_case

        case = to_case(session.case())
        a = session.assessment()
        rules = {t.rule: t for t in a.trace}
        behind = {c.type: why_mod.how(session, a, c.because)["answers"] for c in a.candidates}
        emergency = self.iv.is_emergency(a.care_level)
        return self.render("result.html", session=session, title=self.iv.text.result_title, a=a,
                           case=case, rules=rules, behind=behind, emergency=emergency, hide_banner=emergency,
                           unfinished=not session.complete(), downloads=DOWNLOADS)

    def bad(self, message: str) -> HTMLResponse:
        return self.render("bad.html", status=400, title="Error: the answers could not be read",
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
                               then=then, hide_banner=True)
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
        return HTMLResponse(report.html_report(a, case, asked=asked), headers={"content-security-policy": REPORT_CSP})

    def download(self, name: str, form) -> Response:
        from triage import fhir, report

        try:
            session, case, a, asked = self._final(form)
        except state.BadAnswers as exc:
            return self.bad(str(exc))
        if name == "report.html":
            return _attachment(report.html_report(a, case, asked=asked), "text/html; charset=utf-8",
                               "dystonia-triage-report.html", csp=REPORT_CSP)
        if name == "case.json":
            body = json.dumps(session.case(), indent=2, ensure_ascii=False) + "\n"  # as the terminal saves it
            return _attachment(body, "application/json", "dystonia-triage-case.json")
        if name == "response.fhir.json":
            status = "completed" if session.complete() else "in-progress"
            doc = fhir.response_from_answers(session.active, status=status)
            return _attachment(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "application/fhir+json",
                               "dystonia-triage-answers.fhir.json")
        return self.render("bad.html", status=404, title="Not found", message="There is no such download.",
                           detail=name)


def _attachment(body: str, media_type: str, filename: str, csp: Optional[str] = None) -> Response:
    headers = {"content-disposition": f'attachment; filename="{filename}"'}
    if csp:
        headers["content-security-policy"] = csp
    return Response(body, media_type=media_type, headers=headers)
