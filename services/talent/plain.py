"""JSON-safe answers: dates as ISO strings, decimals as strings (as they travel on the wire)."""
from datetime import date, datetime
from decimal import Decimal


def plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
