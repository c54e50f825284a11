"""The API's documentation for people, made from its OpenAPI document: every operation with its parameters, body and
answers, on a plain page of the site (no script, nothing loaded from elsewhere)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from api.views.osdi import api

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(reference: dict | None) -> str:
    if not reference:
        return ""
    if "$ref" in reference:
        return reference["$ref"].rsplit("/", 1)[1]
    return reference.get("type", "")


def _operations(schema: dict) -> list[dict]:
    found = []
    for path, item in schema["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not operation:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            found.append({
                "method": method.upper(),
                "path": path,
                "anchor": operation.get("operationId", f"{method}-{path}"),
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "token": bool(operation.get("security")),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "description": p.get("description") or p.get("schema", {}).get("description", "")}
                               for p in operation.get("parameters", [])],
                "body": _schema_name(body),
                "responses": [{"status": status, "schema": _schema_name(
                    next(iter(answer.get("content", {}).values()), {}).get("schema"))}
                    for status, answer in operation.get("responses", {}).items()],
            })  # fmt: skip
    return found


def _type(value: dict) -> str:
    if "anyOf" in value:
        return " or ".join(_type(option) for option in value["anyOf"])
    if value.get("type") == "array":
        return f"list of {_type(value.get('items', {}))}"
    return _schema_name(value) or "any"


def _shapes(schema: dict) -> list[dict]:
    shapes = []
    for name, shape in sorted(schema.get("components", {}).get("schemas", {}).items()):
        required = set(shape.get("required", []))
        properties = [{"name": key, "type": _type(value), "required": key in required,
                       "description": value.get("description", "")}
                      for key, value in shape.get("properties", {}).items()]  # fmt: skip
        shapes.append({"name": name, "properties": properties})
    return shapes


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    schema = api.get_openapi_schema(path_prefix="/api/v1")
    context = {"info": schema["info"], "operations": _operations(schema), "shapes": _shapes(schema)}
    return render(request, "api/docs.html", context)
