"""A worker process for the campaign fault drill (the test SIGKILLs and restarts it).

Usage: campaign_worker.py TASK_QUEUE MAIL_TASK_QUEUE, settings from MITWIRKEN_* variables
(database, Temporal address, SMTP host and port, secret key).
"""

from __future__ import annotations

import asyncio
import sys

from composition.worker import build_workers, configure_dependencies
from infra.config import Settings
from infra.temporal import connect


async def main(task_queue: str, mail_task_queue: str) -> None:
    settings = Settings()
    configure_dependencies(settings)
    client = await connect(settings)
    workers = build_workers(client, task_queue=task_queue, mail_task_queue=mail_task_queue)
    print("worker ready", flush=True)
    await asyncio.gather(*(w.run() for w in workers))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
