"""The shape of the house (CONTRIBUTING.md), as far as the import contracts (`lint-imports`) do not already check it:
one convention for modules in every app, and no import tucked into a function to get round a cycle."""

import ast

import pytest

from tests.conftest import ROOT

APPS = ["core", "accounts", "signatures", "petitions", "deliverables", "articles", "comments", "api", "demo", "config"]
# Imports that must wait for something, not for a cycle: AppConfig.ready() runs once models are loaded, and the
# Celery app is imported by config/__init__.py before Django is set up.
DEFERRED_ON_PURPOSE = {"apps.py", "config/celery.py"}


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_scan_sees_the_project():
    assert len(list(_modules())) > 100


@pytest.mark.parametrize("app", APPS)
def test_no_suffix_modules_beside_a_module_or_package_of_the_same_name(app):
    """`services_letters.py` beside `services.py` or `services/` is what the packages replaced."""
    for folder in [ROOT / app, *[p for p in (ROOT / app).rglob("*") if p.is_dir()]]:
        names = {p.stem for p in folder.glob("*.py")} | {p.name for p in folder.iterdir() if p.is_dir()}
        for name in names:
            prefix = name.split("_", 1)[0]
            assert not ("_" in name and prefix in names and prefix in {"services", "views", "forms", "selectors",
                                                                       "models", "tasks", "admin", "urls"}), (
                f"{folder.relative_to(ROOT)}/{name}: put it inside {prefix}/ as a module named for what it does"
            )  # fmt: skip


def test_project_imports_sit_at_the_top_of_their_module():
    project = set(APPS)
    nested = []
    for path in _modules():
        relative = path.relative_to(ROOT).as_posix()
        if path.name in DEFERRED_ON_PURPOSE or relative in DEFERRED_ON_PURPOSE:
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in project:
                    nested.append(f"{relative}:{node.lineno} from {node.module}")
                elif isinstance(node, ast.Import) and any(a.name.split(".")[0] in project for a in node.names):
                    nested.append(f"{relative}:{node.lineno} import {node.names[0].name}")
    assert nested == [], "imports inside functions (move them to the top; a cycle means misplaced code):\n" + "\n".join(
        nested
    )
