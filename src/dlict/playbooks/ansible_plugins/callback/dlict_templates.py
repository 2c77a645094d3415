"""Ansible callback: compile each task's templates once, before the workers fork.

ansible-core 2.19 keeps no compiled templates: every worker process (one per task and host)
parses and compiles every Jinja template of its task's arguments and of the variables they
read again, which was a fifth of an audit's controller CPU (py-spy, 12 hosts: 8.9 s of
``Environment.compile``). This plugin, enabled only in dlict's own runs, keeps the code Jinja
compiles in the main process, keyed by the template's source and every setting that changes
what Jinja makes of it, and compiles a task's templates when the task starts — before the
strategy forks its first worker for it, so each worker inherits them compiled.

Templates compiled only in a worker (a template file the ``template`` module or lookup
reads, about a tenth of the controller's CPU in an audit) are shared too: the first worker to
compile one writes its code with ``marshal`` into a folder of the run's own ``TMPDIR`` (dlict
gives every run a private one, removed with it), and the workers after it load it from there.
Without ``TMPDIR`` that layer is off.

Only the compiling is shared: every worker still renders with its own host's variables, and a
cached code object is the one Jinja would have produced for the same source and settings.
It is on only for the ansible-core versions it was verified against (``VERIFIED``); with any
other it does nothing, and Ansible compiles as it always does.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import shutil
import stat
import tempfile
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ansible.plugins.callback import CallbackBase
from ansible.release import __version__ as ansible_version

DOCUMENTATION = """
    name: dlict_templates
    type: aggregate
    short_description: compile each task's templates once for every host (dlict)
    description: Shares Jinja's compiled code between the worker processes of a task.
"""

#: ansible-core releases whose template compiling this plugin was read and tested against
VERIFIED = ("2.19.",)

#: at most this many compiled templates kept (an audit of the SOP areas has about 2,000)
LIMIT = 20_000


class _Shared:
    """Compiled code shared between the worker processes of one run, one file per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.owner = os.getpid()

    @classmethod
    def create(cls) -> _Shared | None:
        if not os.environ.get("TMPDIR"):
            return None
        try:
            return cls(Path(tempfile.mkdtemp(prefix="dlict-templates-")))
        except OSError:
            return None

    def _path(self, key: tuple[Any, ...]) -> Path:
        return self.folder / hashlib.sha256(repr(key).encode()).hexdigest()

    def load(self, key: tuple[Any, ...]) -> types.CodeType | None:
        try:
            descriptor = os.open(self._path(key),
                                 os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return None
            try:
                # written by this run's own workers, in a folder only this user can write
                code = marshal.load(file)  # noqa: S302
            except (EOFError, ValueError, TypeError):
                return None
        return code if isinstance(code, types.CodeType) else None

    def store(self, key: tuple[Any, ...], code: types.CodeType) -> None:
        path = self._path(key)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        try:
            with partial.open("xb") as file:
                marshal.dump(code, file)
            partial.replace(path)  # whole or not at all for the workers reading it
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                partial.unlink()

    def count(self) -> int:
        try:
            return sum(1 for _ in self.folder.iterdir())
        except OSError:
            return 0

    def remove(self) -> None:
        if os.getpid() == self.owner:
            shutil.rmtree(self.folder, ignore_errors=True)


def _installed() -> bool:
    """Put the cache in front of Jinja's compile (once per process), where it is safe."""
    if not ansible_version.startswith(VERIFIED):
        return False
    try:
        from ansible._internal._templating import _jinja_bits as bits
    except ImportError:
        return False
    environment = bits.AnsibleEnvironment
    if getattr(environment, "_dlict_compile_cache", None) is not None:
        return True
    compile_context = bits._TemplateCompileContext
    fields = bits._TEMPLATE_OVERRIDE_FIELD_NAMES
    original: Callable[..., Any] = environment.compile
    cache: dict[tuple[Any, ...], types.CodeType] = {}
    shared = _Shared.create()

    def compile(self: Any, source: Any, name: str | None = None, filename: str | None = None,
                raw: bool = False, defer_init: bool = False) -> Any:
        if (raw or not isinstance(source, str) or self._debuggable_template_source
                or len(cache) >= LIMIT):
            return original(self, source, name, filename, raw, defer_init)
        context = compile_context.current(optional=True)
        key = (str.__str__(source), name, filename, defer_init, type(self),
               context.escape_backslashes if context is not None else None,
               self.optimized, self.autoescape, self.is_async,
               tuple(getattr(self, field) for field in fields))
        code = cache.get(key)
        if code is None:
            # the main process's own compiles reach the workers by the fork
            worker = shared is not None and os.getpid() != shared.owner
            code = shared.load(key) if shared is not None and worker else None
            if code is None:
                code = original(self, source, name, filename, raw, defer_init)
                if shared is not None and worker:
                    shared.store(key, code)
            cache[key] = code
        return code

    environment.compile = compile
    environment._dlict_compile_cache = cache
    environment._dlict_compile_shared = shared
    return True


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < 20 and isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif depth < 20 and isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, depth + 1)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "dlict_templates"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on = _installed()
        self._engine: Any = None
        self._roles_done: set[int] = set()

    def _compile(self, value: Any) -> None:
        from ansible._internal._templating._engine import TemplateEngine, TemplateOptions
        from ansible._internal._templating._jinja_bits import is_possibly_template

        if self._engine is None:
            self._engine = TemplateEngine()
        for text in _strings(value):
            if is_possibly_template(text):
                # a template that does not compile fails in the worker as it always did
                self._engine._compile_template(text, TemplateOptions.DEFAULT)

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        if not self._on:
            return
        try:
            self._compile(task.args)
            self._compile(task.vars)
            role = getattr(task, "_role", None)
            if role is not None and id(role) not in self._roles_done:
                self._roles_done.add(id(role))
                self._compile(role._role_vars)
                self._compile(role._default_vars)
        except Exception as error:  # an optimisation must never stop a run
            self._on = False
            self._display.warning(f"dlict_templates: compiling ahead is off ({error})")

    def v2_playbook_on_stats(self, stats: Any) -> None:
        if self._on:
            from ansible._internal._templating._jinja_bits import AnsibleEnvironment

            kept = len(AnsibleEnvironment._dlict_compile_cache)
            shared: _Shared | None = AnsibleEnvironment._dlict_compile_shared
            self._display.v(f"dlict_templates: {kept} templates compiled in the main process, "
                            f"{shared.count() if shared is not None else 0} shared between "
                            "the workers")
            if shared is not None:
                shared.remove()
