"""The demo's webhook subscription (``jiceng run --demo``): one local URL subscribed to the
events ``notify.demo`` names, once; the summary shows its secret for the local receiver."""
from services.notify import settings as settings_module


def load_demo_live(config, cluster, scale=1.0):
    demo = settings_module.merged(config).get("demo") or {}
    url, events = demo.get("webhook_url"), list(demo.get("event_types") or [])
    if not url or not events:
        return None
    existing = cluster.notify.list_webhooks(offset=0, limit=1000, include_disabled=True)
    if any(s["url"] == url for s in existing):
        return None
    created = cluster.notify.create_webhook({"url": url, "event_types": events,
                                             "description": "演示：本机接收端 (make run)"})
    port = url.split(":")[-1].split("/")[0]
    return {"webhook_subscription": created["id"], "url": url, "event_types": events,
            "secret": created["secret"],
            "watch_with": f".venv/bin/python -m services.notify.receiver --port {port} "
                          f"--secret {created['secret']}"}
