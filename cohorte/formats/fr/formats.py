"""French: « 17 décembre 2026 », « 17/12/2026 », « 10h42 » (the seeds' way, as the e-mail
log and the meeting lists have always shown times)."""

DATE_FORMAT = "j F Y"  # 17 décembre 2026
SHORT_DATE_FORMAT = "d/m/Y"  # 17/12/2026
TIME_FORMAT = "H\\hi"  # 10h42
DATETIME_FORMAT = "j F Y H\\hi"  # 17 décembre 2026 10h42
SHORT_DATETIME_FORMAT = "d/m/Y H\\hi"  # 17/12/2026 10h42
YEAR_MONTH_FORMAT = "F Y"  # décembre 2026
MONTH_DAY_FORMAT = "j F"  # 17 décembre
FIRST_DAY_OF_WEEK = 1

# Our own names (cohorte.core.moments, |date:"…" and |moment:"…" in templates).
SHORT_MONTH_DAY_FORMAT = "j M"  # 17 déc.
WEEKDAY_DATE_FORMAT = "l j F Y"  # jeudi 17 décembre 2026
WEEKDAY_MONTH_DAY_FORMAT = "l j F"  # jeudi 17 décembre
WEEKDAY_DATETIME_FORMAT = "l j F Y H\\hi"  # jeudi 17 décembre 2026 10h42
