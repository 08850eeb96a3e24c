"""All SQLAlchemy models; importing this package registers every table on Base.metadata.

Each domain adds its module to the import list below.
"""

from services.models import campaign, domain_event, organisation, stakeholder  # noqa: F401
from services.models import process  # noqa: F401
from services.models import survey  # noqa: F401
from services.models.base import Base

__all__ = ["Base"]
