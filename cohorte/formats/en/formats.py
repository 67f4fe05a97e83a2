"""English: day before month, month in words, 24-hour clock — « 17 December 2026 »,
« 17 Dec 2026 », « 10:42 ». Never « 12/17/2026 » (read as 12 May by half the readers of a
bilingual organisation) nor « 10h42 » (French)."""

DATE_FORMAT = "j F Y"  # 17 December 2026
SHORT_DATE_FORMAT = "j M Y"  # 17 Dec 2026
TIME_FORMAT = "H:i"  # 10:42
DATETIME_FORMAT = "j F Y, H:i"  # 17 December 2026, 10:42
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 17 Dec 2026, 10:42
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 17 December
FIRST_DAY_OF_WEEK = 1  # Monday, as the calendar's weeks are drawn

# Our own names (see cohorte/formats/fr/formats.py).
SHORT_MONTH_DAY_FORMAT = "j M"  # 17 Dec
WEEKDAY_DATE_FORMAT = "l j F Y"  # Thursday 17 December 2026
WEEKDAY_MONTH_DAY_FORMAT = "l j F"  # Thursday 17 December
WEEKDAY_DATETIME_FORMAT = "l j F Y, H:i"  # Thursday 17 December 2026, 10:42
