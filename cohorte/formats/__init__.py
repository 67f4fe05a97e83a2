"""How each language writes dates, times and numbers (FORMAT_MODULE_PATH). Pages, e-mails
and notifications name a format (« SHORT_DATE_FORMAT », « TIME_FORMAT »…) and never write
one by hand, so a language is one convention everywhere. Both modules define the same
names: a name one of them lacks would be used as the format itself. See docs/i18n.md."""
