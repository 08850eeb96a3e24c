"""Workflow-safe payloads, error codes, workflow ids, task-queue, signal and activity names that
several layers share (DESIGN.md section 3). Pydantic and the standard library only: workflows,
activities, services and the API all import from here, and nothing here imports them.

`process_rules` holds the phase and approval rules as pure functions (workflows, API and pages
call them). `stubs` is the one module that imports temporalio: typed references to the
activities and signals for the workflows (services never import it).
"""
