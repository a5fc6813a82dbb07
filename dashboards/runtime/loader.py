"""Turns a release's files into a loaded app: its modules imported, handlers and page found.

Tenant code is imported under a package of its own per release (``dashboards_apps.r<key>``), so
releases never share modules and a module's globals are shared by all sessions of that release
in this process. Imports come from the release's files only, through a meta-path finder.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.abc
import importlib.machinery
import inspect
import linecache
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dashboards.runtime.applog import app_print
from dashboards.runtime.injection import HandlerSignature, InjectionError, handler_signature
from dashboards.runtime.loader_names import APPS_PACKAGE
from dashboards.runtime.protocol import EVENT_NAME, RESERVED_NAMESPACES, namespace_of

ENTRY_MODULE = "main"
PAGE_FILE = "page.html"


@dataclass
class _LoadRegistry:
    """What a release registers while it is imported: handler modules, event processors, hidden names."""

    modules: list[types.ModuleType] = field(default_factory=list)
    processors: list[Any] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # id() of functions the browser must never call


_registering: contextvars.ContextVar[_LoadRegistry | None] = contextvars.ContextVar(
    "registering_handlers", default=None
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a release, as the validation report shows it."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "file": self.file, "line": self.line}


class AppLoadError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


@dataclass
class LoadedApp:
    key: str
    package: str
    handlers: dict[str, Callable[..., Any]]
    signatures: dict[str, HandlerSignature]
    callbacks: dict[str, str]  # event name -> handler name
    page_source: str
    initial_state: Any
    modules: list[types.ModuleType] = field(default_factory=list)
    # Public functions that are no handlers (a parameter cannot be injected), with the reason.
    not_handlers: dict[str, Problem] = field(default_factory=dict)
    # The EventProcessors its modules created (dashboards.events.processors), in order.
    event_processors: list[Any] = field(default_factory=list)

    def event_subscriptions(self, *, broadcast: bool) -> list[Any]:
        return [s for p in self.event_processors for s in p.subscriptions if s.broadcast is broadcast]

    def exported(self, name: str) -> bool:
        return not name.startswith("_") and name in self.handlers

    def function_reference(self, function: Any) -> str:
        return function_reference(self.package, function)

    def function(self, reference: str) -> Callable[..., Any]:
        """The function a ``module:name`` reference names; KeyError when there is none."""
        module_name, _, name = reference.partition(":")
        module = sys.modules.get(f"{self.package}.{module_name}")
        function = getattr(module, name, None) if module is not None else None
        if not inspect.isfunction(function):
            raise KeyError(reference)
        return function


class _ReleaseFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``dashboards_apps.r<key>.<module>`` in the registered releases' files."""

    def __init__(self) -> None:
        self.sources: dict[str, tuple[str, str]] = {}  # full name -> (file name, source)
        self.packages: set[str] = {APPS_PACKAGE}
        self.lock = threading.Lock()

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in self.packages:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if fullname in self.sources:
            return importlib.machinery.ModuleSpec(fullname, self, origin=self.sources[fullname][0])
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ in self.packages:
            module.__path__ = []
            return
        filename, source = self.sources[module.__name__]
        module.__dict__["print"] = app_print  # an app's prints go to its own log
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # noqa: S102 - this is what running an app means


_finder = _ReleaseFinder()
sys.meta_path.insert(0, _finder)


def release_package(key: str) -> str:
    """The package a release's modules are imported under."""
    return f"{APPS_PACKAGE}.r{key}"


def _register(key: str, files: dict[str, str]) -> str:
    package = release_package(key)
    with _finder.lock:
        _finder.packages.add(package)
        for name, source in files.items():
            if name.endswith(".py") and "/" not in name:
                module = name.removesuffix(".py")
                filename = f"<app r{key}>/{name}"
                _finder.sources[f"{package}.{module}"] = (filename, source)
                # Tracebacks of app code show its lines.
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return package


def unload(key: str) -> None:
    """Forget a release's modules (used after validation and in tests)."""
    package = release_package(key)
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]
    with _finder.lock:
        _finder.packages.discard(package)
        for name in [n for n in _finder.sources if n.startswith(package + ".")]:
            filename = _finder.sources.pop(name)[0]
            linecache.cache.pop(filename, None)


