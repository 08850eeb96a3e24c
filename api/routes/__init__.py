"""Every router of the app; each domain appends its own here."""

from fastapi import APIRouter

from api import staff_language
from api.pages import campaigns as campaign_pages
from api.pages import devmail
from api.pages import legal as legal_pages
from api.pages import login as login_pages
from api.pages import meeting_participants as meeting_participant_pages
from api.pages import meetings as meeting_pages
from api.pages import multiplier as multiplier_pages
from api.pages import participation as participation_pages
from api.pages import processes as process_pages
from api.pages import resolutions as resolution_pages
from api.pages import staff as staff_pages
from api.pages import stakeholders as stakeholder_pages
from api.pages import survey_entry as survey_entry_pages
from api.pages import survey_multipliers as survey_multiplier_pages
from api.pages import survey_results as survey_result_pages
from api.pages import surveys as survey_pages
from api.pages import templates as template_pages
from api.routes import approvals as approval_routes
from api.routes import assisted as assisted_routes
from api.routes import auth, events, health, orgs
from api.routes import campaigns as campaign_routes
from api.routes import meetings as meeting_routes
from api.routes import multiplier as multiplier_routes
from api.routes import oparl as oparl_routes
from api.routes import participation as participation_routes
from api.routes import processes as process_routes
from api.routes import resolutions as resolution_routes
from api.routes import results as result_routes
from api.routes import staff as staff_routes
from api.routes import stakeholders as stakeholder_routes
from api.routes import surveys as survey_routes
from api.routes import templates as template_routes
from api.routes import webhooks as webhook_routes

ROUTERS: list[APIRouter] = [
    health.router,
    # The registration by personal link is a hot path (bench/event_registrations.py): matched
    # early, since FastAPI tries the routes in order.
    meeting_routes.participation,
    auth.router,
    staff_routes.router,
    orgs.router,
    # Before the event routes: the feed's /api/v1/events and /stream come first (the
    # event paths take UUIDs only, so they cannot collide in either order).
    events.router,
    login_pages.router, staff_language.router,
    staff_pages.router, legal_pages.router,
    devmail.router,
    stakeholder_routes.router, stakeholder_routes.groups_router, stakeholder_pages.router,
    campaign_routes.router, campaign_routes.participation, campaign_pages.router,
    survey_routes.router, multiplier_routes.router, assisted_routes.router,
    assisted_routes.paper_router,
    participation_routes.router,
    result_routes.router, participation_pages.router, multiplier_pages.router,
    survey_result_pages.router, survey_pages.router, survey_multiplier_pages.router,
    survey_entry_pages.router,
    template_routes.router, template_pages.router,
    process_routes.router, approval_routes.router, process_pages.router,
    webhook_routes.router, meeting_routes.router, multiplier_routes.event_router,
    meeting_participant_pages.router,
    meeting_pages.router,
    resolution_routes.router, oparl_routes.router, resolution_pages.router,
]
