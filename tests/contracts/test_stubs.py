"""The typed stubs the workflows call name real activities with the same types."""

from __future__ import annotations

import typing

from temporalio import activity
from temporalio.workflow import _SignalDefinition

import activities.all  # noqa: F401  (registers every activity)
from activities.registry import ACTIVITIES, MAIL_ACTIVITIES
from contracts import stubs
from workflows.process import ProcessWorkflow


def _name(fn: typing.Any) -> str:
    defn = activity._Definition.from_callable(fn)
    assert defn is not None and defn.name
    return defn.name


def test_every_stub_has_its_real_activity_with_the_same_types() -> None:
    real = {_name(fn): fn for fn in [*ACTIVITIES, *MAIL_ACTIVITIES]}
    for stub in stubs.ALL:
        name = _name(stub)
        assert name in real, f"no activity registered as {name!r}"
        assert typing.get_type_hints(stub) == typing.get_type_hints(real[name]), name
    # And every real activity has its stub: none is left to be called by a string.
    assert set(real) - {_name(s) for s in stubs.ALL} == set()


def test_the_approval_signal_stub_names_the_process_handler() -> None:
    stub = _SignalDefinition.from_fn(stubs.ProcessSignals.approval_decided)
    handler = _SignalDefinition.from_fn(ProcessWorkflow.approval_decided)
    assert stub is not None and handler is not None
    assert stub.name == handler.name == "approval_decided"
    assert (typing.get_type_hints(stubs.ProcessSignals.approval_decided)
            == typing.get_type_hints(ProcessWorkflow.approval_decided))
