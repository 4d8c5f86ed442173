"""A browsable page of the API, rendered on the server from the OpenAPI document (no script,
nothing fetched from elsewhere: it works on an offline county network)."""
from html import escape


def render(document: dict) -> str:
    rows = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = ", ".join(
                f"{escape(p['name'])} ({p['in']}{', required' if p.get('required') else ''})"
                for p in operation.get("parameters", []))
            body = operation.get("requestBody", {}).get("content", {}).get(
                "application/json", {}).get("schema", {}).get("$ref", "")
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
                f"<td>{escape(operation.get('summary', ''))}"
                f"<br><small>{escape(operation.get('description', ''))}</small></td>"
                f"<td>{parameters}</td><td>{escape(body.rsplit('/', 1)[-1])}</td></tr>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(document['info']['title'])}</title><style>"
            "body{font-family:sans-serif;margin:1.5rem;color:#111}table{border-collapse:collapse}"
            "td,th{border:1px solid #999;padding:.3rem .5rem;vertical-align:top;text-align:left}"
            "code{white-space:nowrap}</style></head><body>"
            f"<h1>{escape(document['info']['title'])} {escape(document['info']['version'])}</h1>"
            f"<p>{escape(document['info'].get('description', ''))}</p>"
            "<p>Machine-readable: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a></p>"
            "<table><thead><tr><th>Method</th><th>Path</th><th>What it does</th>"
            "<th>Parameters</th><th>Body</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></body></html>")
