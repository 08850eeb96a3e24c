"""All SQLAlchemy models; importing this package registers every table on Base.metadata.

Each domain adds its module to the import list below.
"""

from services.models import (  # noqa: F401
    campaign,
    domain_event,
    legal,
    meeting,
    organisation,
    process,
    resolution,
    stakeholder,
    survey,
    template,
    webhook,
)
from services.models.base import Base

__all__ = ["Base"]
