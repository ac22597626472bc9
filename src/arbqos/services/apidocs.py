"""Self-hosted API docs: the OpenAPI document rendered as plain HTML, with no script at all.

FastAPI's default `/docs` loads Swagger UI from a CDN on a page where an admin token may be
typed; this page is served by the orchestrator itself, runs nothing, and takes no token: it
lists every route with its summary, parameters, request body and answers, and links the raw
`/openapi.json`.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "h2{margin-top:2rem;border-bottom:1px solid #ccc}code,pre{background:#f4f4f4}"
    "pre{padding:.5rem;overflow-x:auto}td,th{padding:.2rem .6rem;text-align:left}"
)


def render_docs(openapi: dict[str, Any]) -> str:
    """Return a complete HTML page describing `openapi` (a FastAPI `app.openapi()` document)."""
    info = openapi.get("info", {})
    title = escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "style-src 'unsafe-inline'\">",
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1><p>{escape(str(info.get('description', '')))}</p>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>. Calls that change "
        "anything need <code>Authorization: Bearer &lt;token&gt;</code>.</p>",
    ]
    schemas = openapi.get("components", {}).get("schemas", {})
    for path, methods in sorted(openapi.get("paths", {}).items()):
        for method, operation in methods.items():
            parts.append(_operation(method, path, operation, schemas))
    parts.append("</body></html>")
    return "".join(parts)


def _operation(method: str, path: str, op: dict[str, Any], schemas: dict[str, Any]) -> str:
    """One route: heading, summary, parameters, body and answers."""
    out = [f"<h2><code>{escape(method.upper())} {escape(path)}</code></h2>"]
    text = op.get("description") or op.get("summary") or ""
    out.append(f"<p>{escape(str(text))}</p>")
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>type</th></tr>")
        for param in params:
            kind = param.get("schema", {}).get("type", "")
            out.append(
                f"<tr><td><code>{escape(str(param.get('name')))}</code></td>"
                f"<td>{escape(str(param.get('in')))}</td><td>{escape(str(kind))}</td></tr>"
            )
        out.append("</table>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if body:
        out.append("<p>Request body:</p>" + _schema(body.get("schema", {}), schemas))
    answers = ", ".join(
        f"{escape(code)} {escape(str(answer.get('description', '')))}"
        for code, answer in sorted(op.get("responses", {}).items())
    )
    out.append(f"<p>Answers: {answers}</p>")
    return "".join(out)


def _schema(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    """A request schema, references resolved one level, as pretty JSON."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = schemas.get(ref.rsplit("/", 1)[1], schema)
    shown = {
        "required": schema.get("required", []),
        "properties": {
            name: {k: v for k, v in spec.items() if k in ("type", "default", "maxLength", "enum")}
            for name, spec in schema.get("properties", {}).items()
        },
    }
    return f"<pre>{escape(json.dumps(shown, indent=2, sort_keys=True))}</pre>"
