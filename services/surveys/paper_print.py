"""Print runs of paper forms (issue 12): which sheets a PDF holds, with their numbers and codes.

- Numbered (anonymous) forms: `count` fresh form numbers of the survey, issued in this
  transaction (services/surveys/assisted.py), one copy per number; the number is entered
  once when the form comes back.
- Personal forms: one per invitation of a survey campaign that can still be answered, with
  the invitation's short code and its participant link (the QR code): whoever holds the sheet
  may also answer online, and whichever comes first counts, once.

A print run is at most PRINT_LIMIT copies: WeasyPrint lays out about four copies a second on
this machine, so a larger campaign is printed in parts (`part` 1, 2, ...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.campaigns.tokens import invitation_token
from services.errors import NotFound, ValidationFailed
from services.models.survey import Survey
from services.surveys.assisted import issue_form_numbers, paper_code_for
from services.surveys.assisted_repository import AssistedRepository
from services.surveys.paper import PaperSheet, survey_paper_forms

PRINT_LIMIT = 100


@dataclass(frozen=True)
class PrintRun:
    survey_id: uuid.UUID
    kind: Literal["numbered", "personal"]
    pdf: bytes
    copies: int
    part: int
    parts: int

    @property
    def filename(self) -> str:
        name = "nummeriert" if self.kind == "numbered" else "persoenlich"
        suffix = f"-teil-{self.part}" if self.parts > 1 else ""
        return f"papierboegen-{name}-{self.survey_id}{suffix}.pdf"


async def print_run(session: AsyncSession, survey: Survey, *,
                    kind: Literal["numbered", "personal"], language: str, count: int,
                    campaign_id: uuid.UUID | None, part: int, secret_key: str,
                    public_url: str) -> PrintRun:
    """The API's and the page's one entry: numbered or personal forms (the caller checked
    the role: personal forms carry participant links)."""
    if kind == "numbered":
        return await numbered_forms(session, survey, count, language=language)
    if campaign_id is None:
        raise ValidationFailed("Bitte wählen Sie die Einladung.", code="campaign_missing",
                               details=[{"field": "campaign_id", "message": "fehlt"}])
    return await personal_forms(session, survey, campaign_id, language=language, part=part,
                                secret_key=secret_key, public_url=public_url)


def _count_error(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"Ein Druck umfasst 1 bis {PRINT_LIMIT} Bögen.", code="invalid_count",
        details=[{"field": field, "message": f"1 bis {PRINT_LIMIT}"}])


async def numbered_forms(session: AsyncSession, survey: Survey, count: int, *,
                         language: str) -> PrintRun:
    """`count` anonymous forms with fresh numbers (issued when the caller commits)."""
    if not 1 <= count <= PRINT_LIMIT:
        raise _count_error("count")
    numbers = await issue_form_numbers(session, survey.id, count)
    pdf = await survey_paper_forms(session, survey, language=language,
                                   sheets=[PaperSheet(form_number=n) for n in numbers])
    return PrintRun(survey.id, "numbered", pdf, len(numbers), 1, 1)


async def personal_forms(session: AsyncSession, survey: Survey, campaign_id: uuid.UUID, *,
                         language: str, part: int, secret_key: str,
                         public_url: str) -> PrintRun:
    """Part `part` of the personal forms of a campaign of this survey: 404 for a campaign
    of another survey, 422 for a part past the end or a campaign with nobody left to ask."""
    if part < 1:
        raise ValidationFailed("Teil 1 oder höher.", code="invalid_part",
                               details=[{"field": "part", "message": "ab 1"}])
    repo = AssistedRepository.from_session(session)
    invitations, total = await repo.printable_invitations(
        survey.id, campaign_id, offset=(part - 1) * PRINT_LIMIT, limit=PRINT_LIMIT)
    if total == 0 and not await repo.campaign_of_survey(survey.id, campaign_id):
        raise NotFound("Diese Einladung gibt es zu dieser Umfrage nicht.")
    if not invitations:
        message = ("Alle Eingeladenen haben schon geantwortet oder abgesagt." if total == 0
                   else f"Diese Einladung hat nur {-(-total // PRINT_LIMIT)} Teil(e).")
        raise ValidationFailed(message, code="nothing_to_print",
                               details=[{"field": "part" if total else "campaign_id",
                                         "message": message}])
    base = public_url.rstrip("/")
    sheets = [PaperSheet(code=await paper_code_for(session, inv),
                         link=f"{base}/t/{invitation_token(secret_key, inv.id)}")
              for inv in invitations]
    pdf = await survey_paper_forms(session, survey, language=language, sheets=sheets)
    return PrintRun(survey.id, "personal", pdf, len(sheets), part, -(-total // PRINT_LIMIT))
