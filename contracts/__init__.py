"""Workflow-safe payloads, error codes, workflow ids, task-queue, signal and activity names that
several layers share (DESIGN.md section 3). Pydantic and the standard library only: workflows,
activities, services and the API all import from here, and nothing here imports them."""
