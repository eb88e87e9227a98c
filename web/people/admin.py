"""Admin pages: care homes, residents (one by one or CSV), tablets, staff, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from hub.audit import chain
from hub.errors import Conflict, DomainError, NotFound, RowErrors, ValidationError
from hub.people import admin, enrolment, resident_records
from hub.people.access import Role, Skill
from hub.people.homes import NewHome
from hub.people.residents import CSV_COLUMNS, ResidentDetails, format_nhs_number
from hub.people.staff import NewStaff
from web.http import flash
from web.http.forms import checkbox, form, int_param, text, texts
from web.http.keys import CTX
from web.http.render import render
from web.http.security import actor_of, require

routes = web.RouteTableDef()
MAX_CSV_BYTES = 1_000_000


@routes.get("/admin")
@require(Role.ADMIN, hub_wide=True)
async def admin_index(request: web.Request) -> web.StreamResponse:
    return await _render_index(request)


@routes.post("/admin/homes")
@require(Role.ADMIN, hub_wide=True)
async def create_home(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    values = {k: text(data, k) for k in ("code", "name", "address", "beds")}
    try:
        home = await admin.create_home(request.app[CTX], actor_of(request), NewHome.parse(**values))
    except (ValidationError, Conflict) as err:
        return await _render_index(request, err, values)
    raise web.HTTPSeeOther(f"/admin/homes/{home.id}")


async def _render_index(
    request: web.Request, err: DomainError | None = None, values: dict[str, str] | None = None
) -> web.StreamResponse:
    ctx = request.app[CTX]
    homes = await admin.list_homes(ctx, actor_of(request))
    counts = await resident_records.resident_counts(ctx, actor_of(request))
    status = 200 if err is None else 409 if isinstance(err, Conflict) else 422
    return render(
        "admin_index.html",
        request,
        {
            "homes": homes,
            "counts": counts,
            "form": values or {},
            "error": err.message if err else None,
        },
        status=status,
    )


async def _render_home(
    request: web.Request, home_id: int, *, status: int = 200, **extra: Any
) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    home = await admin.get_home(ctx, actor, home_id)
    residents = await resident_records.residents_of_home(ctx, actor, home_id)
    tablets = await admin.tablets(ctx, actor, home_id)
    context = {
        "home": home,
        "residents": residents,
        "tablets": tablets,
        "now": ctx.clock.now(),
        "fmt_nhs": format_nhs_number,
        "csv_columns": ", ".join(CSV_COLUMNS),
        "form": {},
        **extra,
    }
    return render("admin_home.html", request, context, status=status)


@routes.get("/admin/homes/{home_id}")
@require(Role.ADMIN, hub_wide=True)
async def home_page(request: web.Request) -> web.StreamResponse:
    issued = flash.take(request)  # a code just issued: shown on this one GET only
    if not isinstance(issued, dict):
        issued = None
    elif issued.get("expires_at"):
        issued["expires_at"] = datetime.fromisoformat(issued["expires_at"])
    response = await _render_home(request, int_param(request, "home_id"), issued=issued)
    if issued is not None:
        flash.forget(response, request)
    return response


def _resident_values(data: Any) -> dict[str, Any]:
    return {
        "given_name": text(data, "given_name"),
        "family_name": text(data, "family_name"),
        "date_of_birth": text(data, "date_of_birth"),
        "nhs_number": text(data, "nhs_number"),
        "dnacpr": checkbox(data, "dnacpr"),
        "end_of_life": checkbox(data, "end_of_life"),
        "allergies": text(data, "allergies"),
        "alerts": text(data, "alerts"),
    }


@routes.post("/admin/homes/{home_id}/residents")
@require(Role.ADMIN, hub_wide=True)
async def add_resident(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    home_id = int_param(request, "home_id")
    values = _resident_values(await form(request))
    try:
        details = ResidentDetails.parse(**values, today=ctx.clock.now().date())
        await admin.add_resident(ctx, actor_of(request), home_id, details)
    except (ValidationError, Conflict) as err:
        return await _render_home(
            request,
            home_id,
            status=409 if isinstance(err, Conflict) else 422,
            error=err.message,
            form=values,
        )
    raise web.HTTPSeeOther(f"/admin/homes/{home_id}#residents")


@routes.post("/admin/homes/{home_id}/residents/import")
@require(Role.ADMIN, hub_wide=True)
async def import_residents(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    home_id = int_param(request, "home_id")
    data = await form(request)
    upload = data.get("file")
    if not isinstance(upload, web.FileField):
        return await _render_home(
            request, home_id, status=422, csv_errors=[(1, "choose a CSV file to upload")]
        )
    raw = upload.file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return await _render_home(
            request, home_id, status=413, csv_errors=[(1, "the file is larger than 1 MB")]
        )
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return await _render_home(
            request,
            home_id,
            status=422,
            csv_errors=[(1, "the file is not UTF-8 text (save as CSV UTF-8)")],
        )
    try:
        count = await admin.import_residents(ctx, actor_of(request), home_id, content)
    except RowErrors as err:
        return await _render_home(request, home_id, status=422, csv_errors=err.errors)
    return await _render_home(request, home_id, notice=f"{count} residents imported")


@routes.get("/admin/residents/{resident_id}")
@require(Role.ADMIN, hub_wide=True)
async def resident_edit_page(request: web.Request) -> web.StreamResponse:
    record = await resident_records.view_resident(
        request.app[CTX], actor_of(request), int_param(request, "resident_id")
    )
    return render("admin_resident.html", request, {"resident": record.resident, "form": None})


@routes.post("/admin/residents/{resident_id}")
@require(Role.ADMIN, hub_wide=True)
async def resident_edit(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    resident_id = int_param(request, "resident_id")
    values = _resident_values(await form(request))
    record = await resident_records.view_resident(ctx, actor_of(request), resident_id)
    try:
        details = ResidentDetails.parse(**values, today=ctx.clock.now().date())
        await admin.update_resident(ctx, actor_of(request), resident_id, details)
    except (ValidationError, Conflict) as err:
        return render(
            "admin_resident.html",
            request,
            {"resident": record.resident, "form": values, "error": err.message},
            status=409 if isinstance(err, Conflict) else 422,
        )
    raise web.HTTPSeeOther(f"/admin/homes/{record.resident.home_id}#residents")


@routes.post("/admin/homes/{home_id}/codes")
@require(Role.ADMIN, hub_wide=True)
async def issue_code(request: web.Request) -> web.StreamResponse:
    home_id = int_param(request, "home_id")
    data = await form(request)
    try:
        issued = await enrolment.issue_code(
            request.app[CTX], actor_of(request), home_id, text(data, "label")
        )
    except ValidationError as err:
        return await _render_home(request, home_id, status=422, error=err.message)
    # Post/redirect/get: a reload of the page that shows the code must not issue another.
    page = f"/admin/homes/{home_id}"
    response = web.HTTPSeeOther(f"{page}#tablets")
    shown = {
        "code": issued.code,
        "label": issued.record.label,
        "expires_at": issued.record.expires_at.isoformat(),
    }
    flash.put(response, request, page, shown)
    raise response


@routes.post("/admin/devices/{device_id}/revoke")
@require(Role.ADMIN, hub_wide=True)
async def revoke_device(request: web.Request) -> web.StreamResponse:
    device = await enrolment.revoke(
        request.app[CTX], actor_of(request), int_param(request, "device_id")
    )
    raise web.HTTPSeeOther(f"/admin/homes/{device.home_id}#tablets")


async def _render_staff(
    request: web.Request, *, status: int = 200, **extra: Any
) -> web.StreamResponse:
    ctx = request.app[CTX]
    staff = await admin.list_staff(ctx, actor_of(request))
    homes = await admin.list_homes(ctx, actor_of(request))
    return render(
        "admin_staff.html",
        request,
        {
            "staff": staff,
            "homes": homes,
            "roles": list(Role),
            "skills": list(Skill),
            "form": {},
            **extra,
        },
        status=status,
    )


@routes.get("/admin/staff")
@require(Role.ADMIN, hub_wide=True)
async def staff_page(request: web.Request) -> web.StreamResponse:
    return await _render_staff(request)


@routes.post("/admin/staff")
@require(Role.ADMIN, hub_wide=True)
async def create_staff(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    values = {k: text(data, k) for k in ("username", "display_name", "role", "home_id")}
    skills = texts(data, "skills")
    try:
        home_id = int(values["home_id"]) if values["home_id"].isdigit() else None
        new = NewStaff.parse(
            values["username"], values["display_name"], values["role"], skills, home_id
        )
        await admin.create_staff(request.app[CTX], actor_of(request), new, text(data, "password"))
    except (ValidationError, Conflict, NotFound) as err:
        return await _render_staff(
            request,
            status=409 if isinstance(err, Conflict) else 422,
            error=err.message,
            form={**values, "skills": skills},
        )
    return await _render_staff(
        request,
        notice=f"{values['username']} added: they set up two-factor authentication at first login",
    )


async def _render_staff_edit(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    user = await admin.get_staff(request.app[CTX], actor_of(request), int_param(request, "user_id"))
    return render(
        "admin_staff_edit.html",
        request,
        {"user": user, "roles": list(Role), "skills": list(Skill), "error": error},
        status=status,
    )


@routes.get("/admin/staff/{user_id}")
@require(Role.ADMIN, hub_wide=True)
async def staff_edit_page(request: web.Request) -> web.StreamResponse:
    return await _render_staff_edit(request)


@routes.post("/admin/staff/{user_id}")
@require(Role.ADMIN, hub_wide=True)
async def staff_edit(request: web.Request) -> web.StreamResponse:
    user_id = int_param(request, "user_id")
    data = await form(request)
    try:
        parsed = NewStaff.parse(
            "placeholder", text(data, "display_name"), text(data, "role"), texts(data, "skills")
        )
        await admin.update_staff(
            request.app[CTX],
            actor_of(request),
            user_id,
            parsed.display_name,
            parsed.role,
            parsed.skills,
            checkbox(data, "active"),
        )
    except (ValidationError, Conflict) as err:
        return await _render_staff_edit(request, error=err.message, status=422)
    raise web.HTTPSeeOther("/admin/staff")


@routes.post("/admin/staff/{user_id}/reset-totp")
@require(Role.ADMIN, hub_wide=True)
async def staff_reset_totp(request: web.Request) -> web.StreamResponse:
    await admin.reset_totp(request.app[CTX], actor_of(request), int_param(request, "user_id"))
    raise web.HTTPSeeOther("/admin/staff")


@routes.get("/admin/audit")
@require(Role.ADMIN, hub_wide=True)
async def audit_page(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    recent = await chain.recent(ctx, actor_of(request), 200)
    report = await chain.check(ctx)
    return render("admin_audit.html", request, {"events": recent, "report": report})
