"""All SQLAlchemy models; importing this package registers every table on Base.metadata.

Each domain adds its module to the import list below.
"""

from services.models import domain_event, organisation  # noqa: F401
from services.models.base import Base

__all__ = ["Base"]
