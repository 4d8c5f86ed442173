"""Valid calls of the notify service's RPCs for the shared input fuzz suite
(``ServiceBase.rpc_examples``). The subscriptions listen to ``notify.message_failed`` only, at
a port nothing listens on, so fuzzing the other services sends nothing anywhere."""

URL = "http://127.0.0.1:9/jiceng-fuzz"
EVENTS = ["notify.message_failed"]


def rpc_examples(cluster) -> dict[str, list[dict]]:
    notify = cluster.notify
    kept = notify.create_webhook({"url": URL, "event_types": EVENTS, "description": "fuzz: kept"})
    to_disable = notify.create_webhook({"url": URL, "event_types": EVENTS,
                                        "description": "fuzz: disabled"})
    return {
        "create_webhook": [{"payload": {"url": URL, "event_types": EVENTS, "township_id": 2,
                                        "description": "fuzz: example"}}],
        "list_webhooks": [{"offset": 0, "limit": 10, "include_disabled": True}],
        "get_webhook": [{"subscription_id": kept["id"]}],
        "disable_webhook": [{"subscription_id": to_disable["id"]}],
        "webhook_deliveries": [{"subscription_id": kept["id"], "offset": 0, "limit": 10,
                                "status": "failed"}],
        "list_messages": [{"offset": 0, "limit": 10, "status": "skipped",
                           "template": "ticket_opened"}],
        "preview_templates": [{}],
    }
