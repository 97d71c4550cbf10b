"""Brand voices and personas: lists and edit forms."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from webapp.accounts.models import CAN_EDIT_CONTENT
from webapp.brand import services
from webapp.brand.models import BrandVoice, Persona
from webapp.ui.forms import BrandVoiceForm, PersonaForm
from webapp.ui.tenancy import get_for_org, member_required, role_required
from webapp.ui.views.common import paginate, save_with_service


@member_required
def brandvoice_list(request):
    voices = BrandVoice.objects.filter(organization=request.tenant.organization)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        voices = voices.filter(name__icontains=q)
    return render(
        request,
        "ui/brandvoice_list.html",
        {"page": paginate(request, voices.order_by("name")), "q": q},
    )


@role_required(CAN_EDIT_CONTENT)
def brandvoice_edit(request, pk=None):
    org = request.tenant.organization
    voice = get_for_org(BrandVoice.objects, org, pk=pk) if pk else None
    form = BrandVoiceForm(request.POST or None, instance=voice, organization=org)
    if request.method == "POST" and form.is_valid():
        if voice is None:
            saved = save_with_service(
                form, lambda data: services.do_create_brand_voice(org, **data)
            )
        else:
            saved = save_with_service(
                form, lambda data: services.do_update_brand_voice(voice, **data)
            )
        if saved is not None:
            messages.success(request, f"Brand voice {saved.name} saved.")
            return redirect("ui:brandvoice_list")
    return render(request, "ui/brandvoice_form.html", {"form": form, "voice": voice})


@role_required(CAN_EDIT_CONTENT)
@require_POST
def brandvoice_delete(request, pk):
    voice = get_for_org(BrandVoice.objects, request.tenant.organization, pk=pk)
    services.do_delete_brand_voice(voice)
    messages.success(request, f"Brand voice {voice.name} deleted.")
    return redirect("ui:brandvoice_list")


@member_required
def persona_list(request):
    personas = Persona.objects.filter(organization=request.tenant.organization)
    q = request.GET.get("q", "").strip()[:100]
    if q:
        personas = personas.filter(name__icontains=q)
    return render(
        request,
        "ui/persona_list.html",
        {"page": paginate(request, personas.order_by("name")), "q": q},
    )


@role_required(CAN_EDIT_CONTENT)
def persona_edit(request, pk=None):
    org = request.tenant.organization
    persona = get_for_org(Persona.objects, org, pk=pk) if pk else None
    form = PersonaForm(request.POST or None, instance=persona, organization=org)
    if request.method == "POST" and form.is_valid():
        if persona is None:
            saved = save_with_service(
                form, lambda data: services.do_create_persona(org, **data)
            )
        else:
            saved = save_with_service(
                form, lambda data: services.do_update_persona(persona, **data)
            )
        if saved is not None:
            messages.success(request, f"Persona {saved.name} saved.")
            return redirect("ui:persona_list")
    return render(request, "ui/persona_form.html", {"form": form, "persona": persona})


@role_required(CAN_EDIT_CONTENT)
@require_POST
def persona_delete(request, pk):
    persona = get_for_org(Persona.objects, request.tenant.organization, pk=pk)
    services.do_delete_persona(persona)
    messages.success(request, f"Persona {persona.name} deleted.")
    return redirect("ui:persona_list")
