"""Every router of the app; each domain appends its own here."""

from fastapi import APIRouter

from api.pages import devmail
from api.pages import login as login_pages
from api.routes import auth, events, health, orgs
from api.routes import stakeholders as stakeholder_routes

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    orgs.router,
    events.router,
    login_pages.router,
    devmail.router,
    stakeholder_routes.router,
]