def function_reference(package: str, function: Any) -> str:
    """``module:name`` of a module-level function of the release imported as ``package``.

    Jobs and status functions cross processes as JSON, so they name their function instead of
    pickling it: it must be found again by that name.
    """
    module = str(getattr(function, "__module__", ""))
    name = str(getattr(function, "__qualname__", ""))
    if not inspect.isfunction(function) or not module.startswith(package + "."):
        raise TypeError(f"{function!r} is not a function of this app")
    if "." in name or "<" in name or getattr(sys.modules.get(module), name, None) is not function:
        raise TypeError(f"{name} must be defined at the top level of a module of the app")
    return f"{module.removeprefix(package + '.')}:{name}"


def init_handlers(modules: types.ModuleType | list[types.ModuleType] | tuple[types.ModuleType, ...]) -> None:
    """Register the public functions of other modules of the same release as handlers."""
    registry = _registering.get()
    if registry is None:
        return  # called outside a load (an app's own test, say): nothing to register into
    for module in modules if isinstance(modules, list | tuple) else [modules]:
        if not isinstance(module, types.ModuleType):
            raise TypeError("init_handlers takes a module or a list of modules")
        registry.modules.append(module)


def register_event_processor(processor: Any) -> None:
    """An EventProcessor created while a release loads belongs to that release."""
    registry = _registering.get()
    if registry is not None:
        registry.processors.append(processor)


def hide_from_browser(function: Any) -> None:
    """Event callbacks are called by the platform only: never handlers, whatever their parameters."""
    registry = _registering.get()
    if registry is not None:
        registry.hidden.add(id(function))


def load_app(key: str, files: dict[str, str]) -> LoadedApp:
    """Import a release and find its parts; raise AppLoadError listing every problem found."""
    problems = _syntax_problems(files)
    if problems:
        raise AppLoadError(problems)
    if "main.py" not in files:
        raise AppLoadError([Problem("missing_entry", "a release needs main.py (the app's entry module)")])
    package = _register(key, files)
    registry = _LoadRegistry()
    token = _registering.set(registry)
    try:
        main = importlib.import_module(f"{package}.{ENTRY_MODULE}")
    except Exception as error:
        unload(key)
        raise AppLoadError([_import_problem(error)]) from None
    finally:
        _registering.reset(token)
    outside = [m for m in registry.modules if not m.__name__.startswith(package + ".")]
    registered = [m for m in registry.modules if m not in outside]
    handlers, signatures, not_handlers = _collect_handlers(package, [main, *registered], registry.hidden)
    callbacks, problems = _collect_callbacks(main, handlers, not_handlers)
    for module in outside:
        why = f"init_handlers: {module.__name__} is not a module of this release; only its own hold handlers"
        problems.append(Problem("init_handlers", why))
    problems += [problem for problem in not_handlers.values() if problem.kind == "handler_name"]
    page_source = _page_source(main, files)
    if page_source is None:
        problems.append(
            Problem("page_missing", 'no page: define `page = """..."""` in main.py or add page.html')
        )
    initial_state = getattr(main, "initial_state", {})
    if not (isinstance(initial_state, dict) or callable(initial_state)):
        problems.append(Problem("initial_state", "initial_state must be a dict or a function of the session"))
    if problems:
        unload(key)
        raise AppLoadError(problems)
    return LoadedApp(
        key=key,
        package=package,
        handlers=handlers,
        signatures=signatures,
        callbacks=callbacks,
        page_source=page_source or "",
        initial_state=initial_state,
        modules=[main, *registered],
        not_handlers=not_handlers,
        event_processors=registry.processors,
    )


def _syntax_problems(files: dict[str, str]) -> list[Problem]:
    problems = []
    for name, source in files.items():
        if not name.endswith(".py"):
            continue
        try:
            compile(source, name, "exec", dont_inherit=True)
        except SyntaxError as error:
            problems.append(Problem("syntax", f"{error.msg}", file=name, line=error.lineno))
        except ValueError as error:  # null bytes
            problems.append(Problem("syntax", str(error), file=name))
        except (RecursionError, MemoryError) as error:  # an expression too long or too deep to compile
            problems.append(
                Problem("syntax", f"too deeply nested to compile ({type(error).__name__})", file=name)
            )
    return problems


