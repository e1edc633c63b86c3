"""The public pages and consoles (HTML, served next to the JSON API). One router that gathers
the page routers in `wefirst.web.routes_*`; registered in `wefirst.app` ROUTERS."""

from __future__ import annotations

from fastapi import APIRouter

from wefirst.web import (
    console,
    console_beneficiary,
    console_brand,
    console_publisher,
    console_voice,
    routes_case_acts,
    routes_cases,
    routes_demo,
    routes_directory,
    routes_docs,
    routes_exports,
    routes_follow,
    routes_log,
    routes_public,
    routes_publisher_verify,
    routes_scorecard,
    routes_signin,
    routes_static,
    routes_verify,
)

router = APIRouter(include_in_schema=False)
for _module in (
    routes_publisher_verify,  # before routes_public's /publishers/{id}
    routes_public,
    routes_directory,
    routes_cases,
    routes_case_acts,
    routes_follow,
    routes_scorecard,
    routes_exports,
    routes_verify,
    routes_log,
    routes_docs,
    routes_signin,
    routes_demo,
    console,
    console_brand,
    console_voice,
    console_beneficiary,
    console_publisher,
    routes_static,
):
    router.include_router(_module.router)
