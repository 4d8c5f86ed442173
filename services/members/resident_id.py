"""Resident identity numbers (GB 11643-1999): 6-digit region, 8-digit birth date, 3-digit
sequence whose last digit is odd for men and even for women, and an ISO 7064 MOD 11-2 check
character (0-9 or X)."""
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def birth_date_of(resident_id: str) -> date:
    return date(int(resident_id[6:10]), int(resident_id[10:12]), int(resident_id[12:14]))


def gender_of(resident_id: str) -> str:
    return "male" if int(resident_id[16]) % 2 else "female"


def problems(resident_id: str, birth_date: date | None = None, gender: str | None = None) -> list[str]:
    """Every reason ``resident_id`` is not acceptable (empty list when it is)."""
    if not isinstance(resident_id, str) or len(resident_id) != 18:
        return ["must be 18 characters"]
    if not resident_id.isascii() or not resident_id[:17].isdigit() \
            or not (resident_id[17].isdigit() or resident_id[17] in "Xx"):
        return ["must be 17 digits followed by a digit or X"]
    try:
        born = birth_date_of(resident_id)
    except ValueError:
        return ["contains an impossible birth date"]
    found = []
    if check_char(resident_id[:17]) != resident_id[17].upper():
        found.append("check digit does not match (GB 11643)")
    if birth_date is not None and born != birth_date:
        found.append(f"birth date {born.isoformat()} differs from birth_date {birth_date.isoformat()}")
    if gender is not None and gender_of(resident_id) != gender:
        found.append(f"sequence digit says {gender_of(resident_id)}, gender says {gender}")
    return found


def make(region: str, born: date, sequence: int, gender: str) -> str:
    """Build a valid number; ``sequence`` 0-99 picks the first two sequence digits."""
    parity = 1 if gender == "male" else 0
    last = (sequence * 7 + 3) % 5 * 2 + parity
    first17 = f"{region}{born:%Y%m%d}{sequence % 100:02d}{last}"
    return first17 + check_char(first17)


def mask(resident_id: str) -> str:
    return resident_id[:6] + "*" * 8 + resident_id[14:]
