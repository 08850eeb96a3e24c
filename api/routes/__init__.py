"""Every router of the app; each domain appends its own here."""

from fastapi import APIRouter

from api.pages import campaigns as campaign_pages
from api.pages import devmail
from api.pages import login as login_pages
from api.pages import participation as participation_pages
from api.pages import processes as process_pages
from api.pages import resolutions as resolution_pages
from api.pages import survey_results as survey_result_pages
from api.routes import approvals as approval_routes
from api.routes import auth, events, health, orgs
from api.routes import campaigns as campaign_routes
from api.routes import oparl as oparl_routes
from api.routes import participation as participation_routes
from api.routes import processes as process_routes
from api.routes import resolutions as resolution_routes
from api.routes import results as result_routes
from api.routes import stakeholders as stakeholder_routes
from api.routes import surveys as survey_routes
from api.routes import templates as template_routes

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    orgs.router,
    events.router,
    login_pages.router,
    devmail.router,
    stakeholder_routes.router, stakeholder_routes.groups_router,
    campaign_routes.router, campaign_routes.participation, campaign_pages.router,
    survey_routes.router, participation_routes.router, result_routes.router,
    participation_pages.router, survey_result_pages.router,
    template_routes.router, process_routes.router, approval_routes.router, process_pages.router,
    resolution_routes.router, oparl_routes.router, resolution_pages.router,
]
