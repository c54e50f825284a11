"""docker-compose.yml, the Dockerfile and the Makefile start processes that exist in this project.

A renamed settings package, WSGI module or management command breaks a container only when it starts; these
tests read the files instead and check every entry point they name against the code. No database is needed.
"""

import ast
import json
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from storages.backends.s3 import S3Storage

from config.env import s3_storages

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
MAKEFILE = ROOT / "Makefile"

CELERY_SERVICES = ["worker", "beat"]
HEALTHCHECKED_SERVICES = ["db", "redis", "web"]
NAMED_VOLUMES = ["pgdata", "redisdata", "objects"]
APP_SERVICES = ["migrate", "web", "worker", "beat"]
SCALED_SERVICES = ["web", "worker"]

# module.path:attribute, as gunicorn takes it; "0.0.0.0:8000" is not one.
WSGI_TARGET = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
CELERY_APP_IN_MAKEFILE = re.compile(r"\bcelery\s+(?:-A\s*|--app[=\s]+)([\w.:]+)")


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the anchors and the `<<` merge keys, so each service appears as compose sees it.
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def _commands(service: dict) -> list[list[str]]:
    """The argv of each program a service runs; `sh -c "a && b"` runs two."""
    argv = _argv(service.get("command", []))
    if len(argv) == 3 and Path(argv[0]).name in ("sh", "bash") and argv[1] == "-c":
        scripts = [shlex.split(part) for part in re.split(r"&&|;", argv[2]) if part.strip()]
        return [script[1:] if script[0] == "exec" else script for script in scripts]
    return [argv] if argv else []


def _program(service: dict, name: str) -> list[str]:
    """The argv of the one program called `name` that a service runs."""
    found = [argv for argv in _commands(service) if Path(argv[0]).name == name]
    assert len(found) == 1, f"Expected the service to run {name} once, it runs {_commands(service)!r}."
    return found[0]


def _management_commands(service: dict) -> list[str]:
    return [argv[argv.index("manage.py") + 1] for argv in _commands(service) if "manage.py" in argv[:-1]]


def _dockerfile_cmd() -> list[str]:
    """The argv of the Dockerfile's last CMD, in exec (JSON) or shell form."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    commands = [line.strip()[4:].strip() for line in text.splitlines() if line.strip().upper().startswith("CMD ")]
    assert commands, "The Dockerfile has no CMD."
    value = commands[-1]
    return json.loads(value) if value.startswith("[") else shlex.split(value)


def _option_value(argv: list[str], short: str, long: str) -> str | None:
    for index, part in enumerate(argv):
        if part in (short, long) and index + 1 < len(argv):
            return argv[index + 1]
        if part.startswith(f"{long}="):
            return part.split("=", 1)[1]
        if part.startswith(short) and len(part) > len(short) and not part.startswith("--"):
            return part[len(short) :]
    return None


def _gunicorn_target(argv: list[str]) -> str:
    targets = [part for part in argv[1:] if WSGI_TARGET.match(part)]
    assert len(targets) == 1, f"Expected one module:attribute WSGI target in {argv!r}, found {targets!r}."
    return targets[0]


def _top_level_names(path: Path) -> set[str]:
    """Names a module binds at import: assignments, imports, functions and classes."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _module_file(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    package_init = base / "__init__.py"
    return package_init if package_init.exists() else base.with_suffix(".py")