def _import_problem(error: BaseException) -> Problem:
    """The innermost frame of the app's own code, so the report points at the line to fix."""
    tb = error.__traceback__
    file, line = None, None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith("<app r"):
            file, line = filename.split("/", 1)[1], tb.tb_lineno
        tb = tb.tb_next
    kind = "import" if isinstance(error, ImportError) else "import_error"
    return Problem(kind, f"{type(error).__name__}: {error}", file=file, line=line)


PLATFORM_CALLED = frozenset({"initial_state"})  # main.py's functions the platform calls, not the browser


def _collect_handlers(
    package: str, modules: list[types.ModuleType], hidden: set[int]
) -> tuple[dict[str, Callable[..., Any]], dict[str, HandlerSignature], dict[str, Problem]]:
    """Public functions whose parameters can all be injected are handlers.

    Other public functions (job functions, status functions, helpers) are no handlers: the
    browser cannot reach them. Their reason is kept, so that a page or a callbacks entry naming
    one gets a report saying which parameter cannot be injected. Only a module's own functions
    count: one imported from another module of the release is a handler only if that module
    is registered with ``init_handlers`` (an import of a helper is no way to expose it). The
    app's ``initial_state`` function is called by the platform only.
    """
    handlers: dict[str, Callable[..., Any]] = {}
    signatures: dict[str, HandlerSignature] = {}
    not_handlers: dict[str, Problem] = {}
    first_module: dict[str, str] = {}
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(value) or id(value) in hidden:
                continue
            if getattr(value, "__module__", None) != module.__name__:
                continue  # imported (from the SDK, the standard library, a sibling): not this module's
            if name in PLATFORM_CALLED and module is modules[0]:
                continue
            module_name = module.__name__.rsplit(".", 1)[-1]
            if name in first_module:  # the page would run one of them, whichever came last
                not_handlers[name] = Problem(
                    "handler_name",
                    f"two handlers are named {name}: in {first_module[name]} and in {module_name} "
                    "(init_handlers); rename one",
                    file=value.__code__.co_filename.split("/", 1)[-1], line=value.__code__.co_firstlineno,
                )  # fmt: skip
                handlers.pop(name, None)
                continue
            first_module[name] = module_name
            try:
                signatures[name] = handler_signature(name, value)
            except InjectionError as error:
                line = value.__code__.co_firstlineno
                file = value.__code__.co_filename.split("/", 1)[-1]
                not_handlers[name] = Problem("handler_parameters", str(error), file=file, line=line)
                continue
            handlers[name] = value
    return handlers, signatures, not_handlers


def _collect_callbacks(
    main: types.ModuleType, handlers: dict[str, Any], not_handlers: dict[str, Problem]
) -> tuple[dict[str, str], list[Problem]]:
    raw = getattr(main, "callbacks", {})
    if not isinstance(raw, dict):
        return {}, [Problem("callbacks", "callbacks must be a dict of event name to handler")]
    callbacks, problems = {}, []
    for event, function in raw.items():
        if not isinstance(event, str) or not EVENT_NAME.match(event):
            problems.append(Problem("callbacks", f"{event!r} is not an event name like 'sales:export'"))
            continue
        if namespace_of(event) == "plotly":  # a chart's events go to the handler it names
            problems.append(Problem("callbacks", f"{event!r}: a chart sends its clicks and selections "
                                    "to its own handler: {% chart key on_click=\"handler\" %}"))  # fmt: skip
            continue
        if namespace_of(event) in RESERVED_NAMESPACES:
            problems.append(Problem("callbacks", f"{event!r} uses the platform's reserved namespace"))
            continue
        name = getattr(function, "__name__", None)
        if name in not_handlers:
            problems.append(not_handlers[name])
            continue
        if name not in handlers or handlers[name] is not function:
            problems.append(Problem("callbacks", f"{event!r} must map to a public handler of the app"))
            continue
        callbacks[event] = name
    return callbacks, problems


def _page_source(main: types.ModuleType, files: dict[str, str]) -> str | None:
    page = getattr(main, "page", None)
    if isinstance(page, str) and page.strip():
        return page
    if files.get(PAGE_FILE, "").strip():
        return files[PAGE_FILE]
    return None
