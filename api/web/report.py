"""The call report: a printable page (``/calls/{id}/report``) and the same page as PDF, rendered by
the server with WeasyPrint (``GET /v1/calls/{id}/report.pdf``). The PDF is made from the page's
own HTML and stylesheet only: WeasyPrint may fetch nothing (every URL is refused), so a value in
the report can never make the server reach out. Each read goes into the access log."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from callscope.api.deps import CallId, Reader, Services, Svc
from callscope.api.web.routes import STATIC_DIR, _live, templates
from callscope.privacy import access_log
from callscope.qa import report
from callscope.qa.evaluations import EvaluationError
from callscope.store.db import Call

router = APIRouter()


def _data(svc: Services, call_id: str) -> dict:
    with svc.sessions() as s:
        call = s.get(Call, call_id)
        if call is None:
            raise HTTPException(404, f"no call {call_id}")
        try:
            return report.report_data(s, call)
        except EvaluationError as exc:
            raise HTTPException(409, str(exc)) from exc


def _render(request: Request, data: dict, who: str, pdf: bool) -> str:
    return templates.get_template("report.html").render(
        request=request, r=data, who=who, pdf=pdf, printed=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"))


@router.get("/calls/{call_id}/report", response_class=HTMLResponse, include_in_schema=False)
def report_page(request: Request, svc: Svc, call_id: CallId) -> Response:
    """The printable report (print it from the browser, or take the PDF)."""
    found = _live(request, svc)
    if found is None:
        return RedirectResponse(f"/signin?next={quote(request.url.path, safe='')}", status_code=303)
    who = found[0]
    if not who.allows("read"):
        raise HTTPException(403, f"API key '{who.name}' lacks the 'read' scope")
    data = _data(svc, call_id)
    access_log.record(svc.sessions, who, call_id, "report")
    return HTMLResponse(_render(request, data, who.name, pdf=False))


def _refuse_urls(url: str, *args, **kwargs):
    raise ValueError(f"the report fetches nothing: {url[:80]}")


def render_pdf(html: str) -> bytes:
    """The report's HTML as PDF (A4), with its stylesheet, fetching nothing."""
    from weasyprint import CSS, HTML

    return HTML(string=html, url_fetcher=_refuse_urls).write_pdf(
        stylesheets=[CSS(filename=str(STATIC_DIR / "report.css"), url_fetcher=_refuse_urls)])


@router.get("/v1/calls/{call_id}/report.pdf", operation_id="get_report_pdf", response_class=Response, tags=["qa workflow"],
            responses={200: {"description": "the call's one-page report", "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}},
                       409: {"description": "the call is not analysed"}})
async def report_pdf(request: Request, call_id: CallId, svc: Svc, who: Reader) -> Response:
    """The call's report as PDF: level and reasons, the evaluation with its answers, comments and
    coaching, and the key utterances. The read goes into the access log."""
    data = await run_in_threadpool(_data, svc, call_id)
    pdf = await run_in_threadpool(render_pdf, _render(request, data, who.name, pdf=True))
    await run_in_threadpool(access_log.record, svc.sessions, who, call_id, "report")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="call-{call_id}.pdf"'})