def _volume_mounts(service: dict) -> list[tuple[str, str]]:
    """(source, target) for each volume mount, short or long syntax."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            mounts.append((source, rest.split(":")[0]))
        else:
            mounts.append((volume.get("source", ""), volume["target"]))
    return mounts


def _is_named_volume(source: str) -> bool:
    return bool(source) and not source.startswith((".", "/", "~", "$"))


def _environment(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


# --- Services and images ------------------------------------------------------------------------------------


def test_compose_defines_web_worker_beat_db_and_redis(services):
    missing = {"web", "worker", "beat", "db", "redis"} - services.keys()
    assert not missing, f"docker-compose.yml lacks the services {sorted(missing)}."


def test_db_runs_postgresql_16(services):
    image = services["db"].get("image", "")
    assert image.startswith("postgres:16"), f"db should run postgres:16, not {image!r}."


def test_redis_runs_redis_7(services):
    image = services["redis"].get("image", "")
    assert image.startswith("redis:7"), f"redis should run redis:7, not {image!r}."


def test_redis_persists_what_the_signing_intake_acknowledged(services):
    """The site uses the intake only on a Redis that persists; compose runs one that does, and never evicts."""
    command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command, command
    fsync = command.split("--appendfsync ", 1)[1].split()[0]
    assert fsync in ("always", "everysec", "${VIGIL_REDIS_APPENDFSYNC:-everysec}"), command


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_worker_and_beat_are_started_again_when_they_exit(services, name):
    assert services[name].get("restart") in ("always", "unless-stopped"), f"{name} is not restarted when it exits."


@pytest.mark.parametrize("name", HEALTHCHECKED_SERVICES)
def test_service_has_a_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck") or {}
    test = healthcheck.get("test")
    assert test and test != ["NONE"] and not healthcheck.get("disable"), f"{name} has no working healthcheck."


def test_web_healthcheck_probes_healthz(services):
    test = " ".join(_argv(services["web"]["healthcheck"]["test"]))
    assert "127.0.0.1:8000/healthz" in test, f"web's healthcheck should request /healthz on port 8000: {test!r}."


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_service_waits_for_healthy_db_and_redis(services, name):
    depends_on = services[name].get("depends_on", {})
    for dependency in ("db", "redis"):
        condition = depends_on.get(dependency, {}).get("condition") if isinstance(depends_on, dict) else None
        assert condition == "service_healthy", f"{name} should wait until {dependency} is healthy."


def test_only_the_proxy_publishes_a_port_and_it_forwards_to_web(services):
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}, f"only the proxy should publish a port, not {sorted(published)}."
    ports = [str(port) for port in services["proxy"]["ports"]]
    assert any(port.split(":")[0] == "8000" for port in ports), f"the proxy should publish port 8000: {ports!r}."


def _caddyfile(compose: dict, services: dict) -> str:
    (mounted,) = [config for config in services["proxy"]["configs"] if config["target"] == "/etc/caddy/Caddyfile"]
    return compose["configs"][mounted["source"]]["content"]


def test_the_proxy_spreads_requests_over_every_web_container(compose, services):
    """With `--scale web=3`, the name `web` has three addresses: the proxy looks them up again and again (dynamic
    upstreams), rather than once at start, and takes them in turn."""
    caddyfile = _caddyfile(compose, services)
    dynamic = re.search(r"dynamic a \{([^}]*)\}", caddyfile)
    assert dynamic, caddyfile
    assert re.search(r"\bname web\b", dynamic.group(1)) and re.search(r"\bport 8000\b", dynamic.group(1))
    assert "refresh" in dynamic.group(1) and "lb_policy round_robin" in caddyfile
    assert "health_uri /healthz" in caddyfile


@pytest.mark.parametrize("name", SCALED_SERVICES)
def test_web_and_worker_can_be_scaled(services, name):
    fixed = {"container_name", "hostname", "ports"} & services[name].keys()
    assert not fixed, f"{name} sets {sorted(fixed)}, which two copies of it cannot share."


def test_beat_runs_once(services):
    assert "deploy" not in services["beat"] or services["beat"]["deploy"].get("replicas", 1) == 1


def test_web_believes_forwarded_headers_only_from_the_proxys_network(compose, services):
    import ipaddress

    environment = _environment(services["web"])
    proxies = re.sub(r"^\$\{DJANGO_TRUSTED_PROXIES:?-(.*)\}$", r"\1", environment["DJANGO_TRUSTED_PROXIES"])
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_network(proxies) == ipaddress.ip_network(subnet), (proxies, subnet)
    count = re.sub(r"^\$\{DJANGO_TRUSTED_PROXY_COUNT:?-(.*)\}$", r"\1", environment["DJANGO_TRUSTED_PROXY_COUNT"])
    assert count == "1"


def test_compose_serves_plain_http_unless_told_otherwise(services):
    https = _environment(services["web"]).get("DJANGO_HTTPS", "")
    default = re.sub(r"^\$\{DJANGO_HTTPS:?-(.*)\}$", r"\1", https)
    assert default.strip().lower() in {"0", "false", "no", "off"}, (
        f"With no TLS proxy in front, web needs DJANGO_HTTPS to default to 0; it is {https!r}."
    )


# --- Volumes ------------------------------------------------------------------------------------------------


def test_named_volumes_are_declared(compose):
    declared = set(compose.get("volumes") or {})
    missing = set(NAMED_VOLUMES) - declared
    assert not missing, f"The top-level volumes section lacks {sorted(missing)}."


def test_every_mounted_named_volume_is_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    undeclared = {
        f"{name}: {source}"
        for name, service in services.items()
        for source, _ in _volume_mounts(service)
        if _is_named_volume(source) and source not in declared
    }
    assert not undeclared, f"Services mount volumes that are not declared: {sorted(undeclared)}."


def test_every_declared_volume_is_mounted(compose, services):
    mounted = {source for service in services.values() for source, _ in _volume_mounts(service)}
    unused = set(compose.get("volumes") or {}) - mounted
    assert not unused, f"Declared volumes no service mounts: {sorted(unused)}."


def test_db_keeps_its_data_in_pgdata(services):
    assert ("pgdata", "/var/lib/postgresql/data") in _volume_mounts(services["db"]), (
        "db should mount the pgdata volume on /var/lib/postgresql/data, or the database is lost with the container."
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_sites_processes_share_no_disk(services, name):
    """Every file is in the object store's bucket: containers of web and worker on different hosts see the same
    files, and none of them mounts a volume."""
    environment = _environment(services[name])
    assert environment.get("VIGIL_S3_BUCKET"), f"{name} keeps its files on its own disk."
    assert not {"DJANGO_MEDIA_ROOT", "VIGIL_PRIVATE_ROOT"} & environment.keys()
    assert not services[name].get("volumes"), f"{name} mounts {services[name]['volumes']}."


def test_only_the_buckets_media_prefix_is_public(compose, services):
    """The proxy serves /objects/<bucket>/media/* from the store and nothing else of it; the bucket lets anonymous
    readers have media/ only; and the site writes media addresses under that route."""
    environment = _environment(services["web"])
    bucket = environment["VIGIL_S3_BUCKET"]
    caddyfile = _caddyfile(compose, services)
    routes = re.findall(r"handle (\S+) \{[^}]*reverse_proxy objects:9000", caddyfile)
    assert routes == [f"/objects/{bucket}/media/*"], routes
    setup = " ".join(services["objects-bucket"]["command"])
    assert re.findall(r"mc anonymous set (\w+) (\S+)", setup) == [("download", f"store/{bucket}/media")], setup
    domain = re.sub(r"^\$\{VIGIL_MEDIA_ADDRESS:?-(.*)\}$", r"\1", environment["VIGIL_S3_MEDIA_DOMAIN"])
    storage = S3Storage(**s3_storages(bucket=bucket, media_domain=domain)["default"]["OPTIONS"])
    assert storage.url("petitions/a.jpg") == f"http://localhost:8000/objects/{bucket}/media/petitions/a.jpg"


# --- Entry points -------------------------------------------------------------------------------------------


def test_web_serves_the_projects_wsgi_application(services):
    module, attribute = _gunicorn_target(_program(services["web"], "gunicorn")).split(":")
    path = _module_file(module)
    assert path.exists(), f"web runs gunicorn on {module}, but {path.relative_to(ROOT)} does not exist."
    assert attribute in _top_level_names(path), f"{path.relative_to(ROOT)} does not define {attribute}."


def test_dockerfile_cmd_serves_the_same_wsgi_application_as_web(services):
    in_compose = _gunicorn_target(_program(services["web"], "gunicorn"))
    in_dockerfile = _gunicorn_target(_program({"command": _dockerfile_cmd()}, "gunicorn"))
    assert in_dockerfile == in_compose, (
        f"The Dockerfile's CMD serves {in_dockerfile}; compose's web serves {in_compose}."
    )


def test_dockerfile_cmd_listens_on_port_8000():
    argv = _dockerfile_cmd()
    bind = _option_value(argv, "-b", "--bind")
    assert bind == "0.0.0.0:8000", f"The Dockerfile's gunicorn should bind 0.0.0.0:8000, not {bind!r}."


@pytest.mark.parametrize("name", CELERY_SERVICES)
def test_celery_service_names_the_projects_celery_app(services, name):
    app = _option_value(_program(services[name], "celery"), "-A", "--app")
    assert app, f"{name}'s celery command does not name an app with -A."
    module, _, attribute = app.partition(":")
    path = _module_file(module)
    if not attribute and path.name == "__init__.py":
        # `-A config` names a package: celery loads its celery submodule, whose Celery instance is `app`.
        path = path.parent / "celery.py"
    assert path.exists(), f"{name} runs `celery -A {app}`, but {path.relative_to(ROOT)} does not exist."
    assert (attribute or "app") in _top_level_names(path), (
        f"{path.relative_to(ROOT)} does not define {attribute or 'app'}, which `celery -A {app}` loads."
    )


def test_management_commands_that_compose_runs_exist(services):
    run = {(name, command) for name, service in services.items() for command in _management_commands(service)}
    unknown = sorted(f"{name}: manage.py {command}" for name, command in run if command not in get_commands())
    assert not unknown, f"Services run management commands that do not exist: {unknown}."


def test_migrations_are_applied_before_web_starts(services):
    runners = [name for name, service in services.items() if "migrate" in _management_commands(service)]
    assert runners, "No service runs `manage.py migrate`."
    web = services["web"]
    depends_on = web.get("depends_on", {})
    waits = "migrate" in _management_commands(web) or any(
        depends_on.get(name, {}).get("condition") == "service_completed_successfully" for name in runners
    )
    assert waits, f"web should start after {runners} completes successfully, or run migrate itself first."


def test_makefile_runs_the_same_celery_app_as_compose(services):
    assert MAKEFILE.exists(), "There is no Makefile; `make run` should start the same Celery app as compose."
    in_makefile = set(CELERY_APP_IN_MAKEFILE.findall(MAKEFILE.read_text()))
    in_compose = {_option_value(_program(services[name], "celery"), "-A", "--app") for name in CELERY_SERVICES}
    assert in_makefile, "The Makefile has no `celery -A <app>` line."
    assert in_makefile == in_compose, f"The Makefile runs celery -A {sorted(in_makefile)}; compose runs {in_compose}."
