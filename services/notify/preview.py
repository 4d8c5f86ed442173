"""What each configured template says, rendered with its event contract's example payload
(for checking a deployment's wording before the first real message goes out)."""
from services.notify import recipients, templates
from shared.contracts import registry


def rule_text(rule) -> str:
    if isinstance(rule, recipients.FieldRule):
        return f"the phone in {rule.field}"
    if isinstance(rule, recipients.ContactsRule):
        return f"the contacts of the unit in {rule.field}"
    return f"{rule.service}.{rule.method}({rule.by}).{rule.phone}"


def preview(settings) -> list[dict]:
    shown = []
    for template in settings.templates:
        contract = registry.get(template.source, template.type)
        payload = contract.load(contract.schema.example)
        text = templates.render(template.text, templates.values(payload, settings.labels, {}),
                                settings.date_format, settings.missing)
        shown.append({"template": template.name,
                      "event_type": f"{template.source}.{template.type}", "text": text,
                      "recipients": [rule_text(r) for r in template.recipients],
                      "channel": settings.channel})
    return shown
